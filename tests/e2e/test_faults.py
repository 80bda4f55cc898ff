"""Fault paths with real processes (the synthetic model's fault switches, no mocks): a crash, a
hang past the deadline, garbage on the protocol, an exit, an error kind, an unsupported cell. Each
is recorded with its status, exit status or signal and log, the worker's process group is killed,
and the matrix goes on. Then the controller itself is interrupted and killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, Dlbench, synthetic_experiment

FAULTS = """
[variants.healthy]
[variants.crash_load]
options = { faults = { crash = "load" } }
[variants.crash_measure]
options = { faults = { crash = "measure", after_samples = 7 } }
[variants.hang]
options = { faults = { hang = "measure" } }
[variants.garbage]
options = { faults = { garbage = "load" } }
[variants.exit3]
options = { faults = { exit = "load", code = 3 } }
[variants.oom]
options = { faults = { error = "load", kind = "out_of_memory" } }
[variants.unsupported]
options = { unsupported = "this synthetic cell cannot run here" }
[variants.noisy]
options = { faults = { stdout_noise = true } }
"""


def worker_pids_alive(workdir: Path) -> list[int]:
    """Python workers started from this test's directory that are still running."""
    alive = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if b"dlbench_worker" in cmdline and cwd == str(workdir):
            alive.append(int(proc.name))
    return alive


def test_every_fault_is_recorded_and_the_matrix_goes_on(dlbench: Dlbench) -> None:
    text = synthetic_experiment(batches="[1]", repetitions=2, extra=FAULTS)
    text = text.replace("timeout_s = 20", "timeout_s = 2")
    dlbench.write("faults.toml", text)
    t0 = time.monotonic()
    r = dlbench("run", "faults.toml")
    assert r.code == 1, r.err  # finished, some cells failed
    assert time.monotonic() - t0 < 120
    rows = dlbench.query(
        "SELECT c.variant, r.rep_idx, r.status, r.error_kind, r.phase, r.exit_code, r.term_signal, "
        "r.message, r.log FROM cells c JOIN repetitions r USING (cell_id) ORDER BY c.cell_idx, r.rep_idx")
    by = {}
    for row in rows:
        by.setdefault(row[0], []).append(row)
    # every repetition of every cell ran, except the unsupported cell's second one
    assert {v: len(rs) for v, rs in by.items()} == {
        "healthy": 2, "crash_load": 2, "crash_measure": 2, "hang": 2, "garbage": 2, "exit3": 2,
        "oom": 2, "unsupported": 1, "noisy": 2}
    cells = dict(dlbench.query("SELECT variant, status FROM cells"))
    assert cells == {"healthy": "ok", "crash_load": "failed", "crash_measure": "failed",
                     "hang": "failed", "garbage": "failed", "exit3": "failed", "oom": "failed",
                     "unsupported": "unsupported", "noisy": "ok"}

    _, _, status, kind, phase, code, sig, msg, log = by["crash_load"][0]
    assert (status, kind, phase, sig) == ("failed", "crashed", "load", signal.SIGSEGV)
    assert "killed by signal 11" in msg
    assert "Fatal Python error" in log or "Segmentation fault" in log  # faulthandler's trace
    _, _, status, kind, phase, code, sig, msg, _ = by["crash_measure"][0]
    assert (status, kind, sig) == ("failed", "crashed", signal.SIGSEGV)
    assert phase in ("warmup", "measure")
    _, _, status, kind, phase, code, sig, msg, _ = by["hang"][0]
    assert (status, kind, sig) == ("failed", "timeout", signal.SIGKILL)
    assert "did not reply within" in msg and "killed with its process group" in msg
    _, _, status, kind, phase, code, sig, msg, _ = by["garbage"][0]
    assert (status, kind, phase) == ("failed", "protocol", "load")
    assert 'reply is not JSON: "this is not json"' in msg
    _, _, status, kind, phase, code, sig, msg, _ = by["exit3"][0]
    assert (status, kind, phase, code) == ("failed", "crashed", "load", 3)
    assert "exit status 3" in msg
    _, _, status, kind, phase, code, sig, msg, _ = by["oom"][0]
    assert (status, kind, phase, code) == ("failed", "out_of_memory", "load", 0)  # said bye, exited
    _, _, status, kind, phase, _, _, msg, _ = by["unsupported"][0]
    assert (status, kind, msg) == ("unsupported", "unsupported", "this synthetic cell cannot run here")
    noisy_log = by["noisy"][0][8]
    assert "noise from fd 1" in noisy_log  # framework output went to the log, not the protocol
    assert worker_pids_alive(dlbench.workdir) == []


LONG = synthetic_experiment(
    batches="[1, 2, 3, 4, 5, 6]", repetitions=2,
    sampling="min_iterations = 20\nmin_time_s = 0.6\nmax_time_s = 1\ntarget_rel_ci = 0.0001\nwindow_min_time_s = 0")


def wait_for_repetitions(dlbench: Dlbench, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dlbench.db.exists():
            try:
                if dlbench.query("SELECT COUNT(*) FROM repetitions")[0][0] >= n:
                    return
            except Exception:  # the file may be mid-creation
                pass
        time.sleep(0.1)
    raise AssertionError("repetitions never appeared")


def test_ctrl_c_keeps_finished_work_and_marks_the_run_incomplete(dlbench: Dlbench) -> None:
    dlbench.write("long.toml", LONG)
    proc = subprocess.Popen([str(BIN), "run", "long.toml"], cwd=dlbench.workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_repetitions(dlbench, 2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; run 1 is stored as incomplete" in err
    assert dlbench.query("SELECT status FROM runs") == [("incomplete",)]
    assert dlbench.query("PRAGMA integrity_check") == [("ok",)]
    done = dlbench.query("SELECT COUNT(*) FROM repetitions")[0][0]
    assert 2 <= done < 12
    # no half-stored repetition: every stored one has all its samples
    for rep_id, n, warm in dlbench.query("SELECT repetition_id, n_samples, warmup_iterations FROM repetitions"):
        assert dlbench.query("SELECT COUNT(*) FROM samples WHERE repetition_id = ?", rep_id)[0][0] == n + warm
    assert worker_pids_alive(dlbench.workdir) == []


def test_sigkill_of_the_controller_leaves_a_consistent_database(dlbench: Dlbench) -> None:
    dlbench.write("long.toml", LONG)
    proc = subprocess.Popen([str(BIN), "run", "long.toml", "-q"], cwd=dlbench.workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_repetitions(dlbench, 3)
    proc.kill()
    proc.wait(timeout=30)
    assert dlbench.query("PRAGMA integrity_check") == [("ok",)]
    # Commands that read see that the controller is gone and show the run as incomplete, finished
    # at its last stored repetition, without writing that into the file.
    r = dlbench("list")
    assert r.code == 0
    assert "incomplete" in r.out
    assert dlbench.query("SELECT status, finished_at FROM runs") == [("running", None)]
    last = dlbench.query("SELECT MAX(finished_at) FROM repetitions")[0][0]
    show = dlbench("show", "1").out
    assert f"status incomplete; started" in show and f"finished {last}" in show
    # Cells that did not run all their repetitions say so: "1/2", not "1/1"; never-run ones too.
    assert "incomplete" in show and "never ran" in show
    assert " 0/2 " in show or "not run" in show
    r = dlbench("report", "1", "--out", "rep", "--format", "md")
    assert r.code == 0, r.err
    assert "never ran" in (dlbench.workdir / "rep" / "report.md").read_text()
    # The next command that writes marks the run in the file, as of its last stored repetition.
    dlbench.write("tiny.toml", synthetic_experiment(name="tiny", batches="[1]", repetitions=1))
    assert dlbench("run", "tiny.toml", "-q").code == 0
    assert dlbench.query("SELECT status, finished_at FROM runs WHERE run_id = 1") == [("incomplete", last)]
    assert dlbench.query("SELECT COUNT(*) FROM repetitions")[0][0] >= 3
    # Orphaned workers leave on their own once their stdin closes (at most one chunk later).
    deadline = time.monotonic() + 20
    while worker_pids_alive(dlbench.workdir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worker_pids_alive(dlbench.workdir) == []


HANG = synthetic_experiment(
    batches="[1]", repetitions=1, options='faults = { hang = "measure" }',
    extra="""
[environments.native]
[environments.forking]
prefix = ["sh", "-c", "\\"$@\\"; exit $?", "sh"]
""").replace("timeout_s = 20", "timeout_s = 600")


@pytest.mark.parametrize("environment", ["native", "forking"])
def test_a_hung_worker_dies_with_a_sigkilled_controller(dlbench: Dlbench, environment: str) -> None:
    # "native" execs the worker directly (PR_SET_PDEATHSIG); "forking" puts a shell in front that
    # forks it, which only the watchdog reaches.
    dlbench.write("hang.toml", HANG)
    proc = subprocess.Popen([str(BIN), "run", "hang.toml", "-q", "--filter", f"environment={environment}"],
                            cwd=dlbench.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not worker_pids_alive(dlbench.workdir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker_pids_alive(dlbench.workdir), "the worker never started"
    time.sleep(1)  # into the hang: the worker no longer reads its stdin
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while worker_pids_alive(dlbench.workdir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker_pids_alive(dlbench.workdir) == []


def test_a_launch_prefix_that_exits_after_closing_its_output_keeps_its_exit_status(dlbench: Dlbench) -> None:
    # The prefix closes the reply stream first and exits 127 a moment later, as a launcher that
    # cannot find its program does: the controller must wait for that status, not kill and record
    # "killed by signal 9".
    extra = """
[environments.late]
prefix = ["sh", "-c", "exec 1>&-; sleep 0.5; exit 127", "sh"]
"""
    dlbench.write("late.toml", synthetic_experiment(batches="[1]", repetitions=1, extra=extra))
    r = dlbench("run", "late.toml", "-q")
    assert r.code == 1, r.err
    rows = dlbench.query("SELECT error_kind, phase, exit_code, term_signal, message FROM repetitions")
    assert rows == [("crashed", "hello", 127, None, "worker exited during hello: exit status 127")]


def test_a_worker_out_of_memory_at_start_says_so(dlbench: Dlbench) -> None:
    # An 8 MB address-space limit: the worker cannot even map its libraries.
    extra = """
[environments.small]
prefix = ["prlimit", "--as=8000000"]
"""
    dlbench.write("oom.toml", synthetic_experiment(batches="[1]", repetitions=1, extra=extra))
    r = dlbench("run", "oom.toml", "-q")
    assert r.code == 1, r.err
    [(kind, phase, message)] = dlbench.query("SELECT error_kind, phase, message FROM repetitions")
    assert (kind, phase) == ("out_of_memory", "hello")
    assert message.startswith("worker ran out of memory during hello: exit status"), message
    assert "the log says:" in message


def test_an_endless_reply_line_is_refused_at_the_limit(dlbench: Dlbench) -> None:
    # A prefix that writes 300 MB without a newline on the reply stream: refused once 256 MiB have
    # arrived (the scan is linear, so this takes seconds, not minutes), and the matrix goes on.
    extra = """
[environments.flood]
prefix = ["sh", "-c", "yes x | tr -d '\\\\n' | head -c 300000000; exec \\"$@\\"", "sh"]
"""
    dlbench.write("flood.toml", synthetic_experiment(batches="[1]", repetitions=1, extra=extra))
    r = dlbench("run", "flood.toml", "-q", timeout=300)
    assert r.code == 1, r.err
    [(kind, phase, message)] = dlbench.query("SELECT error_kind, phase, message FROM repetitions")
    assert (kind, phase) == ("crashed", "hello")
    assert message.startswith("worker sent an oversized reply during hello"), message
