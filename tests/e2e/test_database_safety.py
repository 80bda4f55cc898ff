"""The database and the output files are never damaged by dlbench, and a damaged one is not made
worse: commands that only read open the file read-only (another application's database, a database
on read-only media), commands that write refuse a file that is not dlbench's or is damaged, and an
output file appears whole or not at all.

Read-only media and a full disk are made with a private mount namespace (`unshare -rm`): a
read-only bind mount and a small tmpfs, with no privileges needed outside it."""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, Dlbench, Result, synthetic_experiment

READ_COMMANDS = [("list",), ("show", "latest"), ("show", "latest", "--cell", "0"),
                 ("export", "latest", "--format", "json", "--samples"), ("export", "latest", "--format", "csv"),
                 ("compare", "latest", "--by", "variant"),
                 ("report", "latest", "--out", "{out}", "--format", "md,csv")]

TWO_VARIANTS = """
[variants.a]
[variants.b]
options = { latency = { distribution = "constant", value_ns = 250000 } }
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def in_namespace(setup: str, *args: str, cwd: Path, after: str = "") -> Result:
    """Runs dlbench after `setup` (mount commands) in a private user and mount namespace, then the
    shell commands `after`, there too; the result carries dlbench's exit status."""
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("this system does not allow unprivileged mount namespaces (unshare -rm)")
    script = setup + (f' && {{ "$@"; code=$?; {after}; exit $code; }}' if after else ' && exec "$@"')
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", str(BIN), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Dlbench:
    """A finished run with two variants, closed cleanly (no -wal left)."""
    dlbench = Dlbench(tmp_path_factory.mktemp("results"))
    dlbench.write("two.toml", synthetic_experiment(name="two", batches="[1]", repetitions=2, extra=TWO_VARIANTS))
    r = dlbench("run", "two.toml", "-q")
    assert r.code == 0, r.err
    return dlbench


def test_read_commands_refuse_another_applications_database_and_leave_it_untouched(
        dlbench: Dlbench) -> None:
    other = dlbench.workdir / "other-apps.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        con.execute("INSERT INTO notes (text) VALUES ('keep me')")
    before = digest(other)
    for args in READ_COMMANDS + [("run", "x.toml")]:
        if args[0] == "run":
            dlbench.write("x.toml", synthetic_experiment(batches="[1]", repetitions=1))
        args = [a.format(out="out") for a in args]
        r = dlbench(*args, "--db", "other-apps.db")
        assert r.code == 2, (args, r.err)
        assert r.err.strip() == ("dlbench: error: other-apps.db is not a dlbench database (it holds the "
                                 "tables notes); dlbench leaves it as it is; use another --db"), args
    assert digest(other) == before
    assert sorted(p.name for p in dlbench.workdir.iterdir() if p.name.startswith("other-apps")) == [
        "other-apps.db"]
    with sqlite3.connect(other) as con:
        assert con.execute("PRAGMA user_version").fetchone() == (0,)
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_read_commands_change_nothing_not_even_a_dead_run(results: Dlbench, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(results.db, db)
    with sqlite3.connect(db) as con:  # as a controller killed with SIGKILL leaves its run
        con.execute("UPDATE runs SET status = 'running', finished_at = NULL, controller_pid = 2147483646")
    before = digest(db)
    for args in READ_COMMANDS:
        r = results(*[a.format(out=str(tmp_path / "out")) for a in args], "--db", str(db))
        assert r.code == 0, (args, r.err)
    assert "incomplete" in results("list", "--db", str(db)).out
    assert digest(db) == before
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("running",)]


def test_a_database_from_a_newer_dlbench_is_refused_by_every_command(results: Dlbench, tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    shutil.copy(results.db, db)
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA user_version = 99")
    before = digest(db)
    want = f"database {db} has schema version 99, newer than this dlbench understands"
    commands = [[a.format(out=str(tmp_path / "out")) for a in args] + ["--db", str(db)] for args in READ_COMMANDS]
    commands += [["check", "--baseline", str(db), "--candidate", str(results.db)], ["db", str(db)],
                 ["recommend", str(db)], ["merge", str(tmp_path / "merged.db"), str(db)]]
    for args in commands:
        r = results(*args)
        assert r.code == 3 and r.err.count("\n") == 1 and want in r.err, (args, r.code, r.err)
    assert digest(db) == before


def test_read_commands_leave_nothing_beside_the_database(results: Dlbench, tmp_path: Path) -> None:
    # The run left its file in rollback mode and nothing beside it; a file left in WAL mode (by an
    # older dlbench) is read as immutable. Neither gains a -wal or -shm from a command that reads.
    assert sorted(p.name for p in results.workdir.iterdir() if p.name.startswith("dlbench.db")) == [
        "dlbench.db"]
    commands = READ_COMMANDS + [("db",), ("recommend", "--objective", "throughput"), ("predict", "--batch", "2")]
    for journal in ["delete", "wal"]:
        folder = tmp_path / journal
        folder.mkdir()
        db = folder / "copy.db"
        shutil.copy(results.db, db)
        con = sqlite3.connect(db)
        assert con.execute(f"PRAGMA journal_mode = {journal}").fetchone() == (journal,)
        con.close()
        before = digest(db)
        for args in commands:
            args = [a.format(out=str(tmp_path / "out")) for a in args]
            # db, recommend and predict take their databases as arguments, not --db
            where = [str(db)] if args[0] in ("db", "recommend", "predict") else ["--db", str(db)]
            r = results(args[0], *where, *args[1:])
            assert r.code in (0, 1), (args, r.err)
            assert sorted(p.name for p in folder.iterdir()) == ["copy.db"], (journal, args)
        assert digest(db) == before


def test_every_read_command_works_on_read_only_media(results: Dlbench, tmp_path: Path) -> None:
    media, mount = tmp_path / "media", tmp_path / "ro"
    media.mkdir()
    mount.mkdir()
    shutil.copy(results.db, media / "archive.db")
    assert not (results.workdir / "dlbench.db-wal").exists()  # closed cleanly: nothing else to copy
    setup = f"mount --bind {media} {mount} && mount -o remount,bind,ro {mount}"
    for args in READ_COMMANDS:
        args = [a.format(out=str(tmp_path / "out")) for a in args]
        r = in_namespace(setup, *args, "--db", str(mount / "archive.db"), cwd=tmp_path)
        assert r.code == 0, (args, r.err)
        assert r.err == "" or args[0] == "report", (args, r.err)
    assert sorted(p.name for p in media.iterdir()) == ["archive.db"]
    # A write-ahead log without its index cannot be read there: said so, not silently ignored.
    (media / "archive.db-wal").write_bytes(b"x" * 100)
    r = in_namespace(setup, "list", "--db", str(mount / "archive.db"), cwd=tmp_path)
    assert r.code == 3 and "archive.db-wal) that cannot be read where it is" in r.err, r.err


def test_a_damaged_database_is_refused_before_anything_is_appended(results: Dlbench, tmp_path: Path) -> None:
    db = tmp_path / "damaged.db"
    shutil.copy(results.db, db)
    data = bytearray(db.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle:middle + page] = random.Random(1).randbytes(page)
    db.write_bytes(bytes(data))
    before = digest(db)
    results.write("more.toml", synthetic_experiment(name="more", batches="[1]", repetitions=1))
    r = results("run", "more.toml", "-q", "--db", str(db))
    assert r.code == 3, r.err
    assert f"database {db}: integrity check failed" in r.err
    assert f"{db} is damaged" in r.err and f"sqlite3 {db} .recover" in r.err
    assert digest(db) == before


def test_an_export_that_fails_leaves_the_previous_file(results: Dlbench, tmp_path: Path) -> None:
    r = results("export", "latest", "--format", "csv", "-o", "/dev/full")
    assert (r.code, r.err.strip()) == (3, "dlbench: error: cannot write /dev/full: No space left on device")
    disk = tmp_path / "disk"
    disk.mkdir()
    # A 64 KiB disk holding the previous export; the new one, with every sample, does not fit. The
    # file is looked at inside the namespace, where the tmpfs lives.
    setup = f"mount -t tmpfs -o size=64k tmpfs {disk} && printf previous > {disk}/keep.json && cd {disk}"
    r = in_namespace(setup, "export", "latest", "--format", "json", "--samples", "-o", "keep.json", "--db",
                     str(results.db), cwd=tmp_path, after="cat keep.json; echo; ls | grep -c tmp-")
    assert r.code == 3, r.err
    assert r.err.strip() == "dlbench: error: cannot write keep.json: No space left on device"
    assert r.out.splitlines() == ["previous", "0"], r.out  # as it was; no temporary file left


def test_a_report_that_fails_leaves_the_previous_files(results: Dlbench, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    setup = (f"mount -t tmpfs -o size=96k tmpfs {disk} && mkdir {disk}/out && "
             f"printf previous > {disk}/out/report.md && printf previous > {disk}/out/report.html && "
             f"head -c 60000 /dev/zero > {disk}/filler")
    r = in_namespace(setup, "report", "latest", "--out", f"{disk}/out", "--db", str(results.db), cwd=tmp_path,
                     after=f"cat {disk}/out/report.md; echo; ls {disk}/out | grep -c tmp-")
    assert r.code == 3, r.err
    assert "No space left on device" in r.err, r.err
    assert r.out.splitlines()[-2:] == ["previous", "0"], r.out  # as it was; no temporary file left


def test_a_run_fills_an_empty_file(dlbench: Dlbench) -> None:
    """An empty file (as `sqlite3 FILE` leaves one) is the run's to fill: no history, no refusal."""
    (dlbench.workdir / "empty.db").touch()
    dlbench.write("one.toml", synthetic_experiment(name="one", batches="[1]", repetitions=1))
    r = dlbench("run", "one.toml", "--db", "empty.db", "-q")
    assert r.code == 0, r.err
    assert sqlite3.connect(dlbench.workdir / "empty.db").execute("SELECT count(*) FROM runs").fetchone() == (1,)
