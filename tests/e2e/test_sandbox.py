"""The environment axis with a real sandbox: the same synthetic cell runs natively and inside
bubblewrap (its own PID namespace, through the environment's launch prefix). Each worker reports
what it sees (hello's environment: the container runtime and its PID namespace), and the two
environments compare over repetitions like any other axis."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import ROOT, Dlbench

BWRAP = shutil.which("bwrap")


def bwrap_works() -> str:
    """Empty when bubblewrap can make a PID namespace here, else why not (a host that forbids
    unprivileged namespaces)."""
    if BWRAP is None:
        return "bubblewrap is not installed (scripts/setup.sh installs it for the tests)"
    p = subprocess.run([BWRAP, "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "true"],
                       capture_output=True, text=True)
    return "" if p.returncode == 0 else f"bwrap cannot make a PID namespace here: {p.stderr.strip()}"


def run_native_and_sandboxed(dlbench: Dlbench, experiment: str, *compare_args: str) -> tuple[dict, dict]:
    """Runs an experiment whose environments are native and sandbox (bubblewrap): every repetition
    is ok, started through the prefix exactly in the sandbox, and reports bubblewrap there and not
    natively, in PID namespaces the native ones do not share; the environments compare over their 2
    repetitions each. Returns what each environment saw, {env: {(container, pid namespace)}}, and
    the comparison."""
    dlbench.write("s.toml", experiment.replace("BWRAP", str(BWRAP)))
    r = dlbench("run", "s.toml")
    assert r.code == 0, r.err + r.out
    rows = dlbench.query(
        "SELECT c.environment, r.status, r.hello_json, r.launch_prefix, r.worker_argv FROM repetitions r "
        "JOIN cells c USING (cell_id) ORDER BY c.environment, r.rep_idx")
    seen: dict[str, set] = {}
    for env, status, hello, prefix, argv in rows:
        assert status == "ok", (env, status)
        e = json.loads(hello)["environment"]
        seen.setdefault(env, set()).add((e["container"], e["pid_namespace"]))
        assert ("bwrap" in prefix) == (env == "sandbox")
        assert (json.loads(argv)[0] == str(BWRAP)) == (env == "sandbox")
    assert "bubblewrap" not in {c for c, _ in seen["native"]}  # docker, say, where the tests run in one
    assert {c for c, _ in seen["sandbox"]} == {"bubblewrap"}
    assert not {ns for _, ns in seen["native"]} & {ns for _, ns in seen["sandbox"]}
    c = dlbench("compare", "latest", "--by", "environment", *compare_args, "--json")
    assert c.code == 0, c.err
    pair = json.loads(c.out)["comparisons"][0]
    assert pair["a"]["repetitions"] == 2 and pair["b"]["repetitions"] == 2
    return seen, pair

EXPERIMENT = """
[experiment]
name = "sandbox"
repetitions = 2
timeout_s = 60
[matrix]
framework = "synthetic"
model = "synthetic"
batch = 1
environment = ["native", "sandbox"]
[sampling]
min_iterations = 20
min_time_s = 0.05
max_time_s = 1
window_min_time_s = 0
[options]
latency = { distribution = "constant", value_ns = 200000 }
[environments.native]
[environments.sandbox]
description = "bubblewrap: the host's files, its own PID namespace"
prefix = ["BWRAP", "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent"]
"""


def test_native_and_bubblewrap_environments(dlbench: Dlbench) -> None:
    if why := bwrap_works():
        pytest.skip(why)
    seen, pair = run_native_and_sandboxed(dlbench, EXPERIMENT)
    # every sandboxed worker had a PID namespace of its own
    assert len({ns for _, ns in seen["native"]}) == 1 and len({ns for _, ns in seen["sandbox"]}) == 2
    assert {pair["a"]["key"].split("/")[8], pair["b"]["key"].split("/")[8]} == {"native", "sandbox"}


SERVER_EXPERIMENT = """
[experiment]
name = "sandboxed-server"
repetitions = 2
[matrix]
framework = "llama-cpp"
model = "llama-tiny"
workload = "generation"
environment = ["native", "sandbox"]
[generation]
prompt_tokens = 8
new_tokens = 4
[servers.llama-cpp]
command = ["{serve_python}", "{serve_dir}/serve_llama_cpp.py", "--model", "{model}", "--seed", "{seed}",
           "--dir", "{scratch}", "--port", "{port}"]
health = "/v1/models"
prompt = "text"
eos_token = 2
models = ["llama-tiny"]
[load]
requests = 6
warmup = 1
[environments.native]
[environments.sandbox]
prefix = ["BWRAP", "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent"]
"""


def test_a_server_natively_and_in_bubblewrap(dlbench: Dlbench) -> None:
    """A serving stack's cells on the environment axis: the server is started through the
    environment's prefix, reports what it sees (its launcher's dlbench-environment line), and the
    two environments compare on time to first token."""
    if why := bwrap_works():
        pytest.skip(why)
    if not (ROOT / ".venv-serve" / "bin" / "python").exists():
        pytest.fail(".venv-serve is missing: run scripts/test (it installs llama.cpp's server)")
    run_native_and_sandboxed(dlbench, SERVER_EXPERIMENT, "--metric", "ttft")
