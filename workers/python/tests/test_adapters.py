"""The torch and jax adapters in-process: the load reply's fields and types, the timed loops, and
the errors docs/protocol.md names (cuda where there is none: unsupported; an unknown option:
bad_request; TF32 asked for on the CPU: unsupported). One real worker per framework speaks the
protocol through pipes.

resnet18 at batch 1 on the CPU keeps each load to a few seconds on 2 cores. A GPU cannot be faked,
so on a machine with one the cuda test is skipped rather than inverted.
"""

import pytest

from dlbench_worker.models import MODELS
from dlbench_worker.protocol import ErrorKind, LoadRequest, WorkerError

RESNET18_PARAMETERS = 11_689_512
RESNET18_FLOPS_PER_SAMPLE = 3_628_146_688
LOAD_FIELDS = {
    "parameters": int,
    "flops_per_sample": int,
    "load_s": float,
    "first_call_s": float,
    "sync_overhead_ns": int,
    "settings": dict,
}
SETTINGS_KEYS = {
    "torch": (
        "layout",
        "num_threads",
        "num_interop_threads",
        "matmul_fp32_precision",
        "conv_fp32_precision",
        "float32_matmul_precision",
        "cudnn_enabled",
        "cudnn_benchmark",
        "cudnn_deterministic",
        "mkldnn_enabled",
        "compile",
        "dtype",
        "device",
        "observed_threads",
    ),
    "jax": (
        "layout",
        "jax_default_matmul_precision",
        "jax_enable_x64",
        "XLA_FLAGS",
        "xla_gpu_autotune_level",
        "XLA_PYTHON_CLIENT_PREALLOCATE",
        "preallocate_set_by_worker",
        "platform",
        "observed_threads",
        "dtype",
    ),
}
FRAMEWORKS = ("torch", "jax")


def load_request(**changes: object) -> LoadRequest:
    fields = {
        "model": "resnet18",
        "batch": 1,
        "precision": "fp32",
        "device": "cpu",
        "mode": "inference",
        "layout": "default",
        "seed": 0,
        "options": {},
    }
    return LoadRequest(**{**fields, **changes})


def make_adapter(framework: str):
    module = pytest.importorskip(f"dlbench_worker.adapters.{framework}")
    return module.create()


@pytest.fixture(scope="module", params=FRAMEWORKS)
def loaded(request: pytest.FixtureRequest):
    """(framework, adapter, reply) after one fp32 resnet18 load, shared by tests that only read."""
    adapter = make_adapter(request.param)
    return request.param, adapter, adapter.load(load_request())


def test_load_reply_has_every_field_with_its_type(loaded) -> None:
    framework, _, reply = loaded
    for field, kind in LOAD_FIELDS.items():
        assert isinstance(reply[field], kind), (framework, field, reply[field])
    assert (
        reply["compile_s"] is None
        if framework == "torch"
        else isinstance(reply["compile_s"], float)
    )
    assert reply["peak_device_bytes"] is None  # CPU
    assert reply["load_s"] > 0 and reply["first_call_s"] > 0 and reply["sync_overhead_ns"] >= 0


def test_load_reports_the_models_counts(loaded) -> None:
    _, _, reply = loaded
    assert reply["parameters"] == RESNET18_PARAMETERS
    assert reply["flops_per_sample"] == RESNET18_FLOPS_PER_SAMPLE


def test_settings_are_read_back(loaded) -> None:
    framework, _, reply = loaded
    settings = reply["settings"]
    missing = [key for key in SETTINGS_KEYS[framework] if key not in settings]
    assert not missing
    assert settings["dtype"] == "float32"
    assert settings["observed_threads"] >= 1
    assert settings["layout"] == ("NCHW" if framework == "torch" else "NHWC")


def test_measure_each_returns_positive_ints(loaded) -> None:
    _, adapter, _ = loaded
    times = adapter.measure_each(3)
    assert len(times) == 3 and all(isinstance(t, int) and t > 0 for t in times)
    assert adapter.measure_window(2) > 0


def test_versions_and_devices(loaded) -> None:
    framework, adapter, _ = loaded
    versions = adapter.versions()
    assert framework in versions and all(isinstance(v, str) for v in versions.values())
    devices = adapter.devices()
    assert devices[0]["id"] == "cpu" and all(set(d) == {"id", "kind", "name"} for d in devices)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_bf16_loads_and_runs(framework: str) -> None:
    adapter = make_adapter(framework)
    reply = adapter.load(load_request(precision="bf16"))
    assert reply["settings"]["dtype"] == "bfloat16"
    assert reply["flops_per_sample"] == RESNET18_FLOPS_PER_SAMPLE
    assert len(adapter.measure_each(1)) == 1


def test_torch_channels_last_reports_nhwc() -> None:
    reply = make_adapter("torch").load(load_request(layout="channels_last"))
    assert reply["settings"]["layout"] == "NHWC"
    assert reply["settings"]["weights_layout"] == "NHWC"


def test_torch_num_threads_option_is_read_back() -> None:
    reply = make_adapter("torch").load(load_request(options={"num_threads": 1}))
    assert reply["settings"]["num_threads"] == 1


def test_jax_channels_first_is_unsupported() -> None:
    with pytest.raises(WorkerError) as caught:
        make_adapter("jax").load(load_request(layout="channels_first"))
    assert caught.value.kind == ErrorKind.UNSUPPORTED


def test_jax_matmul_precision_option_is_read_back() -> None:
    import jax

    before = jax.config.jax_default_matmul_precision
    try:
        reply = make_adapter("jax").load(load_request(options={"matmul_precision": "float32"}))
        assert reply["settings"]["jax_default_matmul_precision"] == "float32"
    finally:
        jax.config.update("jax_default_matmul_precision", before)


def test_jax_tensorfloat32_on_cpu_is_unsupported() -> None:
    import jax

    before = jax.config.jax_default_matmul_precision
    with pytest.raises(WorkerError) as caught:
        make_adapter("jax").load(load_request(options={"matmul_precision": "tensorfloat32"}))
    assert caught.value.kind == ErrorKind.UNSUPPORTED
    assert caught.value.message == (
        "matmul_precision tensorfloat32 needs a cuda device: TF32 is a tensor-core format"
    )
    assert jax.config.jax_default_matmul_precision == before  # refused before setting anything


def _has_gpu(framework: str) -> bool:
    if framework == "torch":
        import torch

        return torch.cuda.is_available()
    import jax

    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_cuda_without_a_gpu_is_unsupported(framework: str) -> None:
    adapter = make_adapter(framework)
    if _has_gpu(framework):
        pytest.skip("this machine has a GPU")
    with pytest.raises(WorkerError) as caught:
        adapter.load(load_request(device="cuda"))
    assert caught.value.kind == ErrorKind.UNSUPPORTED
    assert "cuda is not available" in caught.value.message


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_unknown_option_is_a_bad_request_naming_it(framework: str) -> None:
    with pytest.raises(WorkerError) as caught:
        make_adapter(framework).load(load_request(options={"num_treads": 2}))
    assert caught.value.kind == ErrorKind.BAD_REQUEST
    assert "num_treads" in caught.value.message and "allowed:" in caught.value.message


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_unknown_model_is_unsupported(framework: str) -> None:
    with pytest.raises(WorkerError) as caught:
        make_adapter(framework).load(load_request(model="alexnet"))
    assert caught.value.kind == ErrorKind.UNSUPPORTED
    assert all(name in caught.value.message for name in MODELS)


@pytest.mark.parametrize(
    "bad",
    [
        {"num_threads": 0},
        {"compile": "fast"},
        {"cudnn_benchmark": "yes"},
        {"fp32_precision": "high"},
        {"fp32_precision": True},
    ],
)
def test_torch_bad_option_values_are_bad_requests(bad: dict) -> None:
    with pytest.raises(WorkerError) as caught:
        make_adapter("torch").load(load_request(options=bad))
    assert caught.value.kind == ErrorKind.BAD_REQUEST
    assert f"options.{next(iter(bad))}" in caught.value.message


@pytest.fixture
def torch_fp32_flags():
    """Restores torch's process-wide fp32_precision flags after a test that sets them."""
    torch = pytest.importorskip("torch")
    flags = [
        torch.backends.cuda.matmul,
        torch.backends.cudnn.conv,
        torch.backends.cudnn.rnn,
        torch.backends.mkldnn.matmul,
        torch.backends.mkldnn.conv,
        torch.backends.mkldnn.rnn,
    ]
    before = [flag.fp32_precision for flag in flags]
    yield
    for flag, value in zip(flags, before, strict=True):
        flag.fp32_precision = value


def test_torch_fp32_precision_ieee_is_read_back(torch_fp32_flags) -> None:
    """On the CPU "ieee" pins mkldnn's flags too, and the effective values follow them."""
    settings = make_adapter("torch").load(load_request(options={"fp32_precision": "ieee"}))[
        "settings"
    ]
    assert settings["fp32_precision_mkldnn_matmul"] == "ieee"
    assert settings["fp32_precision_mkldnn_conv"] == "ieee"
    assert settings["fp32_precision_mkldnn_rnn"] == "ieee"
    assert settings["fp32_precision_cuda_matmul"] == "ieee"
    assert settings["fp32_precision_cudnn_conv"] == "ieee"
    assert settings["matmul_fp32_precision"] == "ieee"
    assert settings["conv_fp32_precision"] == "ieee"


def test_torch_fp32_precision_tf32_on_cpu_is_unsupported(torch_fp32_flags) -> None:
    import torch

    before = torch.backends.cuda.matmul.fp32_precision
    with pytest.raises(WorkerError) as caught:
        make_adapter("torch").load(load_request(options={"fp32_precision": "tf32"}))
    assert caught.value.kind == ErrorKind.UNSUPPORTED
    assert caught.value.message == (
        "fp32_precision tf32 needs a cuda device: TF32 is a tensor-core format"
    )
    assert torch.backends.cuda.matmul.fp32_precision == before  # refused before setting anything


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_real_worker_speaks_the_protocol(framework: str, start_worker) -> None:
    """hello, load, measure (each and window), bye through real pipes: every reply is valid JSON."""
    pytest.importorskip(framework)
    worker = start_worker(framework)
    hello = worker.request({"op": "hello"}, timeout_s=120)
    assert hello["ok"] and hello["framework"] == framework and framework in hello["versions"]
    load = worker.request(
        {
            "op": "load",
            "model": "resnet18",
            "batch": 1,
            "precision": "fp32",
            "device": "cpu",
            "mode": "inference",
            "layout": "default",
            "seed": 0,
            "options": {},
        },
        timeout_s=120,
    )
    assert load["ok"], load
    assert load["parameters"] == RESNET18_PARAMETERS
    each = worker.request({"op": "measure", "iterations": 2, "sync": "each"}, timeout_s=120)
    assert each["ok"] and len(each["wall_ns"]) == 2
    window = worker.request({"op": "measure", "iterations": 2, "sync": "window"}, timeout_s=120)
    assert window["ok"] and window["window_ns"] > 0
    assert worker.request({"op": "bye"}) == {"ok": True}
    assert worker.wait() == 0
