"""Pins `python -m dlbench_worker NAME --capabilities`: what the controller checks experiment files
against before any worker runs.

- The line each worker prints is the golden one in tests/protocol/capabilities.jsonl, which the
  controller's unit tests decode and plan against; a change to an adapter's tables shows here.
- It imports no framework: the call must stay cheap (a Python start-up, not a torch import).
- The lists are the adapters' own: the option keys an adapter accepts are the advertised ones plus
  the controller's `optimizer`, and everything the synthetic worker advertises loads in it, while
  the requests it does not advertise answer `unsupported`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from worker_process import TRANSCRIPTS, WORKER_ROOT

from dlbench_worker import capabilities
from dlbench_worker.adapters import synthetic
from dlbench_worker.adapters._common import check_model
from dlbench_worker.protocol import ErrorKind, LoadRequest, ProbeRequest, WorkerError

SGD = {"name": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": False, "weight_decay": 1e-4}


def run_worker(*args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(WORKER_ROOT), env.get("PYTHONPATH")]))
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "dlbench_worker", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def golden() -> dict[str, dict[str, Any]]:
    lines = (TRANSCRIPTS / "capabilities.jsonl").read_text().splitlines()
    return {line["worker"]: line for line in map(json.loads, lines)}


@pytest.mark.parametrize("worker", sorted(capabilities.WORKERS))
def test_the_printed_line_is_the_golden_one(worker: str) -> None:
    r = run_worker(worker, "--capabilities")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == golden()[worker]


def test_every_worker_has_a_golden_line() -> None:
    assert sorted(golden()) == sorted(capabilities.WORKERS)


@pytest.mark.parametrize("worker", ["torch", "jax", "transformers"])
def test_no_framework_is_imported(worker: str) -> None:
    r = run_worker(worker, "--capabilities", importtime=True)
    assert r.returncode == 0, r.stderr
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    heavy = {"torch", "torchvision", "jax", "jaxlib", "flax", "optax", "numpy", "transformers"}
    assert not imported & heavy


def test_usage_errors() -> None:
    r = run_worker("torch", "--capabilitie")
    assert r.returncode == 2
    assert r.stderr.strip() == (
        'dlbench_worker: error: "--capabilitie" is not a flag; allowed: --capabilities'
    )
    r = run_worker("mxnet", "--capabilities")
    assert r.returncode == 2 and '"mxnet" is not a worker' in r.stderr


def test_the_controller_sets_optimizer_and_lengths_itself() -> None:
    for caps in capabilities.WORKERS.values():
        assert "optimizer" not in caps.options and "new_tokens" not in caps.options
        assert caps.accepted_options == (*caps.options, "optimizer", "prompt_tokens", "new_tokens")


def test_synthetic_tables_are_the_adapters() -> None:
    assert synthetic.MODELS == capabilities.SYNTHETIC.models
    assert synthetic.OPTIONS == capabilities.SYNTHETIC.accepted_options


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_framework_tables_are_the_adapters(framework: str) -> None:
    module = pytest.importorskip(f"dlbench_worker.adapters.{framework}")
    caps = capabilities.WORKERS[framework]
    assert module.OPTIONS == caps.accepted_options
    assert caps.workload_models is not None
    for model in caps.workload_models["inference"]:
        check_model(framework, model)  # raises for a model the adapter does not build
    from dlbench_worker.models import llama

    assert set(caps.workload_models["generation"]) == set(llama.CONFIGS)
    for workload, models in caps.workload_models.items():
        assert workload in caps.workloads and set(models) <= set(caps.models)


def _load(**fields: Any) -> LoadRequest:
    base: dict[str, Any] = {
        "model": "synthetic",
        "batch": 1,
        "precision": "fp32",
        "device": "cpu",
        "mode": "inference",
        "layout": "default",
        "seed": 0,
        "options": {},
    }
    base.update(fields)
    return LoadRequest(**base)


def test_everything_synthetic_advertises_loads() -> None:
    caps = capabilities.SYNTHETIC
    for model in caps.models:
        for precision in caps.precisions:
            for device in caps.devices:
                for workload in caps.workloads:
                    for layout in caps.layouts:
                        options = {"optimizer": SGD} if workload == "training" else {}
                        req = _load(
                            model=model,
                            precision=precision,
                            device=device,
                            mode=workload,
                            layout=layout,
                            options=options,
                        )
                        reply = synthetic.create().load(req)
                        assert reply["settings"]["workload"] == workload


def test_synthetic_refuses_what_it_does_not_advertise() -> None:
    adapter = synthetic.create()
    with pytest.raises(WorkerError) as e:
        adapter.load(_load(model="resnet18"))
    assert e.value.kind == ErrorKind.UNSUPPORTED
    with pytest.raises(WorkerError) as e:
        adapter.load(_load(options={"num_threads": 1}))
    assert e.value.kind == ErrorKind.BAD_REQUEST
    adapter.load(_load())
    unadvertised = {
        "save_weights": lambda: adapter.save_weights("/tmp/w"),
        "outputs": lambda: adapter.outputs("/tmp/i", "/tmp/o"),
        "train": lambda: adapter.train(1, "/tmp/i"),
        "fit": lambda: adapter.fit("digits", 1),
        "probe": lambda: adapter.probe(ProbeRequest(device="cpu", precision="fp32", seconds=1.0)),
    }
    assert set(unadvertised).isdisjoint(capabilities.SYNTHETIC.requests)
    assert set(unadvertised) | set(capabilities.SYNTHETIC.requests) == set(
        capabilities.FRAMEWORK_REQUESTS
    )
    for request, call in unadvertised.items():
        with pytest.raises(WorkerError) as e:
            call()
        assert e.value.kind == ErrorKind.UNSUPPORTED, request
