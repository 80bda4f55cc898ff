"""Every bad-input path of the CLI: one line naming file, line, field and allowed values; exit 2;
no database written. Every user-facing error line has a test here."""

from __future__ import annotations

import pytest

from conftest import Dlbench

HEAD = '[experiment]\nname = "x"\n[matrix]\nframework = ["torch", "jax"]\n'

CASES = {
    "unknown_key": (
        HEAD + 'model = "resnet18"\nbtach = [1]\n',
        'bad.toml:6: matrix.btach: unknown key "btach" in [matrix]; allowed: framework, model, '
        "batch, precision, device, workload, layout, variant, environment, profile (did you mean \"batch\"?)",
    ),
    "unknown_model": (
        HEAD + 'model = ["resnet51"]\n',
        'bad.toml:5: matrix.model: "resnet51" is not a model; allowed: resnet18, resnet50, '
        'vit_b_16, mobilenet_v3_small, efficientnet_b0, llama-tiny, llama-125m, llama-1b, synthetic '
        '(did you mean "resnet50"?)',
    ),
    "batch_zero": (
        HEAD + 'model = "resnet18"\nbatch = [0]\n',
        "bad.toml:6: matrix.batch: 0 is not a batch size; allowed: integers from 1 to 1000000",
    ),
    "precision": (
        HEAD + 'model = "resnet18"\nprecision = ["fp8"]\n',
        'bad.toml:6: matrix.precision: "fp8" is not a precision; allowed: fp32, bf16, fp16',
    ),
    "syntax": (HEAD + 'model = "resnet18\n', "bad.toml:5: TOML syntax error: "),
    "device": (
        HEAD + 'model = "resnet18"\ndevice = ["gpu"]\n',
        'bad.toml:6: matrix.device: "gpu" is not a device; allowed: cpu, cuda, cuda:N',
    ),
    # Control characters in names: an ESC clears a terminal, a newline splits table rows, a NUL cut
    # the name short. Refused where they are written, and the message shows them escaped.
    "escape_in_variant": (
        HEAD + 'model = "resnet18"\n[variants."a\\u001b[2Jb"]\n',
        'bad.toml:6: variants: the name "a\\x1b[2Jb" holds the control character \\x1b; allowed: '
        "printable characters",
    ),
    "newline_in_environment": (
        HEAD + 'model = "resnet18"\n[environments."two\\nlines"]\n',
        'bad.toml:6: environments: the name "two\\nlines" holds the control character \\n; allowed: '
        "printable characters",
    ),
    "nul_in_experiment_name": (
        '[experiment]\nname = "x\\u0000y"\n[matrix]\nframework = "synthetic"\nmodel = "synthetic"\n',
        'bad.toml:2: experiment.name: the name "x\\x00y" holds the control character \\x00; allowed: '
        "printable characters",
    ),
    # [contention]: a threshold is a fraction in (0, 1); limits are positive; the policy is named.
    "contention_threshold_zero": (
        HEAD + 'model = "resnet18"\n[contention]\nthreshold = 0\n',
        "bad.toml:7: contention.threshold: 0 is out of range; allowed: numbers > 0 and < 1",
    ),
    "contention_threshold_one": (
        HEAD + 'model = "resnet18"\n[contention]\nthreshold = 1.0\n',
        "bad.toml:7: contention.threshold: 1 is out of range; allowed: numbers > 0 and < 1",
    ),
    "contention_replacements_zero": (
        HEAD + 'model = "resnet18"\n[contention]\nreplacements = 0\n',
        "bad.toml:7: contention.replacements: 0 is out of range; allowed: integers from 1 to 1000",
    ),
    "contention_gate_timeout_negative": (
        HEAD + 'model = "resnet18"\n[contention]\nquiet_timeout_s = -5\n',
        "bad.toml:7: contention.quiet_timeout_s: -5 is out of range; allowed: numbers > 0 and <= 86400",
    ),
    "contention_gate_window_zero": (
        HEAD + 'model = "resnet18"\n[contention]\nquiet_window_s = 0\n',
        "bad.toml:7: contention.quiet_window_s: 0 is out of range; allowed: numbers > 0 and <= 3600",
    ),
    "contention_policy": (
        HEAD + 'model = "resnet18"\n[contention]\npolicy = "ignore"\n',
        'bad.toml:7: contention.policy: "ignore"; allowed: exclude, record',
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_experiment_file(dlbench: Dlbench, case: str) -> None:
    text, message = CASES[case]
    path = dlbench.write("bad.toml", text)
    r = dlbench("run", path.name)
    assert r.code == 2, r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("dlbench: error: " + message), lines[0]
    assert not dlbench.db.exists()


def test_unreadable_file(dlbench: Dlbench) -> None:
    r = dlbench("run", "missing.toml")
    assert r.code == 2
    assert r.err.strip() == "dlbench: error: cannot read missing.toml: No such file or directory"
    path = dlbench.write("locked.toml", HEAD)
    path.chmod(0)
    r = dlbench("run", "locked.toml")
    assert r.code == 2
    # root can read anything; otherwise the reason is "Permission denied"
    assert r.err.startswith("dlbench: error: ")


def test_bad_filter_and_flags(dlbench: Dlbench) -> None:
    dlbench.write("ok.toml", HEAD + 'model = "resnet18"\n')
    r = dlbench("run", "ok.toml", "--filter", "modle=resnet18")
    assert r.code == 2
    assert 'did you mean "model"?' in r.err
    r = dlbench("run", "ok.toml", "--filter", "batch=64")
    assert r.code == 2
    assert r.err.strip() == "dlbench: error: ok.toml: no cell is left to run after --filter"
    r = dlbench("run", "ok.toml", "--no-such-flag")
    assert r.code == 2
    assert r.err.startswith("dlbench: error: ")
    assert not dlbench.db.exists()


def test_read_commands_on_missing_database_or_run(dlbench: Dlbench) -> None:
    r = dlbench("list")
    assert r.code == 2
    assert "no database at dlbench.db" in r.err
    dlbench.write("ok.toml", HEAD.replace('["torch", "jax"]', '"synthetic"') + 'model = "synthetic"\n'
                  "[sampling]\nmin_iterations = 5\nmin_time_s = 0\nmax_time_s = 1\nwindow_min_time_s = 0\n")
    assert dlbench("run", "ok.toml", "-q").code == 0
    r = dlbench("show", "7")
    assert r.code == 2
    assert r.err.strip() == "dlbench: error: database dlbench.db has no run 7"
    r = dlbench("show", "first")
    assert r.code == 2
    assert "allowed: a run id from `dlbench list`, or latest" in r.err
    r = dlbench("export", "1", "--format", "xml")
    assert r.code == 2
    assert r.err.strip() == "dlbench: error: --format xml: allowed: csv, json"


def test_dry_run_prints_cells_and_writes_nothing(dlbench: Dlbench) -> None:
    dlbench.write("ok.toml", HEAD + 'model = ["resnet18", "vit_b_16"]\nbatch = [1, 8]\n')
    r = dlbench("run", "ok.toml", "--dry-run")
    assert r.code == 0, r
    assert "8 cells x 3 repetitions = 24 worker processes" in r.out
    assert "vit_b_16" in r.out
    assert not dlbench.db.exists()


def test_an_oversized_matrix_is_refused_before_it_is_expanded(dlbench: Dlbench) -> None:
    # 1000 batch sizes x 1000 variants: a million cells, refused at once even with --dry-run.
    variants = "".join(f"[variants.v{i}]\n" for i in range(1000))
    batches = ", ".join(str(b) for b in range(1, 1001))
    dlbench.write("big.toml", f'[experiment]\nname = "big"\nrepetitions = 10000\n[matrix]\n'
                              f'framework = "synthetic"\nmodel = "synthetic"\nbatch = [{batches}]\n'
                              f"{variants}")
    r = dlbench("run", "big.toml", "--dry-run")
    assert r.code == 2, r
    assert r.err.strip() == ("dlbench: error: big.toml: matrix: 1000000 cells (batch 1000 x variant 1000) "
                             "exceed the limit of 100000; split the experiment")
    r = dlbench("run", "big.toml", "--dry-run", "--filter", "variant=v1")
    assert r.code == 2 and "1000000 cells" in r.err  # counted before any filter
    dlbench.write("reps.toml", f'[experiment]\nname = "reps"\nrepetitions = 10000\n[matrix]\n'
                               f'framework = "synthetic"\nmodel = "synthetic"\nbatch = [{batches}]\n')
    r = dlbench("run", "reps.toml", "--dry-run")
    assert r.code == 2, r
    assert r.err.strip() == ("dlbench: error: reps.toml: 1000 cells x 10000 repetitions = 10000000 worker "
                             "processes exceed the limit of 1000000; split the experiment")
    assert not dlbench.db.exists()


def test_a_directory_or_an_endless_file_as_the_experiment(dlbench: Dlbench) -> None:
    (dlbench.workdir / "exp").mkdir()
    r = dlbench("run", "exp")
    assert (r.code, r.err.strip()) == (2, "dlbench: error: exp: is a directory; expected a file")
    r = dlbench("run", "/dev/zero", timeout=60)
    assert r.code == 2
    assert r.err.strip() == "dlbench: error: /dev/zero: larger than the limit of 4 MiB for this kind of file"
    assert not dlbench.db.exists()
