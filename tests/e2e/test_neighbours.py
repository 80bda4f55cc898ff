"""Noisy neighbours: a real competing process on the worker's CPU while it is timed is measured
from /proc chunk by chunk. Under the policy `exclude` (the default) its chunks are left out of the
repetition's estimate, a repetition left without enough clean samples is flagged, replaced at the
end of its round and left out of the verdicts, and the quiet gate waits before each repetition;
under `record` everything is only measured and flagged. The summary, show and compare say so."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import Dlbench

# Two cells pinned to CPU 0 whose calls spin on their thread's CPU time (clock "cpu"), so a
# neighbour on CPU 0 stretches them as it would stretch real work. B is 25% slower than A.
EXPERIMENT = """
[experiment]
name = "neighbours"
repetitions = 3
order = "interleaved"
compare_by = "variant"
telemetry_interval_s = 0
[matrix]
framework = ["synthetic"]
model = ["synthetic"]
environment = ["cpu0"]
variant = ["a", "b"]
[variants.a]
options = { latency = { distribution = "constant", value_ns = 2000000, clock = "cpu" } }
[variants.b]
options = { latency = { distribution = "constant", value_ns = 2500000, clock = "cpu" } }
[environments.cpu0]
prefix = ["taskset", "-c", "0"]
[sampling]
warmup_min_iterations = 2
min_iterations = 20
min_time_s = 0.5
max_time_s = 1.5
window_min_time_s = 0.1
[energy]
windows = 0
"""

HOG = [sys.executable, "-c", "while True: pass"]


def hog_on_cpu0() -> subprocess.Popen:
    return subprocess.Popen(["taskset", "-c", "0", *HOG])


def synthetic_workers() -> set[int]:
    """The pids of running synthetic worker processes (their command line names the worker)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # Not the capability probe (`--capabilities`), which starts before any repetition.
        if b"dlbench_worker" in cmdline and b"synthetic" in cmdline and b"--capabilities" not in cmdline:
            found.add(int(entry))
    return found


class NeighbourDuringWorker(threading.Thread):
    """Starts a hog on CPU 0 as soon as the `nth` synthetic worker process of the run appears, and
    stops it when that worker has exited: a neighbour for exactly one repetition."""

    def __init__(self, nth: int) -> None:
        super().__init__(daemon=True)
        self.nth = nth
        self.stop = threading.Event()
        self.hogged_pid: int | None = None

    def run(self) -> None:
        seen: list[int] = []
        while not self.stop.is_set():
            for pid in sorted(synthetic_workers() - set(seen)):
                seen.append(pid)
            if len(seen) >= self.nth:
                break
            time.sleep(0.002)
        if self.stop.is_set():
            return
        self.hogged_pid = seen[self.nth - 1]
        hog = hog_on_cpu0()
        try:
            while Path(f"/proc/{self.hogged_pid}").exists() and not self.stop.is_set():
                time.sleep(0.01)
        finally:
            hog.kill()
            hog.wait()


def test_a_neighbour_during_one_repetition_is_left_out_and_replaced(dlbench: Dlbench, tmp_path: Path) -> None:
    dlbench.write("n.toml", EXPERIMENT)
    # The third worker is variant a's second repetition (interleaved: a, b, a, b, ...).
    neighbour = NeighbourDuringWorker(3)
    neighbour.start()
    try:
        r = dlbench("run", "n.toml")
    finally:
        neighbour.stop.set()
        neighbour.join()
    assert r.code == 0, r.err
    assert neighbour.hogged_pid is not None
    # Variant a: repetitions 0, 1 (the neighbour's), 2, and 3 replacing 1 at the end of its round
    # (the plan numbers its own repetitions 0-2, so the replacement comes after them).
    rows = dlbench.query(
        "SELECT r.rep_idx, r.contaminated, r.excluded_chunks, r.replaces_rep_idx, r.quiet_gate "
        "FROM repetitions r JOIN cells c USING (cell_id) WHERE c.variant = 'a' ORDER BY r.rep_idx")
    assert [row[0] for row in rows] == [0, 1, 2, 3], rows
    assert rows[1][1] == 1 and rows[1][2] > 0, rows  # flagged, its chunks excluded
    assert rows[3][3] == 1 and rows[3][1] == 0, rows  # the clean replacement of repetition 1
    assert all(row[4] == "quiet" for row in rows), rows
    assert [row[1] for row in rows] == [0, 1, 0, 0]
    # The excluded chunks' samples are stored but out of the repetition's estimate.
    excluded = dlbench.query(
        "SELECT COUNT(*) FROM samples s JOIN chunks k ON k.repetition_id = s.repetition_id AND "
        "k.chunk_idx = s.chunk_idx JOIN repetitions r ON r.repetition_id = s.repetition_id "
        "WHERE r.rep_idx = 1 AND k.excluded AND k.other_cpu_frac > 0.2")
    assert excluded[0][0] > 0
    assert dlbench.query("SELECT variant, contaminated_repetitions, replaced_repetitions FROM cells "
                         "ORDER BY cell_idx") == [("a", 1, 1), ("b", 0, 0)]
    assert "contaminated" in r.err and "replaced at the end of its round" in r.err
    # The summary says the machine was busy, and the verdict is the quiet run's.
    assert "The machine was busy" in r.out
    assert "1 a repetition measured beside a busy neighbour was left out" in r.out
    quiet = Dlbench(tmp_path / "quiet")
    quiet.workdir.mkdir()
    quiet.write("n.toml", EXPERIMENT)
    assert quiet("run", "n.toml").code == 0
    for d in (dlbench, quiet):
        cmp = d("compare", "latest", "--by", "variant", "--json")
        assert cmp.code == 0, cmp.err
        assert '"verdict": "B slower"' in cmp.out, cmp.out
    assert "The machine was busy" not in quiet("show", "latest").out
    # --include-contaminated puts the repetition back: 4 of a's.
    back = dlbench("compare", "latest", "--by", "variant", "--include-contaminated")
    assert "4 and 3 repetitions" in back.out, back.out
    assert "3 and 3 repetitions" in dlbench("compare", "latest", "--by", "variant").out
    cell = dlbench("show", "latest", "--cell", "0")
    assert "left out of the estimate" in cell.out and "replaces repetition 1" in cell.out


def test_a_neighbour_throughout_is_recorded_under_policy_record(dlbench: Dlbench) -> None:
    dlbench.write("n.toml", EXPERIMENT.replace("repetitions = 3", "repetitions = 2") +
                  '[contention]\npolicy = "record"\n')
    hog = hog_on_cpu0()
    try:
        r = dlbench("run", "n.toml")
    finally:
        hog.kill()
        hog.wait()
    assert r.code == 0, r.err
    rows = dlbench.query(
        "SELECT other_cpu_frac, steal_frac, load_avg_1m, contaminated, excluded_chunks, quiet_gate, "
        "replaces_rep_idx FROM repetitions WHERE status = 'ok' ORDER BY repetition_id")
    assert len(rows) == 4  # no replacements under record
    for other, steal, load, contaminated, excluded, gate, replaces in rows:
        assert other > 0.2, rows  # the hog had about half of CPU 0
        assert contaminated == 1 and excluded == 0 and gate is None and replaces is None
        assert steal is not None and load is not None
    chunks = dlbench.query("SELECT COUNT(*), SUM(contaminated), SUM(excluded) FROM chunks "
                           "WHERE phase = 'measure'")
    assert chunks[0][0] > 0 and chunks[0][1] > 0 and chunks[0][2] == 0
    assert "The machine was busy" in r.out
    # Every repetition left out: no interval, and the sentence says why and what to do.
    assert "an interval needs 2 clean repetitions a side" in r.out
    assert "--include-contaminated" in r.out
    show = dlbench("show", "latest")
    assert "CONTAMINATED" in show.out
    cell = dlbench("show", "latest", "--cell", "0")
    assert "neighbours while timed: other processes" in cell.out and "CONTAMINATED (above 10%)" in cell.out
    cmp = dlbench("compare", "latest", "--by", "variant")
    assert cmp.code == 0, cmp.err
    assert "2 of A's and 2 of B's repetitions were measured beside other processes" in cmp.out
    back = dlbench("compare", "latest", "--by", "variant", "--include-contaminated")
    assert "2 and 2 repetitions" in back.out and "INCLUDED" in back.out
    assert dlbench.query("SELECT contaminated_repetitions FROM cells") == [(2,), (2,)]


def test_a_machine_that_never_becomes_quiet_does_not_hang_the_run(dlbench: Dlbench) -> None:
    dlbench.write("n.toml", EXPERIMENT.replace("repetitions = 3", "repetitions = 1") +
                  "[contention]\nquiet_timeout_s = 0.5\nquiet_window_s = 0.25\nreplacements = 1\n")
    hog = hog_on_cpu0()
    try:
        r = dlbench("run", "n.toml", timeout=120)
    finally:
        hog.kill()
        hog.wait()
    assert r.code == 0, r.err
    gates = dlbench.query("SELECT quiet_gate, quiet_wait_s FROM repetitions")
    assert gates and all(g == "timeout" and 0.5 <= w < 2 for g, w in gates), gates
    assert "did not become quiet within" in r.err
    assert "started without a quiet window" in r.out


def test_every_repetition_records_its_chunks(dlbench: Dlbench) -> None:
    dlbench.write("n.toml", EXPERIMENT.replace("repetitions = 3", "repetitions = 1"))
    assert dlbench("run", "n.toml").code == 0
    rows = dlbench.query(
        "SELECT other_cpu_frac, contaminated, contention_policy, contention_threshold FROM repetitions")
    assert len(rows) == 2
    assert all(0.0 <= o <= 1.0 and c in (0, 1) and p == "exclude" and t == 0.1 for o, c, p, t in rows)
    phases = dlbench.query("SELECT DISTINCT phase FROM chunks ORDER BY phase")
    assert phases == [("measure",), ("warmup",), ("window",)]
    # Every sample belongs to a recorded chunk.
    orphans = dlbench.query(
        "SELECT COUNT(*) FROM samples s LEFT JOIN chunks k ON k.repetition_id = s.repetition_id "
        "AND k.chunk_idx = s.chunk_idx WHERE k.chunk_idx IS NULL")
    assert orphans == [(0,)]
