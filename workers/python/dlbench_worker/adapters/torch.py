"""The torch worker: torchvision models, eager or torch.compile'd, timed behind the worker protocol.

Facts that shaped it (torch 2.11 sources and docs, read 2026-11; METHODOLOGY.md section 4):
- CUDA work is queued, so sync is torch.cuda.synchronize(device); CPU ops return finished (T1).
- torch.compile compiles on the first call, so with compile on, compile_s is that first call and
  first_call_s the second (T2, T9). The mode, graph breaks, graphs compiled and inductor cache
  hits are recorded.
- TF32: torch 2.9+ has the fp32_precision flags (generic, cuda.matmul, cudnn.conv/rnn, mkldnn.*;
  'none' inherits from the parent). Mixing them with allow_tf32 raises a RuntimeError, so this
  worker reads the new flags only; the legacy get_float32_matmul_precision() is read behind a guard
  (T3).
- torch.set_num_threads overrides OMP/MKL env vars; we set intra-op threads to the cpuset size and
  record what is observed in /proc/self/task (T10). Interop threads can be set once per process.
- nn.MultiheadAttention takes its fused fast path under inference_mode, which is what we time.
- `load` with `weights` builds the model on the meta device and assigns the file's tensors
  (load_state_dict(assign=True)); `save_weights` and `outputs` go through _canonical, the files'
  one reader and writer.
"""

import time
from dataclasses import dataclass
from typing import Any

import numpy
import torch
import torchvision

from dlbench_worker.adapters import _canonical
from dlbench_worker.adapters._base import Adapter
from dlbench_worker.adapters._common import (
    DeviceSpec,
    allowed_cpu_count,
    bad_option,
    check_model,
    check_option_names,
    env_settings,
    observed_threads,
    parse_device,
)
from dlbench_worker.models import IMAGE_SIZE, flops, torch_models
from dlbench_worker.protocol import ErrorKind, LoadRequest, WorkerError

OPTIONS = ("num_threads", "compile", "cudnn_benchmark")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class TorchOptions:
    num_threads: int | None = None
    compile: str | None = None  # a torch.compile mode, or None for eager
    cudnn_benchmark: bool | None = None  # None leaves torch's default


def parse_options(options: dict[str, Any]) -> TorchOptions:
    check_option_names("torch", options, OPTIONS)
    threads = options.get("num_threads")
    if threads is not None and (
        not isinstance(threads, int) or isinstance(threads, bool) or threads < 1
    ):
        raise bad_option("num_threads", threads, "an integer >= 1")
    mode = options.get("compile", False)
    if mode is not False and mode not in COMPILE_MODES:
        raise bad_option("compile", mode, f"false or one of {', '.join(COMPILE_MODES)}")
    benchmark = options.get("cudnn_benchmark")
    if benchmark is not None and not isinstance(benchmark, bool):
        raise bad_option("cudnn_benchmark", benchmark, "true or false")
    return TorchOptions(threads, mode or None, benchmark)


def torch_device(spec: DeviceSpec) -> torch.device:
    if spec.kind == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise WorkerError(ErrorKind.UNSUPPORTED, "cuda is not available to torch")
    count = torch.cuda.device_count()
    if spec.index >= count:
        raise WorkerError(
            ErrorKind.UNSUPPORTED,
            f"cuda:{spec.index} does not exist; torch sees {count} cuda device(s)",
        )
    return torch.device("cuda", spec.index)


class TorchAdapter(Adapter):
    framework = "torch"

    def __init__(self) -> None:
        self._fn: Any = None  # the model, or its torch.compile wrapper
        self._model: torch.nn.Module | None = None  # the eager model (self._fn shares its weights)
        self._request: LoadRequest | None = None  # the last successful load
        self._input: torch.Tensor | None = None
        self._device = torch.device("cpu")

    def load(self, req: LoadRequest) -> dict[str, Any]:
        check_model("torch", req.model)
        options = parse_options(req.options)
        device = torch_device(parse_device(req.device))
        self._device = device
        self._apply_threads(options)
        if options.cudnn_benchmark is not None:
            torch.backends.cudnn.benchmark = options.cudnn_benchmark
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)

        t0 = time.perf_counter()
        model, example = self._place(req, device)
        self.sync(example)
        load_s = time.perf_counter() - t0
        self._input, self._model = example, model
        self._fn = self._compiled(model, options.compile)
        compile_s, first_call_s, out = self._first_calls(options.compile is not None)
        self._request = req
        return {
            "parameters": torch_models.parameter_count(model),
            "flops_per_sample": flops_per_sample(req.model, req.batch),
            "load_s": load_s,
            "compile_s": compile_s,
            "first_call_s": first_call_s,
            "sync_overhead_ns": self.measure_sync_overhead_ns(out),
            "settings": self._settings(model, example, options),
            "peak_device_bytes": self.peak_device_bytes(),
        }

    @staticmethod
    def _apply_threads(options: TorchOptions) -> None:
        threads = options.num_threads or allowed_cpu_count()
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:
            pass  # allowed once per process, before inter-op work; the settings report what holds

    @staticmethod
    def _place(req: LoadRequest, device: torch.device) -> tuple[torch.nn.Module, torch.Tensor]:
        """The model and its input batch on the device, in the precision and layout asked for."""
        model = _build(req)
        model.requires_grad_(False)
        model = model.to(
            device=device, dtype=DTYPES[req.precision], memory_format=_memory_format(req)
        )
        generator = torch.Generator().manual_seed(req.seed)
        example = torch.randn(req.batch, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator)
        return model, _placed(example, req, device)

    @staticmethod
    def _compiled(model: torch.nn.Module, mode: str | None) -> Any:
        if mode is None:
            return model
        torch._dynamo.utils.counters.clear()
        return torch.compile(model, mode=mode)

    def _first_calls(self, compiled: bool) -> tuple[float | None, float, Any]:
        """(compile_s, first_call_s, output): torch.compile compiles inside the first call."""
        compile_s = None
        if compiled:
            t0 = time.perf_counter()
            try:
                self.sync(self.step())
            except torch.cuda.OutOfMemoryError:
                raise
            except Exception as e:  # noqa: BLE001 - dynamo and inductor raise many types
                raise WorkerError(
                    ErrorKind.COMPILE_FAILED, f"torch.compile: {type(e).__name__}: {e}"
                ) from e
            compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = self.step()
        self.sync(out)
        return compile_s, time.perf_counter() - t0, out

    def step(self) -> torch.Tensor:
        with torch.inference_mode():
            return self._fn(self._input)

    def save_weights(self, path: str) -> dict[str, Any]:
        assert self._model is not None and self._request is not None  # the server checks load
        state = {
            key: value.detach().to("cpu", torch.float32).contiguous().numpy()
            for key, value in torch_models.canonical_state(self._model).items()
        }
        return _canonical.write_weights(path, state, self._request.model, self.framework)

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        """One call of the timed forward (self._fn, inference mode) on the file's input, which
        may have another batch size than the loaded one (torch.compile then recompiles)."""
        assert self._request is not None  # the server checks load
        req = self._request
        x = _placed(torch.tensor(_canonical.read_input(input_path)), req, self._device)
        with torch.inference_mode():
            out = self._fn(x)
        self.sync(out)
        logits = out.detach().to("cpu", torch.float32).numpy()
        return _canonical.write_outputs(
            output_path, logits, req.model, self.framework, req.precision
        )

    def sync(self, out: Any) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)

    def peak_device_bytes(self) -> int | None:
        if self._device.type != "cuda":
            return None
        return int(torch.cuda.max_memory_allocated(self._device))

    def versions(self) -> dict[str, str]:
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        return {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "numpy": numpy.__version__,
            "cuda": str(torch.version.cuda),
            "cudnn": str(cudnn),
        }

    def devices(self) -> list[dict[str, Any]]:
        found = super().devices()
        if torch.cuda.is_available():
            found += [
                {"id": f"cuda:{i}", "kind": "cuda", "name": torch.cuda.get_device_name(i)}
                for i in range(torch.cuda.device_count())
            ]
        return found

    def _settings(
        self, model: torch.nn.Module, example: torch.Tensor, options: TorchOptions
    ) -> dict[str, Any]:
        """What the framework reports after load, never what was asked for."""
        settings = {
            "layout": _layout(example),
            "weights_layout": _layout(next(p for p in model.parameters() if p.dim() == 4)),
            "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
            "device": str(example.device),
            "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(),
            "observed_threads": observed_threads(),
            **precision_settings(self._device),
            "cudnn_enabled": torch.backends.cudnn.enabled,
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "cudnn_deterministic": torch.backends.cudnn.deterministic,
            "mkldnn_enabled": torch.backends.mkldnn.enabled,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "mha_fastpath_enabled": torch.backends.mha.get_fastpath_enabled(),
            "inference_mode": True,
            **compile_settings(options.compile),
            **env_settings(_THREAD_ENV),
        }
        if self._device.type == "cuda":
            settings["cuda_max_memory_reserved_bytes"] = int(
                torch.cuda.max_memory_reserved(self._device)
            )
        return settings


def _build(req: LoadRequest) -> torch.nn.Module:
    """The model on the CPU in fp32: weights from the request's file, else drawn from its seed."""
    if req.weights is None:
        return torch_models.build(req.model, req.seed)
    tensors = _canonical.read_tensors(req.weights, "weights")
    model = torch_models.build_meta(req.model)
    expected = {k: tuple(v.shape) for k, v in torch_models.canonical_state(model).items()}
    _canonical.check_weights(req.model, req.weights, tensors, expected)
    # torch.tensor copies: the file's arrays are read-only views of its bytes.
    return torch_models.load_canonical(model, {k: torch.tensor(v) for k, v in tensors.items()})


def _memory_format(req: LoadRequest) -> torch.memory_format:
    return torch.channels_last if req.layout == "channels_last" else torch.contiguous_format


def _placed(x: torch.Tensor, req: LoadRequest, device: torch.device) -> torch.Tensor:
    """An input batch on the device in the request's precision and layout."""
    return x.to(device=device, dtype=DTYPES[req.precision], memory_format=_memory_format(req))


def _layout(tensor: torch.Tensor) -> str:
    channels_last = (
        tensor.is_contiguous(memory_format=torch.channels_last) and not tensor.is_contiguous()
    )
    return "NHWC" if channels_last else "NCHW"


def _fp32_flag(backend: str, op: str) -> str:
    return torch._C._get_fp32_precision_getter(backend, op)


def _effective(backend: str, op: str) -> str:
    """The precision an op class gets: its own flag, else its backend's, else the generic one
    ('none' means inherit; the generic 'none' is full fp32, 'ieee')."""
    for flag in (_fp32_flag(backend, op), _fp32_flag(backend, "all"), _fp32_flag("generic", "all")):
        if flag != "none":
            return flag
    return "ieee"


def precision_settings(device: torch.device) -> dict[str, Any]:
    """fp32 precision per op class, read from the new flags only (never allow_tf32: see T3)."""
    backend = "cuda" if device.type == "cuda" else "mkldnn"
    settings: dict[str, Any] = {
        "matmul_fp32_precision": _effective(backend, "matmul"),
        "conv_fp32_precision": _effective(backend, "conv"),
        "fp32_precision_generic": _fp32_flag("generic", "all"),
        "fp32_precision_cuda_matmul": _fp32_flag("cuda", "matmul"),
        "fp32_precision_cudnn_conv": _fp32_flag("cuda", "conv"),
        "fp32_precision_cudnn_rnn": _fp32_flag("cuda", "rnn"),
        "fp32_precision_mkldnn_matmul": _fp32_flag("mkldnn", "matmul"),
        "fp32_precision_mkldnn_conv": _fp32_flag("mkldnn", "conv"),
    }
    try:
        settings["float32_matmul_precision"] = torch.get_float32_matmul_precision()
    except RuntimeError as e:  # raised when legacy and new flags were mixed before us
        settings["float32_matmul_precision"] = f"unreadable: {e}"
    return settings


def compile_settings(mode: str | None) -> dict[str, Any]:
    """Mode, graphs and graph breaks (T9), and whether inductor's on-disk cache served the compile
    (T2: a hit cut resnet18's compile on 2 cores from 77 s to 13 s, measured 2026-11)."""
    if mode is None:
        return {"compile": False}
    counters = torch._dynamo.utils.counters
    return {
        "compile": mode,
        "compile_backend": "inductor",
        "compile_graph_breaks": sum(counters["graph_break"].values()),
        "compile_unique_graphs": counters["stats"]["unique_graphs"],
        "compile_fxgraph_cache_hits": counters["inductor"]["fxgraph_cache_hit"],
        "compile_fxgraph_cache_misses": counters["inductor"]["fxgraph_cache_miss"],
        "compile_cache_dir": _inductor_cache_dir(),
    }


def _inductor_cache_dir() -> str | None:
    try:
        from torch._inductor.runtime.cache_dir_utils import cache_dir
    except ImportError:  # a private module; its absence must not fail a load
        return None
    return cache_dir()


def flops_per_sample(model: str, batch: int) -> int:
    """Counted on the meta device (shapes only, nothing computed), fp32.

    The count does not depend on
    precision, layout or device."""
    with torch.device("meta"):
        meta_model = torch_models.build(model, seed=0)
        example = torch.empty(batch, 3, IMAGE_SIZE, IMAGE_SIZE)
    return flops.count_torch(meta_model, example) // batch


def create() -> TorchAdapter:
    return TorchAdapter()
