"""The torch worker: torchvision models, eager or torch.compile'd, timed behind the worker protocol.

Facts that shaped it (torch 2.11 sources and docs, read 2026-11; docs/methodology.md section 4):
- CUDA work is queued, so sync is torch.cuda.synchronize(device); CPU ops return finished (T1).
- torch.compile compiles on the first call, so with compile on, compile_s is that first call and
  first_call_s the second (T2, T9). The mode, graph breaks, graphs compiled and inductor cache
  hits are recorded.
- TF32: torch 2.9+ has the fp32_precision flags (generic, cuda.matmul, cudnn.conv/rnn, mkldnn.*;
  'none' inherits from the parent). Mixing them with allow_tf32 raises a RuntimeError, so this
  worker reads and sets the new flags only; the legacy get_float32_matmul_precision() is read
  behind a guard (T3), since it raises when the cuda and mkldnn matmul flags differ. The
  `fp32_precision` option sets cuda.matmul and cudnn.conv/rnn ("tf32", cuda only) or those and
  mkldnn.matmul/conv/rnn ("ieee", so a CPU run is explicitly strict). Out of the box (2.11)
  cudnn.conv is "tf32" and the rest "none", i.e. TF32 convolutions and ieee matmuls on a GPU.
- torch.set_num_threads overrides OMP/MKL env vars; we set intra-op threads to the cpuset size and
  record what is observed in /proc/self/task (T10). Interop threads can be set once per process.
- nn.MultiheadAttention takes its fused fast path under inference_mode, which is what we time.
- `probe` times torch.mm into a preallocated output and dst.copy_(src), each synced alone
  (adapters/_probe.py). For fp32 and tf32 it sets the matmul's fp32_precision flag (cuda or mkldnn)
  to "ieee" or "tf32" for the probe only and restores it. Its peak memory does not count as the
  model's: the peak since load is kept aside and the allocator's peak reset after a probe.
- `load` with `weights` builds the model on the meta device and assigns the file's tensors
  (load_state_dict(assign=True)); `save_weights` and `outputs` go through _canonical, the files'
  one reader and writer.
- Training (mode "training", _torch_training.py): step() is one training step and returns the loss.
  The parameters stay fp32 whatever the precision (bf16 is autocast), and so does the input, which
  autocast casts where a bf16 operation reads it. load's first calls are warm-up steps whose updates
  are undone (weights and buffers put back, optimizer state emptied), so measure and train start
  from the loaded weights.
"""

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy
import torch
import torchvision

from dlbench_worker import capabilities
from dlbench_worker.adapters import (
    _canonical,
    _dataset,
    _generation,
    _probe,
    _torch_training,
    _training,
)
from dlbench_worker.adapters._base import Adapter, cpu_name
from dlbench_worker.adapters._common import (
    DeviceSpec,
    allocator_settings,
    allowed_cpu_count,
    bad_option,
    check_model,
    check_option_names,
    check_tf32,
    check_tf32_capability,
    env_settings,
    observed_threads,
    parse_device,
)
from dlbench_worker.models import IMAGE_SIZE, flops, torch_models
from dlbench_worker.protocol import (
    ErrorKind,
    LoadRequest,
    ProbeRequest,
    WorkerError,
    load_optimizer,
)

OPTIONS = capabilities.TORCH.accepted_options
FP32_PRECISIONS = ("ieee", "tf32")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
OUTPUTS_IN_TRAINING = (
    "outputs runs the inference forward: load with mode inference for it (a training load's "
    "weights are checked with train and save_weights)"
)


@dataclass(frozen=True)
class TorchOptions:
    num_threads: int | None = None
    compile: str | None = None  # a torch.compile mode, or None for eager
    cudnn_benchmark: bool | None = None  # None leaves torch's default
    fp32_precision: str | None = None  # one of FP32_PRECISIONS; None leaves torch's flags alone


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
    fp32_precision = options.get("fp32_precision")
    if fp32_precision is not None and fp32_precision not in FP32_PRECISIONS:
        raise bad_option("fp32_precision", fp32_precision, f"one of {', '.join(FP32_PRECISIONS)}")
    return TorchOptions(threads, mode or None, benchmark, fp32_precision)


def apply_fp32_precision(value: str) -> None:
    """Sets the fp32_precision flags for the option (never allow_tf32: see the module docstring).
    "ieee" also pins mkldnn's, so that a CPU run is explicitly strict."""
    flags = [torch.backends.cuda.matmul, torch.backends.cudnn.conv, torch.backends.cudnn.rnn]
    if value == "ieee":
        mkldnn = torch.backends.mkldnn
        flags += [mkldnn.matmul, mkldnn.conv, mkldnn.rnn]
    for flag in flags:
        flag.fp32_precision = value


def write_weights(path: str, state: dict[str, torch.Tensor], model: str, framework: str) -> dict[str, Any]:
    """A canonical state dict written as the canonical weights file (float32, on the host): the
    save_weights of every adapter on torch."""
    arrays = {
        key: value.detach().to("cpu", torch.float32).contiguous().numpy()
        for key, value in state.items()
    }
    return _canonical.write_weights(path, arrays, model, framework)


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
        self._trainer: _torch_training.Trainer | None = None  # set by a training load
        self._request: LoadRequest | None = None  # the last successful load
        self._options: TorchOptions | None = None  # the last successful load's
        self._input: torch.Tensor | None = None
        self._device = torch.device("cpu")
        # The allocator's peak since load before the last probe on the loaded device, whose own
        # buffers must not count as the model's (the probe resets the allocator's peak).
        self._peak_before_probe_bytes = 0
        self._generation: Adapter | None = None  # made at the first generation load

    def generation(self) -> Adapter:
        if self._generation is None:
            from dlbench_worker.adapters._torch_generation import TorchGeneration

            self._generation = TorchGeneration()
        return self._generation

    def load(self, req: LoadRequest) -> dict[str, Any]:
        _generation.check_model("torch", req)
        check_model("torch", req.model)
        optimizer = load_optimizer(req)  # None for inference
        if optimizer is not None:
            _training.check_precision(req.precision)
        options = parse_options(req.options)
        spec = parse_device(req.device)
        if options.fp32_precision == "tf32":
            check_tf32("fp32_precision tf32", spec)
        device = torch_device(spec)
        self._device = device
        self._apply_threads(options)
        if options.cudnn_benchmark is not None:
            torch.backends.cudnn.benchmark = options.cudnn_benchmark
        if options.fp32_precision is not None:
            apply_fp32_precision(options.fp32_precision)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        self._peak_before_probe_bytes = 0

        self._trainer = None
        t0 = time.perf_counter()
        model, example = self._place(req, device)
        self.sync(example)
        load_s = time.perf_counter() - t0
        self._input, self._model = example, model
        self._fn = self._compiled(model, options.compile)
        if optimizer is not None:
            self._trainer = self._make_trainer(req, model, optimizer)
        compile_s, first_call_s, out = self._first_calls(options.compile is not None)
        settings = self._settings(model, example, options)
        flops_per = flops_per_sample(req.model, req.batch)
        if self._trainer is not None:
            settings.update(self._training_settings(req, optimizer.name))
            self._trainer.restore_initial()
            flops_per = flops.training_flops(flops_per)
        self._request, self._options = req, options
        return {
            "parameters": torch_models.parameter_count(model),
            "flops_per_sample": flops_per,
            "load_s": load_s,
            "compile_s": compile_s,
            "first_call_s": first_call_s,
            "sync_overhead_ns": self.measure_sync_overhead_ns(out),
            "settings": settings,
            "peak_device_bytes": self.peak_device_bytes(),
        }

    def _make_trainer(
        self, req: LoadRequest, model: torch.nn.Module, optimizer: Any
    ) -> _torch_training.Trainer:
        """Train mode, optimizer and labels; the weights kept aside until the first calls end."""
        labels = torch.tensor(_training.labels(req.seed, req.batch), device=self._device)
        trainer = _torch_training.Trainer(
            model, optimizer, labels, self._device.type, bf16=req.precision == "bf16"
        )
        trainer.fn = self._fn
        trainer.keep_initial()
        return trainer

    def _training_settings(self, req: LoadRequest, name: str) -> dict[str, Any]:
        """Read after the first calls, before their updates are undone: the optimizer's state
        exists only after a step."""
        trainer = self._trainer
        assert trainer is not None
        return {
            **_training.settings(
                req.precision,
                trainer.optimizer_settings(name),
                trainer.parameter_bytes(),
                trainer.optimizer_state_bytes(),
                _torch_training.batch_norm_state(trainer.model),
                _torch_training.dropout_state(trainer.model),
            ),
            "inference_mode": False,
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
        """The model and its input batch on the device, in the precision and layout asked for
        (fp32 for training: see the module docstring)."""
        model = _build(req)
        model.requires_grad_(False)
        model = model.to(device=device, dtype=_dtype(req), memory_format=_memory_format(req))
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
        if self._trainer is not None:
            return self._trainer.step(self._input)
        with torch.inference_mode():
            return self._fn(self._input)

    def train(self, steps: int, input_path: str) -> list[float]:
        """Training steps on the file's batch, each synced by reading its loss."""
        assert self._trainer is not None and self._request is not None  # the server checks load
        x = torch.tensor(_canonical.read_input(input_path))
        _training.check_batch(input_path, x.shape[0], self._request.batch)
        x = _placed(x, self._request, self._device)
        return [float(self._trainer.step(x)) for _ in range(steps)]

    def fit(self, dataset: str, epochs: int) -> list[dict[str, Any]]:
        """Epochs over a dataset from the load's initial weights (built again from the seed or
        the weights file), with the load's optimizer, precision, layout and compile mode. A
        warm-up step (torch.compile compiles in it) is undone before the first epoch."""
        req, options = self._request, self._options
        assert req is not None and options is not None  # the server checks a training load
        _dataset.check_model(req.model, dataset)
        data = _dataset.load(dataset)
        optimizer = load_optimizer(req)
        device = self._device
        model = _build(req).to(device=device, dtype=torch.float32, memory_format=_memory_format(req))
        trainer = _torch_training.Trainer(
            model, optimizer, torch.zeros(0), device.type, bf16=req.precision == "bf16"
        )
        trainer.fn = self._compiled(model, options.compile)

        def train_step(x: Any, y: Any) -> torch.Tensor:
            trainer.labels = torch.from_numpy(y).to(device)
            return trainer.step(_placed(torch.from_numpy(x), req, device))

        def predict(x: Any) -> Any:
            model.eval()
            with torch.inference_mode():
                classes = model(_placed(torch.from_numpy(x), req, device)).argmax(dim=1)
            _torch_training.train_mode(model)
            return classes.cpu().numpy()

        hooks = _FitHooks(train_step, lambda loss: float(loss), predict)
        trainer.keep_initial()
        hooks.wait(train_step(data.train_x[: req.batch], data.train_y[: req.batch]))
        trainer.restore_initial()
        return _dataset.fit(hooks, data, epochs, req.batch, req.seed)

    def save_weights(self, path: str) -> dict[str, Any]:
        assert self._model is not None and self._request is not None  # the server checks load
        return write_weights(
            path, torch_models.canonical_state(self._model), self._request.model, self.framework
        )

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        """One call of the timed forward (self._fn, inference mode) on the file's input, which
        may have another batch size than the loaded one (torch.compile then recompiles)."""
        assert self._request is not None  # the server checks load
        req = self._request
        if self._trainer is not None:
            raise WorkerError(ErrorKind.UNSUPPORTED, OUTPUTS_IN_TRAINING)
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
        peak = int(torch.cuda.max_memory_allocated(self._device))
        return max(self._peak_before_probe_bytes, peak)

    def probe(self, req: ProbeRequest) -> dict[str, Any]:
        """Matmul and copy through torch on the probe's device, apart from any loaded model."""
        probe = _probe.plan(req)
        device = torch_device(probe.device)
        name = _device_name(device)
        if req.precision == "tf32":
            capability = torch.cuda.get_device_capability(device)
            check_tf32_capability("precision tf32", probe.device_id, name, capability)
        if device.type == "cpu" and self._request is None:
            torch.set_num_threads(allowed_cpu_count())  # what a load without num_threads sets
        loaded_here = self._request is not None and device == self._device
        peak_before = self.peak_device_bytes() if loaded_here else None
        try:
            with _probe_fp32_precision(device, req.precision):
                matmul_ns = _probe_matmul(device, probe)
            copy_ns = _probe_copy(device, probe)
        finally:
            self._after_probe(device, peak_before)
        return _probe.reply(probe, name, matmul_ns, copy_ns)

    def _after_probe(self, device: torch.device, peak_before: int | None) -> None:
        """Keeps the probe's buffers out of the loaded model's peak (peak_before: the peak since
        load, None when nothing is loaded on `device`). Before any load, the cached blocks go back
        to the driver; after one they stay, as the model's own cached blocks do (empty_cache
        would free those too, on every device)."""
        if device.type != "cuda":
            return
        if peak_before is not None:
            self._peak_before_probe_bytes = peak_before
        if self._request is None:
            torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)

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
            "workload": "inference",
            **compile_settings(options.compile),
            **env_settings(_THREAD_ENV),
            **allocator_settings(),
        }
        if self._device.type == "cuda":
            settings["cuda_max_memory_reserved_bytes"] = int(
                torch.cuda.max_memory_reserved(self._device)
            )
        return settings


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()


def _device_sync(device: torch.device) -> Callable[[Any], None]:
    if device.type == "cuda":
        return lambda _: torch.cuda.synchronize(device)
    return lambda _: None  # CPU ops return finished


@contextlib.contextmanager
def _probe_fp32_precision(device: torch.device, precision: str) -> Iterator[None]:
    """For fp32 inputs, the device's matmul flag at "ieee" (fp32) or "tf32" (tf32) for the probe
    only; the flag is restored after, so a loaded model runs as it was loaded."""
    if precision not in ("fp32", "tf32"):
        yield
        return
    flag = torch.backends.cuda.matmul if device.type == "cuda" else torch.backends.mkldnn.matmul
    before = flag.fp32_precision
    flag.fp32_precision = "tf32" if precision == "tf32" else "ieee"
    try:
        yield
    finally:
        flag.fp32_precision = before


def _probe_matmul(device: torch.device, probe: _probe.ProbePlan) -> list[int]:
    """torch.mm of two random N x N matrices into a preallocated output, each call synced."""
    dtype = DTYPES["fp32" if probe.precision == "tf32" else probe.precision]
    n = probe.matmul_n
    generator = torch.Generator(device=device).manual_seed(0)  # leaves the global RNG alone
    a = torch.randn(n, n, device=device, dtype=dtype, generator=generator)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=generator)
    c = torch.empty(n, n, device=device, dtype=dtype)
    sync = _device_sync(device)

    def call() -> torch.Tensor:
        return torch.mm(a, b, out=c)

    _probe.first_call(call, sync, refused_as=probe.matmul_refusal)
    return _probe.time_calls(call, sync, probe.half_s)


def _probe_copy(device: torch.device, probe: _probe.ProbePlan) -> list[int]:
    """dst.copy_(src) between two preallocated float32 buffers of copy_bytes each."""
    src = torch.ones(probe.copy_bytes // 4, device=device, dtype=torch.float32)  # pages written
    dst = torch.empty_like(src)
    sync = _device_sync(device)

    def call() -> torch.Tensor:
        return dst.copy_(src)

    _probe.first_call(call, sync)
    return _probe.time_calls(call, sync, probe.half_s)


@dataclass(frozen=True)
class _FitHooks:
    """_dataset.FitHooks from three functions."""

    train_step: Callable[[Any, Any], Any]
    wait: Callable[[Any], float]
    predict: Callable[[Any], Any]


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


def _dtype(req: LoadRequest) -> torch.dtype:
    """The parameters' and input's dtype: the precision's, but fp32 for training (master weights;
    bf16 is autocast)."""
    return torch.float32 if req.mode == "training" else DTYPES[req.precision]


def _memory_format(req: LoadRequest) -> torch.memory_format:
    return torch.channels_last if req.layout == "channels_last" else torch.contiguous_format


def _placed(x: torch.Tensor, req: LoadRequest, device: torch.device) -> torch.Tensor:
    """An input batch on the device in the request's precision and layout."""
    return x.to(device=device, dtype=_dtype(req), memory_format=_memory_format(req))


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
        "fp32_precision_mkldnn_rnn": _fp32_flag("mkldnn", "rnn"),
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
