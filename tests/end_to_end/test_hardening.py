"""Hardening (issue 14): disk full, Ctrl-C hint, unreachable executors, up-front validation, no tracebacks."""
from __future__ import annotations

import errno
import shlex
import sys
from pathlib import Path

import pytest

from toolkit.io import hdf5
from toolkit.study import runner
from toolkit.study.config import load_experiment
from toolkit.study.executors import ExecutorUnavailable
from toolkit.study.runner import RunError, run_experiment, run_main

sys.path.insert(0, str(Path(__file__).parent))
from test_runner import write_config  # noqa: E402


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(d.rglob("*"))}


# ------------------------------------------------------------------------------------------- 2: Ctrl-C hint

def test_interrupt_hint_reproduces_the_arguments(tmp_path, capsys, monkeypatch):
    cfg = write_config(tmp_path, "hint")

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_experiment", interrupted)
    out = tmp_path / "my out"
    sets = ["intensity.values=[100, 150]", "solver.nodes=16"]
    assert run_main(str(cfg), out=str(out), jobs=2, overrides=sets) == 130
    err = capsys.readouterr().err
    cmd = err.split("continue with: ", 1)[1].strip()
    assert shlex.split(cmd) == ["python", "-m", "toolkit", "run", str(cfg), "--out", str(out), "--jobs", "2",
                                "--set", sets[0], "--set", sets[1], "--resume"]


# ------------------------------------------------------------------------------------------- 4: executor first

class _Unreachable:
    name, jobs, workers = "dask", 1, 1

    def __enter__(self):
        raise ExecutorUnavailable("--scheduler: cannot connect to tcp://10.0.0.1:8786 (timed out)")

    def __exit__(self, *a):
        pass


def test_unreachable_executor_changes_nothing_on_disk(tmp_path):
    cfg = write_config(tmp_path, "noreach")
    exp = load_experiment(cfg)
    out = tmp_path / "out"
    out.mkdir()
    (out / "noreach.h5").write_bytes(b"old results")
    before = _tree(tmp_path)
    with pytest.raises(RunError, match="cannot connect"):
        run_experiment(exp, executor=_Unreachable(), progress=False)
    assert _tree(tmp_path) == before  # no .bak, no lock file, no new result file
    with pytest.raises(RunError, match="cannot connect"):
        run_experiment(exp, out_dir=tmp_path / "fresh", executor=_Unreachable(), progress=False)
    assert not (tmp_path / "fresh").exists()


# ------------------------------------------------------------------------------------------- 1: disk full

def test_disk_full_exit_3_one_line(tmp_path, capsys, monkeypatch):
    cfg = write_config(tmp_path, "full", values=(120, 160))
    calls = {"n": 0}
    real = hdf5.write_solutions

    def full_after_first(path, items):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, items)

    monkeypatch.setattr(hdf5, "write_solutions", full_after_first)
    assert run_main(str(cfg), overrides=["solver.nodes=16"]) == 3
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip() and not ln.startswith("[")]
    result = tmp_path / "out" / "full.h5"
    assert len(err) == 1 and err[0].startswith(f"{result}: -: cannot write the results: No space left on device")
    assert "--set solver.nodes=16 --resume" in err[0]
    assert len(hdf5.list_points(result)) == 1  # the point stored before is intact
    monkeypatch.undo()
    assert run_main(str(cfg), overrides=["solver.nodes=16"], resume=True) == 0  # space freed: resumes
    assert len(hdf5.list_points(result)) == 2


# ------------------------------------------------------------------------------------------- 5: up-front checks

def _cfg(tmp_path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text('[experiment]\nname = "c"\n[solver]\nnodes = 16\n' + text)
    return p


@pytest.mark.parametrize("text, key, what", [
    ('[output]\ndir = "a\\u0000b"\n', "output.dir", "NUL byte"),
    (f'[output]\ndir = "{"d" * 300}"\n', "output.dir", "300 bytes"),
    ('[output]\ndir = "/proc/toolkit/out"\n', "output.dir", "not writable"),
    (f'[fit]\nname = "{"f" * 300}"\n', "fit.name", "300 characters"),
    ('[conditions]\nankle = ["fixed"]\nfixed_ankle_deg = 30\n', "conditions.fixed_ankle_deg", "cannot be held"),
])
def test_validate_rejects_what_would_fail_at_run_time(tmp_path, capsys, text, key, what):
    from toolkit.study.config import validate_main

    assert validate_main(str(_cfg(tmp_path, text))) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{tmp_path / 'c.toml'}: {key}: ") and what in err[0], err
    assert "(allowed: " in err[0] and "\0" not in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_long_experiment_name_and_bad_out_flag(tmp_path, capsys):
    from toolkit.study.config import validate_main

    p = tmp_path / "c.toml"
    p.write_text(f'[experiment]\nname = "{"e" * 300}"\n')
    assert validate_main(str(p)) == 2
    assert "experiment.name: a name of 300 characters" in capsys.readouterr().err
    good = write_config(tmp_path, "good")
    for out, what in ((str(tmp_path / "x\0y"), "NUL byte"), (str(good), "not a directory"),
                      ("/proc/toolkit", "not writable")):
        assert run_main(str(good), out=out) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("--out: ") and what in err[0], err


def test_reachable_fixed_ankle_passes(tmp_path):
    exp = load_experiment(_cfg(tmp_path, '[conditions]\nankle = ["fixed"]\nfixed_ankle_deg = -15\n'), check_fit=True)
    assert exp.points()[0].spec.fixed_ankle_deg == -15


# ------------------------------------------------------------------------------------------- 6: no tracebacks

def test_fifo_and_deep_toml(tmp_path, capsys):
    import os

    from toolkit.study.config import validate_main

    fifo = tmp_path / "cfg.toml"
    os.mkfifo(fifo)
    assert validate_main(str(fifo)) == 2  # does not block
    assert "FIFO" in capsys.readouterr().err
    deep = tmp_path / "deep.toml"
    deep.write_text('[intensity]\nvalues = ' + "[" * 2000 + "]" * 2000 + "\n")
    assert validate_main(str(deep)) == 2
    assert "nested too deeply" in capsys.readouterr().err
    ok = write_config(tmp_path, "ok")
    assert validate_main(str(ok), ["intensity.values=" + "[" * 2000 + "]" * 2000]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("--set: intensity.values: ")


@pytest.fixture(scope="module")
def stored(solver, setup, tmp_path_factory):
    from toolkit.ocp.problem import ProblemSpec, SolverSpec

    sol = solver.solve(setup, ProblemSpec(power_W=200, solver=SolverSpec(nodes=16)))
    path = tmp_path_factory.mktemp("h5") / "good.h5"
    hdf5.write_solution(path, "p", sol)
    return path


def _damaged(stored, tmp_path, how) -> Path:
    import shutil

    import h5py
    import numpy as np

    path = tmp_path / f"{how}.h5"
    shutil.copy(stored, path)
    with h5py.File(path, "a") as f:
        g = f["points/p"]
        if how == "schema_array":
            f.attrs["schema"] = np.array([1, 2, 3])
        elif how == "version_text":
            f.attrs["schema_version"] = "one"
        elif how == "version_float":
            f.attrs["schema_version"] = 1.5
        elif how == "arrays_dataset":
            del g["arrays"]
            g["arrays"] = np.zeros(3)
        elif how == "no_theta":
            del g["arrays/theta"]
        elif how == "points_dataset":
            del f["points"]
            f["points"] = np.zeros(2)
    return path


@pytest.mark.parametrize("how", ["schema_array", "version_text", "version_float", "arrays_dataset", "no_theta",
                                 "points_dataset"])
def test_damaged_result_files_exit_2_everywhere(stored, tmp_path, capsys, how):
    from toolkit.cli.results import export_main, plot_main, show_main

    path = _damaged(stored, tmp_path, how)
    for run in (lambda: show_main(path), lambda: plot_main(path, tmp_path / "figs", point_figures=False),
                lambda: export_main(path, tmp_path / "sto")):
        assert run() == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"{path}: -: "), err
    assert not (tmp_path / "figs").exists() and not (tmp_path / "sto").exists()


def test_bad_output_targets_and_broken_pipe(stored, tmp_path, capsys):
    import subprocess

    from toolkit.cli.results import export_main, plot_main

    afile = tmp_path / "afile"
    afile.write_text("x")
    for run, flag in ((lambda o: plot_main(stored, o, point_figures=False), "--out"),
                      (lambda o: export_main(stored, o), "--sto")):
        for target in (afile, Path("/proc/toolkit_out")):
            assert run(target) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith(f"{flag}: {target}: "), err
    assert afile.read_text() == "x"
    repo = Path(__file__).resolve().parents[2]
    cmd = f"{sys.executable} -m toolkit show {stored} | true; exit ${{PIPESTATUS[0]}}"  # reader already gone
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=repo,
                       env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr


def test_every_command_ends_quietly_when_its_reader_goes_away():
    """solve --json with the reader already gone: no traceback (the guard is in cli.main, for every command)."""
    import subprocess

    repo = Path(__file__).resolve().parents[2]
    cmd = f"{sys.executable} -m toolkit solve --json --nodes 16 | true; exit ${{PIPESTATUS[0]}}"
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=repo,
                       env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
    assert r.returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_real_full_disk_tmpfs(tmp_path, jobs):
    """A 300 kB tmpfs as the output volume (needs root and mount): exit 3, one line, file intact, resume."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    vol = tmp_path / "vol"
    vol.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(vol)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        cfg = write_config(tmp_path, "disk", values=tuple(range(100, 260, 20)), ankle=("free", "fixed"))
        repo = Path(__file__).resolve().parents[2]
        env = dict(os.environ, PYTHONPATH=str(repo), MPLBACKEND="Agg")
        cmd = [sys.executable, "-m", "toolkit", "run", str(cfg), "--out", str(vol), "--jobs", str(jobs)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 3, r.stderr
        lines = [ln for ln in r.stderr.splitlines() if ln.strip() and not ln.startswith("[")]
        assert len(lines) == 1 and "No space left on device" in lines[0] and "Traceback" not in r.stderr
        stored = hdf5.list_points(vol / "disk.h5")
        assert stored  # readable, the points stored before the disk filled up
        subprocess.run(["mount", "-o", "remount,size=4m", str(vol)], check=True)
        r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 0, r.stderr
        assert len(hdf5.list_points(vol / "disk.h5")) == 16
    finally:
        subprocess.run(["umount", str(vol)])
