"""dlbench slurm on a real one-node Slurm cluster started here, without systemd.

The fixture starts munged, slurmctld and slurmd as background processes (as root: munged must run as
the munge user), in a private state directory with its own slurm.conf (SLURM_CONF), and stops only
the processes it started, by PID. The test submits a synthetic sweep as a job array, checks that the
merged database is the local run with the same seed cell for cell, then kills a shard mid-run and
resumes it. Skipped, with the reason, where the Slurm or munge binaries are missing (scripts/test
installs them) or where it cannot run as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Dlbench, synthetic_experiment

SBIN = ["/usr/sbin", "/usr/bin", "/sbin"]


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    tools = {n: _which(n) for n in ("munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "setpriv")}
    missing = [n for n, p in tools.items() if p is None]
    if missing:
        pytest.skip(f"Slurm/munge not installed ({', '.join(missing)} missing); scripts/test installs them through scripts/setup.sh")
    if os.geteuid() != 0:
        pytest.skip("the one-node Slurm cluster needs root (munged runs as the munge user)")
    if not Path("/etc/munge/munge.key").exists():
        pytest.skip("/etc/munge/munge.key is missing (the munge package creates it)")
    work = tmp_path_factory.mktemp("slurm")
    for d in ("state", "spool", "sweeps"):
        (work / d).mkdir()
    host = socket.gethostname().split(".")[0]
    conf = work / "slurm.conf"
    conf.write_text(f"""ClusterName=dlbench
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation={work}/state
SlurmdSpoolDir={work}/spool
SlurmctldPidFile={work}/slurmctld.pid
SlurmdPidFile={work}/slurmd.pid
SlurmctldLogFile={work}/slurmctld.log
SlurmdLogFile={work}/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    env = {**os.environ, "SLURM_CONF": str(conf)}
    procs: list[subprocess.Popen] = []

    def start(argv: list[str], log: str) -> None:
        procs.append(subprocess.Popen(argv, stdout=open(work / log, "w"), stderr=subprocess.STDOUT, env=env))

    try:
        run_munge = Path("/run/munge")
        run_munge.mkdir(exist_ok=True)
        shutil.chown(run_munge, "munge", "munge")
        run_munge.chmod(0o755)
        socket_path = run_munge / "munge.socket.2"
        if not socket_path.exists():  # a munged already running here is used as it is
            start([tools["setpriv"], "--reuid=munge", "--regid=munge", "--clear-groups", tools["munged"], "-F"], "munged.out")
            _wait(socket_path.exists, 10, "munged's socket")
        start([tools["slurmctld"], "-D", "-c", "-f", str(conf)], "slurmctld.out")
        _wait(lambda: "UP" in subprocess.run([tools["scontrol"], "ping"], env=env, capture_output=True, text=True).stdout,
              20, "slurmctld")
        start([tools["slurmd"], "-D", "-f", str(conf)], "slurmd.out")
        _wait(lambda: subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout.strip() == "idle",
              20, "the node to be idle")
        yield {"env": env, "work": work}
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _queue_empty(env: dict[str, str]) -> bool:
    return subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True).stdout.strip() == ""


def _reps(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT c.cell_key, c.cell_idx, r.rep_idx, r.order_idx, r.status, r.median_ns "
                           "FROM repetitions r JOIN cells c USING (cell_id) ORDER BY c.cell_key, r.rep_idx").fetchall()


EXPERIMENT = synthetic_experiment(
    name="fleet", batches="[1, 2]", repetitions=3, options="",
    sampling="min_iterations = 20\nmin_time_s = MIN_TIME\nmax_time_s = 2\nwindow_min_time_s = 0.02",
    extra="""
[variants.base]
options = { latency = { distribution = "constant", value_ns = 200000, between_sigma = 0.3 } }
[variants.slower]
options = { latency = { distribution = "constant", value_ns = 260000, between_sigma = 0.3 } }
# The two shards share this node's CPUs unbound (TaskPlugin=task/none), so each sees the other
# take about half of its CPUs: by default every repetition would count as contaminated, get
# replaced, and be left out of check. This test is about the plan a sweep splits and merges, so
# contention is only recorded, and flagged only above 95%.
[contention]
policy = "record"
threshold = 0.95
""").replace("[experiment]\n", '[experiment]\nseed = 11\ncompare_by = "variant"\n', 1)


def _same_as_local(local: Path, merged: Path) -> None:
    a, b = _reps(local), _reps(merged)
    assert [x[:5] for x in b] == [x[:5] for x in a]
    for m, loc in zip(b, a):
        assert abs(m[5] / loc[5] - 1) < 0.10, (m, loc)


def test_sweep_as_a_job_array_then_resume_a_killed_shard(dlbench: Dlbench, cluster) -> None:
    env = cluster["env"]
    dlbench.write("fleet.toml", EXPERIMENT.replace("MIN_TIME", "0.02"))
    assert dlbench("run", "fleet.toml", "-q", "--db", "local.db").code == 0

    out = dlbench.workdir / "sweep"
    r = dlbench("slurm", "submit", "fleet.toml", "--out", out, "--partition", "debug", "--time", "10",
                "--array-parallelism", "2", env=env)
    assert r.code == 0, r.err
    script = (out / "shards.sbatch").read_text()
    assert "#SBATCH --array=0-1%2" in script and "#SBATCH --partition=debug" in script
    _wait(lambda: _queue_empty(env), 120, "the sweep's jobs")
    assert (out / "merged.db").exists(), (out / "logs").iterdir()
    _same_as_local(dlbench.workdir / "local.db", out / "merged.db")
    status = dlbench("slurm", "status", out, env=env)
    assert status.code == 0 and "2 of 2 shards complete" in status.out, status.out
    cmp = dlbench("compare", "latest", "--by", "variant", "--db", out / "merged.db")
    assert cmp.code == 0, cmp.err
    gate = dlbench("check", "--baseline", "local.db", "--candidate", out / "merged.db", "--threshold", "20%")
    assert gate.code == 0, gate.out + gate.err  # the sweep is the local run again, cell for cell

    # A shard killed mid-run, then resumed: only it runs again, and the merge is whole.
    slow = dlbench.workdir / "slow"
    dlbench.write("slow.toml", EXPERIMENT.replace("MIN_TIME", "0.5"))
    assert dlbench("run", "slow.toml", "-q", "--db", "local-slow.db").code == 0
    r = dlbench("slurm", "submit", "slow.toml", "--out", slow, "--array-parallelism", "1", env=env)
    assert r.code == 0, r.err
    array = r.out.split("array job ")[1].split(",")[0]

    def shard0_started() -> bool:
        db = slow / "shards" / "shard-0.db"
        if not db.exists():
            return False
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                return con.execute("SELECT COUNT(*) FROM repetitions").fetchone()[0] >= 1
        except sqlite3.Error:
            return False

    _wait(shard0_started, 60, "shard 0's first repetition")
    # One shard at a time: shard 0 runs, shard 1 waits in the queue.
    during = dlbench("slurm", "status", slow, env=env).out
    rows = {line.split()[0]: line.split()[1] for line in during.splitlines() if line.strip()[:1].isdigit()}
    assert rows.get("0") == "RUNNING" and rows.get("1") == "PENDING", during
    subprocess.run(["scancel", "--signal=KILL", "--full", f"{array}_0"], env=env, check=True)
    _wait(lambda: _queue_empty(env), 120, "the rest of the sweep")
    status = dlbench("slurm", "status", slow, env=env)
    assert "1 of 2 shards complete" in status.out, status.out
    resumed = dlbench("slurm", "resume", slow, env=env)
    assert resumed.code == 0, resumed.err
    assert "resubmitted shard(s) 0 as array job" in resumed.out
    _wait(lambda: _queue_empty(env), 120, "the resumed shard")
    assert "2 of 2 shards complete" in dlbench("slurm", "status", slow, env=env).out
    assert list((slow / "shards").glob("shard-0.db.before-job-*"))  # the killed try, kept aside
    _same_as_local(dlbench.workdir / "local-slow.db", slow / "merged.db")


def test_submit_refuses_bad_input(dlbench: Dlbench) -> None:
    dlbench.write("e.toml", synthetic_experiment(name="e") + '[slurm]\nsbatch = ["echo hi"]\n')
    r = dlbench("slurm", "submit", "e.toml", "--dry-run")
    assert r.code == 2 and "slurm.sbatch" in r.err and "not an sbatch option" in r.err, r.err
    r = dlbench("slurm", "status", "nowhere")
    assert r.code == 2 and "submission.json" in r.err
