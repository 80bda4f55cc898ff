"""The worker side of `dlbench validate`: canonical weights files and outputs (docs/protocol.md,
"Weights and outputs"), which let torch and jax run the same function on the same numbers.

Pins: convert.flax_to_torch is the exact inverse of torch_to_flax, and both frameworks agree on the
canonical names and shapes, for all five models; weights saved by one worker and loaded by the
other give the same logits (2e-5 of the largest |logit| at fp32 on the CPU, the bound of
test_models.py) and save back bit for bit; a file that does not fit the model, cannot be read or
holds a wrong input is a bad_request naming the tensor or the path, with the same message from
both workers; the jax worker never imports torch.

resnet18 goes through real worker subprocesses (one exchange, shared by the tests below it). The
other four models use the adapters in-process, at batch 2, to keep the file near a minute on two
cores. The weights come from torchvision with norms and biases randomized (model_helpers.py): at
their first values a swapped mean and var would change no logit.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors
import safetensors.numpy
from model_helpers import canonical_weights
from worker_process import WORKER_ROOT, WorkerProcess

from dlbench_worker.adapters import jax as jax_adapter
from dlbench_worker.adapters import torch as torch_adapter
from dlbench_worker.models import IMAGE_SIZE, MODELS, NUM_CLASSES, convert, torch_models
from dlbench_worker.protocol import ErrorKind, LoadRequest, WorkerError

RTOL = 2e-5  # of the largest |logit|, as in test_models.py (observed up to 2e-6)
BATCH = 2
TIMEOUT_S = 120.0


def _load(model: str, batch: int = BATCH, **fields: Any) -> dict[str, Any]:
    return {
        "op": "load",
        "model": model,
        "batch": batch,
        "precision": "fp32",
        "device": "cpu",
        "mode": "inference",
        "layout": "default",
        "seed": 0,
        "options": {},
        **fields,
    }


def _save(path: Path, tensors: dict[str, np.ndarray], model: str = "resnet18") -> None:
    metadata = {"format": "dlbench-canonical", "model": model, "source_framework": "torch"}
    safetensors.numpy.save_file(tensors, str(path), metadata=metadata)


def _read(path: Path) -> dict[str, np.ndarray]:
    return safetensors.numpy.load_file(str(path))


def _metadata(path: Path) -> dict[str, str]:
    with safetensors.safe_open(str(path), "np") as f:
        return f.metadata()


def _write_input(path: Path, batch: int = BATCH) -> np.ndarray:
    x = np.random.default_rng(1).standard_normal((batch, 3, IMAGE_SIZE, IMAGE_SIZE), np.float32)
    safetensors.numpy.save_file({"input": x}, str(path))
    return x


def _assert_same_logits(expected: np.ndarray, got: np.ndarray, name: str) -> None:
    assert expected.shape == got.shape == (BATCH, NUM_CLASSES)
    scale = np.abs(expected).max()
    assert scale > 1e-3  # the logits carry signal, so the comparison means something
    max_err = np.abs(got - expected).max()
    print(f"{name}: max |jax - torch| = {max_err:.3g}, relative {max_err / scale:.3g}")
    assert max_err <= RTOL * scale


def _assert_same_weights(expected: dict[str, np.ndarray], path: Path) -> None:
    got = _read(path)
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key].dtype == np.float32 and np.array_equal(got[key], value), key


# ------------------------------------------------------------------------------ the converter


@pytest.mark.parametrize("name", MODELS)
def test_both_frameworks_have_the_same_canonical_layout(name: str) -> None:
    torch_state = torch_models.canonical_state(torch_models.build_meta(name))
    torch_shapes = {key: tuple(value.shape) for key, value in torch_state.items()}
    assert convert.canonical_shapes(name) == torch_shapes


@pytest.mark.parametrize("name", MODELS)
def test_flax_to_torch_inverts_torch_to_flax_exactly(name: str) -> None:
    rng = np.random.default_rng(0)
    state = {
        key: rng.standard_normal(shape, np.float32)
        for key, shape in convert.canonical_shapes(name).items()
    }
    back = convert.flax_to_torch(name, convert.torch_to_flax(name, state))
    assert set(back) == set(state)
    for key, value in state.items():
        assert back[key].dtype == np.float32 and back[key].flags.c_contiguous
        assert np.array_equal(back[key], value), key


def test_flax_to_torch_rejects_variables_of_another_model() -> None:
    shapes = convert.canonical_shapes("resnet18")
    variables = convert.torch_to_flax(
        "resnet18", {k: np.zeros(s, np.float32) for k, s in shapes.items()}
    )
    with pytest.raises(ValueError, match="resnet50"):
        convert.flax_to_torch("resnet50", variables)


def test_the_jax_worker_imports_no_torch() -> None:
    code = (
        "import sys, dlbench_worker.adapters.jax, dlbench_worker.models.convert;"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=WORKER_ROOT, check=True)


# ------------------------------------------------------------ resnet18 through real workers


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One validate exchange with a torch and a jax worker; returns the folder and every reply.

    torch draws resnet18 from seed 0 at batch 2, saves its weights and runs the input; jax loads
    them at batch 1 (so outputs at batch 2 compiles anew), runs the input and saves; torch loads
    jax's file and runs the input again. Then the errors, after which nothing is loaded."""
    folder = tmp_path_factory.mktemp("validate")
    _write_input(folder / "input.safetensors")
    safetensors.numpy.save_file(
        {"images": np.zeros((1, 3, IMAGE_SIZE, IMAGE_SIZE), np.float32)},
        str(folder / "no-input.safetensors"),
    )
    safetensors.numpy.save_file(
        {"input": np.zeros((BATCH, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)},
        str(folder / "nhwc-input.safetensors"),
    )
    (folder / "garbage.safetensors").write_text("not safetensors")
    workers = {name: WorkerProcess(name, folder / f"{name}.log") for name in ("torch", "jax")}
    replies: dict[str, Any] = {}

    def ask(framework: str, key: str, request: dict[str, Any]) -> None:
        replies[key] = workers[framework].request(request, TIMEOUT_S)

    def outputs(input_name: str, output_name: str) -> dict[str, Any]:
        return {
            "op": "outputs",
            "input_file": str(folder / input_name),
            "output_file": str(folder / output_name),
        }

    try:
        for worker in workers.values():
            worker.send({"op": "hello"})  # both import their framework at once
        for worker in workers.values():
            assert json.loads(worker.read_line(TIMEOUT_S))["ok"]
        torch_file, jax_file = str(folder / "torch.safetensors"), str(folder / "jax.safetensors")
        ask("torch", "torch_load", _load("resnet18"))
        ask("torch", "torch_save", {"op": "save_weights", "file": torch_file})
        ask("torch", "torch_outputs", outputs("input.safetensors", "torch.out.safetensors"))
        ask("jax", "jax_load", _load("resnet18", batch=1, weights=torch_file))
        ask("jax", "jax_outputs", outputs("input.safetensors", "jax.out.safetensors"))
        ask("jax", "jax_save", {"op": "save_weights", "file": jax_file})
        ask("torch", "torch_load_jax", _load("resnet18", weights=jax_file))
        ask("torch", "torch_outputs_jax", outputs("input.safetensors", "torch-jax.out.safetensors"))
        for framework, worker in workers.items():
            ask(framework, f"{framework}_no_input", outputs("no-input.safetensors", "x"))
            ask(framework, f"{framework}_nhwc_input", outputs("nhwc-input.safetensors", "x"))
            ask(framework, f"{framework}_no_dir", outputs("input.safetensors", "none/out.st"))
            ask(framework, f"{framework}_mismatch", _load("resnet50", weights=torch_file))
            ask(framework, f"{framework}_missing", _load("resnet18", weights=str(folder / "none")))
            garbage = str(folder / "garbage.safetensors")
            ask(framework, f"{framework}_garbage", _load("resnet18", weights=garbage))
            ask(framework, f"{framework}_after_failed_load", {"op": "save_weights", "file": "/x"})
            assert worker.request({"op": "bye"}) == {"ok": True}
            assert worker.wait() == 0
    finally:
        for worker in workers.values():
            worker.kill()
    return {"folder": folder, **replies}


def test_real_workers_answer_every_validate_request(resnet18: dict[str, Any]) -> None:
    for key in ("torch_load", "torch_save", "torch_outputs", "jax_load", "jax_outputs"):
        assert resnet18[key]["ok"], (key, resnet18[key])
    for key in ("jax_save", "torch_load_jax", "torch_outputs_jax"):
        assert resnet18[key]["ok"], (key, resnet18[key])
    for key in ("torch_outputs", "jax_outputs", "torch_outputs_jax"):
        assert resnet18[key] == {"ok": True, "shape": [BATCH, NUM_CLASSES]}


def test_torch_weights_give_torch_logits_in_the_jax_worker(resnet18: dict[str, Any]) -> None:
    folder = resnet18["folder"]
    expected = _read(folder / "torch.out.safetensors")["output"]
    _assert_same_logits(expected, _read(folder / "jax.out.safetensors")["output"], "resnet18")
    again = _read(folder / "torch-jax.out.safetensors")["output"]  # jax's file, back in torch
    _assert_same_logits(expected, again, "resnet18 (torch from jax's file)")


def test_saved_weights_are_canonical_and_survive_the_round_trip(resnet18: dict[str, Any]) -> None:
    folder = resnet18["folder"]
    expected = torch_models.canonical_state(torch_models.build("resnet18", 0))
    expected = {key: value.numpy() for key, value in expected.items()}
    for framework in ("torch", "jax"):
        path = folder / f"{framework}.safetensors"
        _assert_same_weights(expected, path)
        assert resnet18[f"{framework}_save"] == {
            "ok": True,
            "tensors": len(expected),
            "bytes": path.stat().st_size,
        }
        assert _metadata(path) == {
            "format": "dlbench-canonical",
            "model": "resnet18",
            "source_framework": framework,
        }
    out = folder / "jax.out.safetensors"
    assert _metadata(out)["format"] == "dlbench-outputs"
    assert _read(out)["output"].dtype == np.float32


def _error(reply: dict[str, Any]) -> str:
    assert reply["ok"] is False and reply["error"]["kind"] == "bad_request", reply
    return reply["error"]["message"]


def test_weights_of_another_model_name_the_first_offending_tensor(resnet18) -> None:
    path = resnet18["folder"] / "torch.safetensors"
    message = _error(resnet18["torch_mismatch"])
    assert message == (
        f'weights {path} do not match resnet50: tensor "fc.weight" expected shape [1000, 2048], '
        "found [1000, 512]"
    )
    assert _error(resnet18["jax_mismatch"]) == message


@pytest.mark.parametrize("framework", ("torch", "jax"))
def test_bad_files_are_bad_requests_naming_them(resnet18, framework: str) -> None:
    folder = resnet18["folder"]
    assert _error(resnet18[f"{framework}_missing"]) == (
        f"cannot read weights {folder / 'none'}: No such file or directory"
    )
    garbage = _error(resnet18[f"{framework}_garbage"])
    assert garbage.startswith(f"weights {folder / 'garbage.safetensors'} is not a safetensors file")
    assert _error(resnet18[f"{framework}_no_input"]) == (
        f'input file {folder / "no-input.safetensors"} has no tensor "input"; found: "images"'
    )
    assert _error(resnet18[f"{framework}_nhwc_input"]) == (
        f'input file {folder / "nhwc-input.safetensors"}: tensor "input" has shape '
        "[2, 224, 224, 3]; expected [B, 3, 224, 224] with B >= 1"
    )
    assert _error(resnet18[f"{framework}_no_dir"]) == (
        f"cannot write output file {folder / 'none/out.st'}: No such file or directory"
    )
    assert _error(resnet18[f"{framework}_after_failed_load"]) == "save_weights before load"


# ---------------------------------------------------------- the other models, in-process


def _request(name: str, weights: Path) -> LoadRequest:
    fields = {k: v for k, v in _load(name, weights=str(weights)).items() if k != "op"}
    return LoadRequest(**fields)


@pytest.mark.parametrize("name", [m for m in MODELS if m != "resnet18"])
def test_weights_saved_by_torch_give_the_same_logits_in_jax(name: str, tmp_path: Path) -> None:
    """Both adapters load one file; each saves it back unchanged; their logits agree."""
    source = tmp_path / "source.safetensors"
    weights = canonical_weights(name, seed=0)
    _save(source, weights, name)
    _write_input(tmp_path / "input.safetensors")
    logits = {}
    load_from = source
    for framework, module in (("torch", torch_adapter), ("jax", jax_adapter)):
        adapter = module.create()
        adapter.load(_request(name, load_from))
        saved = tmp_path / f"{framework}.safetensors"
        assert adapter.save_weights(str(saved))["tensors"] == len(weights)
        _assert_same_weights(weights, saved)
        out = tmp_path / f"{framework}.out.safetensors"
        assert adapter.outputs(str(tmp_path / "input.safetensors"), str(out)) == {
            "shape": [BATCH, NUM_CLASSES]
        }
        logits[framework] = _read(out)["output"]
        load_from = saved  # jax loads what torch saved
        del adapter
    _assert_same_logits(logits["torch"], logits["jax"], name)


# ------------------------------------------------------ the checks of a weights file, in-process


@pytest.fixture(scope="module")
def resnet18_state() -> dict[str, np.ndarray]:
    state = torch_models.canonical_state(torch_models.build_meta("resnet18"))
    return {key: np.zeros(tuple(value.shape), np.float32) for key, value in state.items()}


def _load_error(framework: str, path: Path) -> str:
    module = torch_adapter if framework == "torch" else jax_adapter
    with pytest.raises(WorkerError) as caught:
        module.create().load(_request("resnet18", path))
    assert caught.value.kind == ErrorKind.BAD_REQUEST
    return caught.value.message


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda s: s.pop("layer2.0.downsample.1.running_var"),
            'tensor "layer2.0.downsample.1.running_var" expected shape [128], found none (missing)',
        ),
        (
            lambda s: s.update({"bn1.num_batches_tracked": np.zeros((), np.float32)}),
            (
                'tensor "bn1.num_batches_tracked" expected none (resnet18 has no such tensor), '
                "found []"
            ),
        ),
        (
            lambda s: s.update({"conv1.weight": np.zeros((64, 7, 7, 3), np.float32)}),
            'tensor "conv1.weight" expected shape [64, 3, 7, 7], found [64, 7, 7, 3]',
        ),
    ],
    ids=("missing", "extra", "transposed"),
)
def test_a_file_that_does_not_fit_is_named_the_same_by_both(
    resnet18_state, tmp_path: Path, change, message: str
) -> None:
    state = dict(resnet18_state)
    change(state)
    path = tmp_path / "w.safetensors"
    _save(path, state)
    expected = f"weights {path} do not match resnet18: {message}"
    assert _load_error("torch", path) == expected
    assert _load_error("jax", path) == expected


def test_a_tensor_that_is_not_float32_is_named(resnet18_state, tmp_path: Path) -> None:
    state = {**resnet18_state, "fc.bias": np.zeros(1000, np.float16)}
    path = tmp_path / "w.safetensors"
    _save(path, state)
    for framework in ("torch", "jax"):
        assert _load_error(framework, path) == (
            f'weights {path}: tensor "fc.bias" is F16; expected F32 (float32)'
        )
