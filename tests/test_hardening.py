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
