"""The jax worker: the Flax twins of the torchvision models (models/flax_models.py), jit-compiled.

Facts that shaped it (JAX docs and openxla sources, read 2026-11; docs/methodology.md section 4):
- JAX preallocates 75% of GPU memory at the first op unless XLA_PYTHON_CLIENT_PREALLOCATE=false,
  read when the backend starts; we set it before importing jax unless the user did, and record it
  (T5).
- Dispatch is asynchronous: sync is block_until_ready on the output (T1).
- The first call traces, compiles and autotunes. We compile ahead of time with
  jit(...).lower(...).compile() so compile_s and first_call_s are apart, and step calls that
  compiled executable, so nothing is compiled again in the timed loop (T2).
- fp32 dots may run in TF32 on recent GPUs at the DEFAULT precision; the `matmul_precision` option
  sets jax_default_matmul_precision before tracing, and the settings report the config read back
  (T3). "tensorfloat32" on a CPU device is refused as unsupported: XLA's CPU backend would run it in
  fp32 under a TF32 label.
- Flax convolutions take NHWC; channels_first is not offered (T4).
- --xla_gpu_autotune_level defaults to 4 (openxla debug_options_flags.cc); XLA_FLAGS is recorded
  (T7).
- device.memory_stats() peaks span the process with no reset (jax#8096): one load per worker (T6).
- `probe` (adapters/_probe.py) times jnp.dot at Precision.HIGHEST (fp32) or DEFAULT (tf32, which
  is TF32 on Ampere and later: "Matmul precision", JAX docs, read 2026-11) and a copy, both
  jitted (the first, untimed call compiles). The copy is jit(lambda src, dst: src.copy()) with dst
  donated: the compiled HLO is `ROOT copy(src)` with the output aliasing dst (seen on the CPU,
  jax 0.11.2), so every call reads and writes the whole buffer and allocates nothing. XLA cannot
  elide it: src is not donated, so an output may not share its buffer; the first call checks
  that it does not. The matmul's output buffer is donated the same way. jax's peak memory cannot
  be reset (T6), so on a GPU a probe that raised the process's peak makes peak_device_bytes null
  until the model exceeds it.
- Canonical weights (torchvision's layout, docs/protocol.md) go through models/convert.py both
  ways, and the files through _canonical; neither imports torch, and neither may: the jax worker
  runs where torch is not installed. `outputs` takes NCHW and transposes it to NHWC; another batch
  size than the loaded one is compiled on the spot (untimed).
- Training (mode "training", _jax_training.py): step() is one jitted training step with params,
  optimizer state and batch_stats donated, returning the loss; compile_s is its trace, lowering and
  compilation. The parameters stay fp32 whatever the precision (bf16 casts them inside the step);
  the input is placed in the precision's dtype, as for inference. load's first call is a warm-up
  step whose update is undone (weights put back from a host copy, optimizer state initialised
  again), so measure and train start from the loaded weights.
"""

# ruff: noqa: E402 - the environment must be set before jax is imported
import os

_PREALLOCATE = "XLA_PYTHON_CLIENT_PREALLOCATE"
PREALLOCATE_SET_BY_WORKER = _PREALLOCATE not in os.environ
os.environ.setdefault(_PREALLOCATE, "false")

import re
import time
from dataclasses import dataclass
from typing import Any

import flax
import jax
import jax.numpy as jnp
import jaxlib
import numpy
import optax

from dlbench_worker import capabilities
from dlbench_worker.adapters import (
    _canonical,
    _dataset,
    _generation,
    _jax_training,
    _probe,
    _training,
)
from dlbench_worker.adapters._base import Adapter, cpu_name
from dlbench_worker.adapters._common import (
    DeviceSpec,
    allocator_settings,
    bad_option,
    check_model,
    check_option_names,
    check_tf32,
    check_tf32_capability,
    env_settings,
    observed_threads,
    parse_device,
)
from dlbench_worker.models import IMAGE_SIZE, convert, flax_models, flops
from dlbench_worker.protocol import (
    ErrorKind,
    LoadRequest,
    ProbeRequest,
    WorkerError,
    load_optimizer,
)

OPTIONS = capabilities.JAX.accepted_options
OUTPUTS_IN_TRAINING = (
    "outputs runs the inference forward: load with mode inference for it (a training load's "
    "weights are checked with train and save_weights)"
)
MATMUL_PRECISIONS = ("default", "float32", "tensorfloat32", "bfloat16", "highest")
DTYPES = {"fp32": jnp.float32, "bf16": jnp.bfloat16, "fp16": jnp.float16}
_MEMORY_ENV = (
    "XLA_PYTHON_CLIENT_PREALLOCATE",
    "XLA_CLIENT_MEM_FRACTION",
    "XLA_PYTHON_CLIENT_MEM_FRACTION",
    "XLA_PYTHON_CLIENT_ALLOCATOR",
)
_AUTOTUNE_RE = re.compile(r"--xla_gpu_autotune_level=(\d+)")


@dataclass(frozen=True)
class JaxOptions:
    matmul_precision: str | None = None  # None leaves jax's configured value


def parse_options(options: dict[str, Any]) -> JaxOptions:
    check_option_names("jax", options, OPTIONS)
    precision = options.get("matmul_precision")
    if precision is not None and precision not in MATMUL_PRECISIONS:
        raise bad_option("matmul_precision", precision, f"one of {', '.join(MATMUL_PRECISIONS)}")
    return JaxOptions(precision)


def jax_device(spec: DeviceSpec) -> jax.Device:
    if spec.kind == "cpu":
        return jax.devices("cpu")[0]
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        raise WorkerError(
            ErrorKind.UNSUPPORTED, "cuda is not available to jax (no gpu backend)"
        ) from None
    if spec.index >= len(gpus):
        raise WorkerError(
            ErrorKind.UNSUPPORTED, f"cuda:{spec.index} does not exist; jax sees {len(gpus)} gpu(s)"
        )
    return gpus[spec.index]


class JaxAdapter(Adapter):
    framework = "jax"

    def __init__(self) -> None:
        self._compiled: Any = None  # jax.stages.Compiled of model.apply
        self._model: Any = None  # the flax_models module
        self._variables: Any = None  # None in training: the trainer holds them
        self._trainer: _jax_training.Trainer | None = None  # set by a training load
        self._input: jax.Array | None = None
        self._device: jax.Device | None = None
        self._request: LoadRequest | None = None  # the last successful load
        self._other_batches: dict[tuple[int, ...], Any] = {}  # input shape -> Compiled, outputs
        # Per GPU (device id): the process's peak after a probe that raised it; below it, the
        # model's own peak is unknown, since jax cannot reset peaks (T6).
        self._probe_peak_bytes: dict[int, int] = {}
        self._generation: Adapter | None = None  # made at the first generation load

    def generation(self) -> Adapter:
        if self._generation is None:
            from dlbench_worker.adapters._jax_generation import JaxGeneration

            self._generation = JaxGeneration()
        return self._generation

    def load(self, req: LoadRequest) -> dict[str, Any]:
        _generation.check_model("jax", req)
        check_model("jax", req.model)
        optimizer = load_optimizer(req)  # None for inference
        if optimizer is not None:
            _training.check_precision(req.precision)
        if req.layout not in capabilities.JAX.layouts:  # channels_first
            raise WorkerError(
                ErrorKind.UNSUPPORTED,
                "Flax convolutions take NHWC; the jax worker has no channels_first",
            )
        options = parse_options(req.options)
        spec = parse_device(req.device)
        if options.matmul_precision == "tensorfloat32":
            check_tf32("matmul_precision tensorfloat32", spec)
        device = jax_device(spec)
        if options.matmul_precision is not None:
            jax.config.update("jax_default_matmul_precision", options.matmul_precision)
        self._device = device
        self._trainer = None

        t0 = time.perf_counter()
        model = flax_models.build(req.model)
        variables, example = _place(req, device)
        load_s = time.perf_counter() - t0
        self._variables, self._input, self._model = variables, example, model
        self._other_batches = {}
        if optimizer is not None:
            return self._load_training(req, optimizer, load_s)
        t0 = time.perf_counter()
        self._compiled = self._compile(example)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = self.step()
        self.sync(out)
        first_call_s = time.perf_counter() - t0
        self._request = req
        return {
            "parameters": flax_models.parameter_count(variables),
            "flops_per_sample": flops_per_sample(model, variables, example),
            "load_s": load_s,
            "compile_s": compile_s,
            "first_call_s": first_call_s,
            "sync_overhead_ns": self.measure_sync_overhead_ns(out),
            "settings": {**self._settings(device, variables), "workload": "inference"},
            "peak_device_bytes": self.peak_device_bytes(),
        }

    def _load_training(self, req: LoadRequest, optimizer: Any, load_s: float) -> dict[str, Any]:
        """The training half of load: compile the step, make the first (warm-up) step, read the
        settings, undo the step's update (module docstring)."""
        assert self._device is not None and self._input is not None
        variables, example, device = self._variables, self._input, self._device
        inference_flops = flops_per_sample(self._model, variables, example)
        labels = jnp.asarray(_training.labels(req.seed, req.batch), jnp.int32)
        labels = jax.device_put(labels, device)
        trainer = _jax_training.Trainer(
            self._model, variables, labels, optimizer, bf16=req.precision == "bf16"
        )
        self._trainer, self._variables = trainer, None  # the step donates variables' buffers
        trainer.keep_initial()
        t0 = time.perf_counter()
        _compiling(lambda: trainer.compile(example))
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = self.step()
        self.sync(out)
        first_call_s = time.perf_counter() - t0
        settings = {
            **self._settings(device, trainer.variables()),  # variables' buffers are donated
            **_training.settings(
                req.precision,
                trainer.optimizer_settings(),
                _jax_training.tree_bytes(trainer.params),
                _jax_training.tree_bytes(trainer.opt_state),
                "train" if trainer.batch_stats else "none",
                "off",  # the Flax models have no dropout (models/flax_models.py)
            ),
            "donated": trainer.donated(),
        }
        sync_overhead_ns = self.measure_sync_overhead_ns(out)
        trainer.restore_initial(device)
        self._request = req
        return {
            "parameters": flax_models.parameter_count(trainer.variables()),
            "flops_per_sample": flops.training_flops(inference_flops),
            "load_s": load_s,
            "compile_s": compile_s,
            "first_call_s": first_call_s,
            "sync_overhead_ns": sync_overhead_ns,
            "settings": settings,
            "peak_device_bytes": self.peak_device_bytes(),
        }

    def _compile(self, example: jax.Array) -> Any:
        """model.apply compiled for the loaded variables and an input of example's shape."""
        return _compiling(
            lambda: jax.jit(self._model.apply).lower(self._variables, example).compile()
        )

    def step(self) -> jax.Array:
        if self._trainer is not None:
            return self._trainer.step(self._input)
        return self._compiled(self._variables, self._input)

    def train(self, steps: int, input_path: str) -> list[float]:
        """Training steps on the file's batch (NCHW -> NHWC), each synced by reading its loss."""
        assert self._trainer is not None and self._request is not None  # the server checks load
        assert self._input is not None
        nhwc = _canonical.read_input(input_path).transpose(0, 2, 3, 1)
        _training.check_batch(input_path, nhwc.shape[0], self._request.batch)
        x = jax.device_put(jnp.asarray(nhwc).astype(self._input.dtype), self._device)
        return [float(self._trainer.step(x)) for _ in range(steps)]

    def fit(self, dataset: str, epochs: int) -> list[dict[str, Any]]:
        """Epochs over a dataset from the load's initial weights (drawn again from the seed, or the
        weights file), with the load's optimizer and precision, the step compiled for the
        dataset's images (NHWC); its first (warm-up) step is undone before the first epoch."""
        req, device = self._request, self._device
        assert req is not None and device is not None  # the server checks a training load
        _dataset.check_model(req.model, dataset)
        data = _dataset.load(dataset)
        variables = jax.tree_util.tree_map(
            lambda a: jax.device_put(a.astype(jnp.float32), device), _initial_variables(req)
        )
        model = self._model
        labels = jax.device_put(jnp.zeros((req.batch,), jnp.int32), device)
        trainer = _jax_training.Trainer(
            model, variables, labels, load_optimizer(req), bf16=req.precision == "bf16"
        )
        predict_fn = jax.jit(lambda v, x: jnp.argmax(model.apply(v, x, train=False), axis=-1))

        def placed(x: Any) -> jax.Array:
            return jax.device_put(jnp.asarray(x.transpose(0, 2, 3, 1)), device)

        def train_step(x: Any, y: Any) -> jax.Array:
            trainer.labels = jax.device_put(jnp.asarray(y, jnp.int32), device)
            return trainer.step(placed(x))

        def predict(x: Any) -> Any:
            return numpy.asarray(predict_fn(trainer.variables(), placed(x)))

        trainer.keep_initial()
        _compiling(lambda: trainer.compile(placed(data.train_x[: req.batch])))
        float(train_step(data.train_x[: req.batch], data.train_y[: req.batch]))
        trainer.restore_initial(device)
        hooks = _FitHooks(train_step, lambda loss: float(loss), predict)
        return _dataset.fit(hooks, data, epochs, req.batch, req.seed)

    def save_weights(self, path: str) -> dict[str, Any]:
        assert self._request is not None  # the server checks load
        variables = self._variables if self._trainer is None else self._trainer.variables()
        state = convert.flax_to_torch(self._request.model, variables)
        return _canonical.write_weights(path, state, self._request.model, self.framework)

    def outputs(self, input_path: str, output_path: str) -> dict[str, Any]:
        """The compiled forward on the file's input (NCHW -> NHWC), in the loaded precision and on
        the loaded device; another batch size is compiled once for it, outside any timing."""
        assert self._request is not None and self._input is not None  # the server checks load
        req = self._request
        if self._trainer is not None:
            raise WorkerError(ErrorKind.UNSUPPORTED, OUTPUTS_IN_TRAINING)
        nhwc = _canonical.read_input(input_path).transpose(0, 2, 3, 1)
        x = jax.device_put(jnp.asarray(nhwc).astype(self._input.dtype), self._device)
        if x.shape == self._input.shape:
            compiled = self._compiled
        else:
            if x.shape not in self._other_batches:
                self._other_batches[x.shape] = self._compile(x)
            compiled = self._other_batches[x.shape]
        out = compiled(self._variables, x)
        self.sync(out)
        return _canonical.write_outputs(
            output_path, numpy.asarray(out, numpy.float32), req.model, self.framework, req.precision
        )

    def sync(self, out: Any) -> None:
        out.block_until_ready()

    def peak_device_bytes(self) -> int | None:
        if self._device is None or self._device.platform != "gpu":
            return None
        peak = _peak_bytes(self._device)
        if peak is not None and peak <= self._probe_peak_bytes.get(self._device.id, -1):
            return None  # the probe's buffers, not the model's (module docstring)
        return peak

    def probe(self, req: ProbeRequest) -> dict[str, Any]:
        """jnp.dot and a copy on the probe's device, apart from any loaded model."""
        probe = _probe.plan(req)
        device = jax_device(probe.device)
        name = device.device_kind if device.platform == "gpu" else cpu_name()
        capability = _capability(device)
        if req.precision == "tf32" and capability is not None:
            check_tf32_capability("precision tf32", probe.device_id, name, capability)
        peak_before = _peak_bytes(device)
        try:
            matmul_ns = _probe_matmul(device, probe)
            copy_ns = _probe_copy(device, probe)
        finally:
            peak_after = _peak_bytes(device)
            if peak_after is not None and peak_after > (peak_before or 0):
                self._probe_peak_bytes[device.id] = peak_after
        return _probe.reply(probe, name, matmul_ns, copy_ns)

    def versions(self) -> dict[str, str]:
        return {
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "flax": flax.__version__,
            "optax": optax.__version__,
            "numpy": numpy.__version__,
        }

    def devices(self) -> list[dict[str, Any]]:
        found = super().devices()
        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        return found + [
            {"id": f"cuda:{i}", "kind": "cuda", "name": d.device_kind} for i, d in enumerate(gpus)
        ]

    def _settings(self, device: jax.Device, variables: Any) -> dict[str, Any]:
        """What jax reports after load, never what was asked for."""
        xla_flags = os.environ.get("XLA_FLAGS")
        on_gpu = device.platform == "gpu"
        settings = {
            "layout": "NHWC",
            "dtype": str(jax.tree_util.tree_leaves(variables["params"])[0].dtype),
            "device": f"{device.platform}:{device.id}",
            "platform": device.platform,
            "device_kind": device.device_kind,
            "jax_default_matmul_precision": _config_str(jax.config.jax_default_matmul_precision),
            "jax_enable_x64": bool(jax.config.jax_enable_x64),
            "jax_compilation_cache_dir": _config_str(jax.config.jax_compilation_cache_dir),
            "XLA_FLAGS": xla_flags,
            "xla_gpu_autotune_level": _autotune_level(xla_flags, on_gpu),
            "preallocate_set_by_worker": PREALLOCATE_SET_BY_WORKER,
            **env_settings(_MEMORY_ENV),
            **allocator_settings(),
            "observed_threads": observed_threads(),
        }
        if on_gpu:
            settings["bytes_limit"] = (device.memory_stats() or {}).get("bytes_limit")
        return settings


def _compiling(compile_fn: Any) -> Any:
    """compile_fn()'s result; a failure is compile_failed, but running out of memory stays
    out_of_memory (server.error_from_exception names it)."""
    try:
        return compile_fn()
    except Exception as e:  # noqa: BLE001 - XLA raises XlaRuntimeError and others
        if "RESOURCE_EXHAUSTED" in str(e):
            raise
        raise WorkerError(ErrorKind.COMPILE_FAILED, f"jit compile: {type(e).__name__}: {e}") from e


def _peak_bytes(device: jax.Device) -> int | None:
    if device.platform != "gpu":
        return None
    peak = (device.memory_stats() or {}).get("peak_bytes_in_use")
    return None if peak is None else int(peak)


def _capability(device: jax.Device) -> tuple[int, int] | None:
    """A CUDA device's compute capability, e.g. (9, 0), from the string "9.0" jax reports (as
    jax/_src/cudnn/fused_attention_stablehlo.py reads it); None on the CPU or a ROCm GPU."""
    text = getattr(device, "compute_capability", None) if device.platform == "gpu" else None
    if text is None:
        return None
    major, _, minor = str(text).partition(".")
    return int(major), int(minor or 0)


def _sync(out: Any) -> None:
    out.block_until_ready()


# Per probe precision: the input dtype and the dot's precision. HIGHEST is true fp32 on a GPU;
# DEFAULT lets XLA use TF32 for fp32 inputs on Ampere and later; 16-bit inputs ignore it.
_PROBE_DOTS = {
    "fp32": (jnp.float32, jax.lax.Precision.HIGHEST),
    "tf32": (jnp.float32, jax.lax.Precision.DEFAULT),
    "bf16": (jnp.bfloat16, jax.lax.Precision.DEFAULT),
    "fp16": (jnp.float16, jax.lax.Precision.DEFAULT),
}


def _probe_matmul(device: jax.Device, probe: _probe.ProbePlan) -> list[int]:
    """jnp.dot of two random N x N matrices at an explicit precision (so the configured default
    does not apply), each call's output buffer donated to the next call."""
    dtype, precision = _PROBE_DOTS[probe.precision]
    n = probe.matmul_n
    key_a, key_b = jax.random.split(jax.device_put(jax.random.key(0), device))
    a = jax.random.normal(key_a, (n, n), dtype)
    b = jax.random.normal(key_b, (n, n), dtype)
    dot = jax.jit(
        lambda x, y, out: jnp.dot(x, y, precision=precision), donate_argnums=2, keep_unused=True
    )
    out = [jnp.zeros((n, n), dtype, device=device)]

    def call() -> jax.Array:
        out[0] = dot(a, b, out[0])
        return out[0]

    _probe.first_call(call, _sync, refused_as=probe.matmul_refusal)  # compiles
    return _probe.time_calls(call, _sync, probe.half_s)


def _probe_copy(device: jax.Device, probe: _probe.ProbePlan) -> list[int]:
    """src.copy() into the donated dst, float32 buffers of copy_bytes each (module docstring)."""
    count = probe.copy_bytes // 4
    src = jnp.ones((count,), jnp.float32, device=device)
    copy = jax.jit(lambda s, d: s.copy(), donate_argnums=1, keep_unused=True)
    dst = [jnp.zeros((count,), jnp.float32, device=device)]

    def call() -> jax.Array:
        dst[0] = copy(src, dst[0])
        return dst[0]

    if _probe.first_call(call, _sync).unsafe_buffer_pointer() == src.unsafe_buffer_pointer():
        raise RuntimeError("probe copy: XLA returned the source buffer instead of copying it")
    return _probe.time_calls(call, _sync, probe.half_s)


def _config_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _autotune_level(xla_flags: str | None, on_gpu: bool) -> str:
    found = _AUTOTUNE_RE.findall(xla_flags or "")
    if found:
        return found[-1]  # XLA takes the last occurrence of a repeated flag
    return "default (4)" if on_gpu else "n/a"


@dataclass(frozen=True)
class _FitHooks:
    """_dataset.FitHooks from three functions."""

    train_step: Any
    wait: Any
    predict: Any


def _place(req: LoadRequest, device: jax.Device) -> tuple[Any, jax.Array]:
    """Variables (from the request's weights file, else drawn from the seed on the CPU:
    flax_models.init) and one input batch, both cast to the precision and put on the device;
    for training the variables stay fp32 (master weights)."""
    dtype = DTYPES[req.precision]
    weights_dtype = jnp.float32 if req.mode == "training" else dtype
    variables = _initial_variables(req)
    variables = jax.tree_util.tree_map(
        lambda a: jax.device_put(a.astype(weights_dtype), device), variables
    )
    cpu = jax.devices("cpu")[0]
    key = jax.device_put(jax.random.key(req.seed), cpu)
    shape = (req.batch, IMAGE_SIZE, IMAGE_SIZE, 3)
    example = jax.device_put(jax.random.normal(key, shape, jnp.float32).astype(dtype), device)
    return variables, jax.block_until_ready(example)


def _initial_variables(req: LoadRequest) -> Any:
    """fp32 variables: the canonical weights file converted, else flax_models.init(seed)."""
    if req.weights is None:
        return flax_models.init(req.model, req.seed)
    tensors = _canonical.read_tensors(req.weights, "weights")
    _canonical.check_weights(req.model, req.weights, tensors, convert.canonical_shapes(req.model))
    return convert.torch_to_flax(req.model, tensors)


def flops_per_sample(model: Any, variables: Any, example: jax.Array) -> int:
    """Counted from the jaxpr of model.apply at the loaded shapes (traced, not run)."""
    abstract = jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), (variables, example)
    )
    return flops.count_jax(model.apply, *abstract) // example.shape[0]


def create() -> JaxAdapter:
    return JaxAdapter()
