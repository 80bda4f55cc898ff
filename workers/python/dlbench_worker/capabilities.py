"""What each worker can run, one table per worker: the adapters take their lists from here.

`python -m dlbench_worker NAME --capabilities` prints the table as one JSON line and exits, so the
controller can check an experiment file against it before any worker runs (docs/protocol.md,
"Capabilities"). That call has to be cheap: this module imports no framework, only the model
names and the protocol's own lists, so it answers in the time Python takes to start (tens of
milliseconds) while importing torch or jax takes seconds. The adapters read their option keys,
models and layouts from these tables, so what is advertised and what a load accepts are one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlbench_worker import PROTOCOL_VERSION
from dlbench_worker.models import LLAMA_MODELS, LLAMA_POSITIONS, MODELS
from dlbench_worker.protocol import GENERATION_OPTIONS, LAYOUTS, MODES, PRECISIONS

DATASETS = ("digits",)
"""The datasets the framework workers train on with `fit` (adapters/_dataset.py prepares them)."""

CAPABILITIES_FORMAT = 1
"""The version of the --capabilities line; a controller refuses one it does not know."""

CONTROLLER_OPTIONS = ("optimizer", *GENERATION_OPTIONS)
"""Option keys the controller fills in itself (from [training] and [generation]); every adapter
accepts them, and they are not advertised, since an experiment's [options] may not set them."""

DEVICES = ("cpu", "cuda")
"""Device kinds; `cuda` covers `cuda:N`."""

BASE_REQUESTS = ("hello", "load", "measure", "bye")
# The image models classify and train; the decoders generate.
FRAMEWORK_WORKLOAD_MODELS = {
    "inference": MODELS,
    "training": MODELS,
    "generation": LLAMA_MODELS,
}
FRAMEWORK_REQUESTS = (*BASE_REQUESTS, "save_weights", "outputs", "train", "fit", "probe")


@dataclass(frozen=True)
class Capabilities:
    worker: str
    framework: str
    models: tuple[str, ...]
    precisions: tuple[str, ...]
    devices: tuple[str, ...]
    workloads: tuple[str, ...]
    layouts: tuple[str, ...]
    options: tuple[str, ...]  # the option keys an experiment may set for this worker
    requests: tuple[str, ...]  # the ops this worker answers with more than `unsupported`
    canonical_weights: bool  # loads and saves weights in the canonical layout (validation)
    datasets: tuple[str, ...] = ()  # the real datasets `fit` trains on (adapters/_dataset.py)
    # Per workload, the models that run it, where not every model runs every workload (the image
    # models do not generate; the decoders only generate). None: every model, every workload.
    workload_models: dict[str, tuple[str, ...]] | None = None
    # The decoders' positions: prompt_tokens + new_tokens must fit (checked when a file is parsed).
    model_positions: dict[str, int] | None = None

    @property
    def accepted_options(self) -> tuple[str, ...]:
        """Every option key a load may carry: the advertised ones and the controller's."""
        return (*self.options, *CONTROLLER_OPTIONS)

    def to_json(self) -> dict[str, Any]:
        return {
            "capabilities": CAPABILITIES_FORMAT,
            "protocol": PROTOCOL_VERSION,
            "worker": self.worker,
            "framework": self.framework,
            "models": list(self.models),
            "precisions": list(self.precisions),
            "devices": list(self.devices),
            "workloads": list(self.workloads),
            "layouts": list(self.layouts),
            "options": list(self.options),
            "requests": list(self.requests),
            "canonical_weights": self.canonical_weights,
            "datasets": list(self.datasets),
            **self._missing_datasets(),
            **(
                {"workload_models": {w: list(m) for w, m in self.workload_models.items()}}
                if self.workload_models is not None
                else {}
            ),
            **({"model_positions": dict(self.model_positions)} if self.model_positions else {}),
        }

    def _missing_datasets(self) -> dict[str, Any]:
        """"datasets_missing": {name: why}, only when a dataset's package is not installed in this
        Python (the controller then refuses an experiment that asks for it)."""
        from dlbench_worker.adapters import _dataset  # imports no framework

        missing = {name: why for name in self.datasets if (why := _dataset.missing(name))}
        return {"datasets_missing": missing} if missing else {}


TORCH = Capabilities(
    worker="torch",
    framework="torch",
    models=(*MODELS, *LLAMA_MODELS),
    precisions=PRECISIONS,
    devices=DEVICES,
    workloads=MODES,
    layouts=LAYOUTS,
    options=("num_threads", "compile", "cudnn_benchmark", "fp32_precision"),
    requests=FRAMEWORK_REQUESTS,
    canonical_weights=True,
    datasets=DATASETS,
    workload_models=FRAMEWORK_WORKLOAD_MODELS,
    model_positions=LLAMA_POSITIONS,
)

# Flax convolutions take NHWC: channels_first is not offered.
JAX = Capabilities(
    worker="jax",
    framework="jax",
    models=(*MODELS, *LLAMA_MODELS),
    precisions=PRECISIONS,
    devices=DEVICES,
    workloads=MODES,
    layouts=("default", "channels_last"),
    options=("matmul_precision",),
    requests=FRAMEWORK_REQUESTS,
    canonical_weights=True,
    datasets=DATASETS,
    workload_models=FRAMEWORK_WORKLOAD_MODELS,
    model_positions=LLAMA_POSITIONS,
)

# The synthetic model spins on the clock: every precision, device and layout is only a label.
SYNTHETIC = Capabilities(
    worker="synthetic",
    framework="synthetic",
    models=("synthetic",),
    precisions=PRECISIONS,
    devices=DEVICES,
    workloads=MODES,
    layouts=LAYOUTS,
    options=("latency", "faults", "unsupported"),
    requests=BASE_REQUESTS,
    canonical_weights=False,
)

# Hugging Face transformers' own LlamaForCausalLM (models/hf_llama.py), on torch: the decoders
# only, and only for generation. It has no layout to choose and nothing to train or probe.
TRANSFORMERS = Capabilities(
    worker="transformers",
    framework="transformers",
    models=LLAMA_MODELS,
    precisions=PRECISIONS,
    devices=DEVICES,
    workloads=("generation",),
    layouts=("default",),
    options=("num_threads",),
    requests=(*BASE_REQUESTS, "save_weights", "outputs"),
    canonical_weights=True,
    model_positions=LLAMA_POSITIONS,
)

WORKERS: dict[str, Capabilities] = {c.worker: c for c in (JAX, SYNTHETIC, TORCH, TRANSFORMERS)}
