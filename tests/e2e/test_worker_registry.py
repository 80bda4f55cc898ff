"""The worker registry through the real CLI: a worker defined in the experiment file
(`[workers.NAME] command = [...]`) is checked against the capabilities it reports and started from
its argv template; a worker whose capabilities do not cover a cell, or that cannot report them, is
one error line naming file:line, field and allowed values, exit 2, nothing written. validate takes
its frameworks from the capabilities too."""

from __future__ import annotations

import json

from conftest import Dlbench

SAMPLING = (
    "[sampling]\nwarmup_min_iterations = 2\nmin_iterations = 5\nmin_time_s = 0\nmax_time_s = 1\n"
    "window_min_time_s = 0\n"
)

# A worker of its own: it reports narrower capabilities than the synthetic worker, and otherwise
# is the synthetic worker.
NARROW = """
import json, os, sys
if sys.argv[1:] == ["--capabilities"]:
    print(json.dumps({"capabilities": 1, "protocol": 1, "worker": "narrow", "framework": "synthetic",
                      "models": ["synthetic"], "precisions": ["fp32"], "devices": ["cpu"],
                      "workloads": ["inference"], "layouts": ["default"], "options": ["latency"],
                      "requests": ["hello", "load", "measure", "bye"], "canonical_weights": False}))
else:
    os.execv(sys.executable, [sys.executable, "-m", "dlbench_worker", "synthetic"])
"""


def experiment(worker_table: str, framework: str, matrix_extra: str = "") -> str:
    return (
        f'[experiment]\nname = "registry"\nrepetitions = 1\n{worker_table}[matrix]\n'
        f'framework = "{framework}"\nmodel = "synthetic"\n{matrix_extra}{SAMPLING}'
    )


def test_a_user_worker_entry_runs_through_its_argv_template(dlbench: Dlbench) -> None:
    table = '[workers.mini]\ncommand = ["{python}", "-m", "dlbench_worker", "synthetic"]\n'
    dlbench.write("e.toml", experiment(table, "mini"))
    r = dlbench("run", "e.toml", "-q")
    assert r.code == 0, r.err
    cells = dlbench.query("SELECT framework, status FROM cells")
    assert cells == [("mini", "ok")]
    (argv,) = dlbench.query("SELECT worker_argv FROM repetitions")[0]
    argv = json.loads(argv)
    assert argv[1:] == ["-m", "dlbench_worker", "synthetic"]
    assert argv[0].endswith("python") or "python" in argv[0]


def test_a_worker_of_its_own_is_checked_against_what_it_reports(dlbench: Dlbench) -> None:
    dlbench.write("narrow.py", NARROW)
    table = '[workers.narrow]\ncommand = ["{python}", "narrow.py"]\n'
    dlbench.write("ok.toml", experiment(table, "narrow"))
    r = dlbench("run", "ok.toml", "-q")
    assert r.code == 0, r.err
    dlbench.db.unlink()
    cases = {
        'precision = ["fp32", "bf16"]\n': 'bad.toml:9: matrix.precision: "bf16" is not supported by '
        "the narrow worker; allowed: fp32",
        'device = "cuda"\n': 'bad.toml:9: matrix.device: "cuda" is not a device of the narrow '
        "worker; allowed: cpu",
        "[options]\nfaults = { crash = \"load\" }\n": 'bad.toml:10: options.faults: the narrow worker '
        'has no option "faults"; allowed: latency (limit a variant to frameworks with '
        "`frameworks = [...]`)",
    }
    for extra, message in cases.items():
        dlbench.write("bad.toml", experiment(table, "narrow", extra))
        r = dlbench("run", "bad.toml", "--dry-run")
        assert r.code == 2, (extra, r)
        assert r.err.strip() == "dlbench: error: " + message
    assert not dlbench.db.exists()


def test_a_worker_that_cannot_report_is_named_with_its_line(dlbench: Dlbench) -> None:
    table = '[workers.ghost]\ncommand = ["dlbench-no-such-worker"]\n'
    dlbench.write("bad.toml", experiment(table, "ghost"))
    r = dlbench("run", "bad.toml", "--dry-run")
    assert r.code == 2, r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "dlbench: error: bad.toml:5: workers.ghost.command: the worker cannot say what it runs "
        "(dlbench-no-such-worker --capabilities): "
    ), lines[0]
    assert not dlbench.db.exists()


def test_a_bad_template_is_refused(dlbench: Dlbench) -> None:
    dlbench.write("bad.toml", experiment('[workers.x]\ncommand = ["{pyhton}"]\n', "x"))
    r = dlbench("run", "bad.toml", "--dry-run")
    assert r.code == 2
    assert r.err.strip() == (
        'dlbench: error: bad.toml:5: workers.x.command: unknown placeholder {pyhton} in "{pyhton}"; '
        "allowed: {python}, {workers_dir}, {worker}"
    )


def test_validate_takes_its_frameworks_from_the_capabilities(dlbench: Dlbench) -> None:
    r = dlbench("validate", "--framework", "synthetic", "--framework", "torch")
    assert r.code == 2
    assert r.err.strip() == (
        "dlbench: error: --framework synthetic: not a framework with weights; allowed: torch, jax"
    )
