"""Sweeps: `run_experiment` / `run_main` (python -m toolkit run), executors, resume after kill -9, failures."""
from __future__ import annotations

import json

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolkit.io import hdf5
from toolkit.ocp.solve import PedalingSolver
from toolkit.study import executors
from toolkit.study.config import load_experiment
from toolkit.study.runner import RunError, build_chains, run_experiment, run_main

REPO = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, name: str, values=(120, 160, 200), ankle=("free",), heel_drop_deg=None,
                 nodes: int = 16, figures: bool = False, cadence=(90,)) -> Path:
    lines = [
        "[experiment]", f'name = "{name}"',
        "[rider]", 'profile = "reference"',
        "[fit]", 'name = "default"',
        "[conditions]", "ankle = [" + ", ".join(f'"{a}"' for a in ankle) + "]",
    ]
    if heel_drop_deg is not None:
        lines.append(f"heel_drop_deg = [{float(heel_drop_deg)}]")
    lines += [
        "[intensity]", 'unit = "W"', "values = [" + ", ".join(f"{float(v)}" for v in values) + "]",
        "cadence_rpm = [" + ", ".join(f"{float(c)}" for c in cadence) + "]",
        "[solver]", f"nodes = {nodes}",
        "[output]", 'dir = "out"', f"figures = {'true' if figures else 'false'}",
    ]
    path = tmp_path / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def stored_attrs(path: Path, name: str) -> dict[str, str]:
    """key -> one attribute of every stored point (read without loading arrays)."""
    import h5py

    with h5py.File(path, "r") as f:
        return {str(g.attrs["key"]): str(g.attrs[name]) for g in f["points"].values()}


# ------------------------------------------------------------------------------------------- chains (no solve)

def test_chains_group_by_rider_fit_condition_cadence(tmp_path):
    exp = load_experiment(write_config(tmp_path, "ch", values=(100, 150, 200, 250), ankle=("free", "fixed"),
                                       cadence=(60, 90)))
    pts = exp.points()
    chains = build_chains(pts)
    assert len(chains) == 4 and all(len(c.points) == 4 for c in chains)
    for c in chains:
        powers = [p.spec.power_W for p in c.points]
        assert powers == sorted(powers)
        assert len({(p.spec.condition, p.spec.cadence_rpm) for p in c.points}) == 1
    # resume: the stored point splits its chain; the run after it warm-starts from it
    skip = {pts[1].key}
    ch = build_chains(pts, skip, guess_for=lambda k: f"stored:{k}")
    first = [c for c in ch if pts[0].key in c.keys][0]
    after = [c for c in ch if pts[2].key in c.keys][0]
    assert first.keys == [pts[0].key] and first.guess is None
    assert after.keys == [pts[2].key, pts[3].key] and after.guess == f"stored:{pts[1].key}"
    assert sum(len(c.points) for c in ch) == len(pts) - 1
    # more workers than chains: the longest are halved; no warm starts: one point per chain
    assert len(build_chains(pts, min_chains=6)) == 6
    assert len(build_chains(pts[:4], min_chains=2)) == 2
    assert all(len(c.points) == 1 and not c.warm_start for c in build_chains(pts, warm_start=False))


def test_solve_point_cold_retry_and_fit_error(monkeypatch):
    import numpy as np

    from toolkit.model.anthropometry import Rider
    from toolkit.model.bikefit import BikeFit
    from toolkit.model.leg import FitError
    from toolkit.ocp.problem import ProblemSpec
    from toolkit.ocp.solution import Solution, SolverStats

    calls = []

    class FakeSolver:
        fail_cold = False

        def solve(self, setup, spec, guess=None):
            calls.append(guess is not None)
            ok = guess is None and not self.fail_cold
            st = SolverStats(ok, "Solve_Succeeded" if ok else "Maximum_Iterations_Exceeded", 5, 0.1, 0.0, 1.0, 0.0,
                             message="" if ok else "IPOPT returned Maximum_Iterations_Exceeded")
            return Solution(spec, st, {}, {"theta": np.zeros(4)}, sealed=not ok)

    fake = FakeSolver()
    monkeypatch.setattr(executors, "worker_solver", lambda: fake)
    monkeypatch.setattr(executors, "_worker_setup", lambda rider, fit: object())
    task = executors.PointTask("k", Rider(), BikeFit(), ProblemSpec())
    prev = Solution(ProblemSpec(), SolverStats(True, "Solve_Succeeded", 1, 0.1, 0.0, 1.0, 0.0), {},
                    {"theta": np.zeros(4)})
    r = executors.solve_point(task, prev)
    assert r.ok and r.start == "cold-retry" and calls == [True, False] and r.last_good is r.solution
    fake.fail_cold = True
    r = executors.solve_point(task, prev)
    assert not r.ok and r.start == "cold-retry" and "warm start ended with" in r.message
    assert r.last_good is prev  # the next point of the chain still starts from the last success

    def no_fit(rider, fit):
        raise FitError("fit: the leg cannot reach the pedal")

    monkeypatch.setattr(executors, "_worker_setup", no_fit)
    r = executors.solve_point(task)
    assert not r.ok and r.stats.status == "Fit_Error" and "cannot reach" in r.message


# ------------------------------------------------------------------------------------------- sweeps

def test_sweep_stores_every_point_once_with_warm_starts(tmp_path, monkeypatch):
    cfg = write_config(tmp_path, "sweep", values=(120, 160, 200), figures=True)
    exp = load_experiment(cfg)
    keys = [p.key for p in exp.points()]
    guesses = []
    real_solve = PedalingSolver.solve

    def spy(self, setup, spec, guess=None):
        guesses.append((spec.power_W, guess is not None))
        return real_solve(self, setup, spec, guess=guess)

    monkeypatch.setattr(PedalingSolver, "solve", spy)
    rep = run_experiment(exp, progress=False)
    assert rep.result_file == exp.result_file.absolute()
    assert rep.solved == keys and rep.failed == {} and rep.skipped == []
    assert hdf5.list_points(rep.result_file) == keys  # every point once, in sweep order
    assert hdf5.read_experiment(rep.result_file) == json.loads(json.dumps(exp.to_dict(), default=str))
    assert rep.warm_started == keys[1:]
    assert guesses == [(120.0, False), (160.0, True), (200.0, True)]  # neighbour's solution passed as guess
    assert rep.points_per_min > 0 and rep.wall_time_s > 0
    md, csv_path = rep.summary_files
    assert md.name == "sweep_summary.md" and csv_path.name == "sweep_summary.csv"
    assert md.parent == rep.result_file.parent
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["key"] for r in rows] == keys
    for r in rows:
        assert r["status"] in ("Solve_Succeeded", "Solved_To_Acceptable_Level")
        shares = [float(r[f"{j}_share_pct"]) for j in ("hip", "knee", "ankle")]
        assert abs(sum(shares) - 100) < 0.5
        assert abs(float(r["energy_balance_residual"])) < 0.05 and int(r["iterations"]) > 0
    assert keys[0] in md.read_text()
    assert rep.figures and all(p.exists() for p in rep.figures)
    assert (rep.result_file.parent / "sweep_figures" / "joint_shares_vs_work_rate.png").exists()

    # a second run without --resume starts afresh and keeps the old file as a .bak
    before = stored_attrs(rep.result_file, "stats_json")
    rep2 = run_experiment(exp, progress=False, figures=False)
    assert rep2.backup == rep.result_file.with_name("sweep.h5.bak")
    assert stored_attrs(rep2.backup, "stats_json") == before
    assert hdf5.list_points(rep2.result_file) == keys
    # resume with everything stored: nothing solved
    rep3 = run_experiment(exp, progress=False, figures=False, resume=True)
    assert rep3.solved == [] and rep3.skipped == keys and rep3.backup is None
    # resume with other problem settings is refused
    exp18 = load_experiment(cfg, ["solver.nodes=18"])
    with pytest.raises(RunError, match="solver.nodes 16 stored, 18 now"):
        run_experiment(exp18, progress=False, resume=True)


def test_failed_point_reported_and_not_stored(tmp_path, capsys):
    cfg = write_config(tmp_path, "fail", values=(120, 160), ankle=("free", "heel_drop"), heel_drop_deg=30)
    assert run_main(str(cfg)) == 1
    err = capsys.readouterr().err
    exp = load_experiment(cfg)
    bad = [p.key for p in exp.points() if p.spec.condition == "heel_drop"]
    good = [p.key for p in exp.points() if p.spec.condition == "free"]
    for k in bad:
        assert f"FAILED {k}: status=Infeasible_Request" in err
    assert sorted(hdf5.list_points(exp.result_file)) == sorted(good)
    failures = hdf5.read_failures(exp.result_file)
    assert sorted(failures) == sorted(bad)
    rows = list(csv.DictReader(exp.result_file.with_name("fail_summary.csv").open()))
    assert {r["key"]: r["status"] for r in rows if r["key"] in bad} == {k: "Infeasible_Request" for k in bad}


def test_parallel_pool_two_jobs(tmp_path):
    cfg = write_config(tmp_path, "pool", values=(120, 200), ankle=("free", "fixed"))
    exp = load_experiment(cfg)
    rep = run_experiment(exp, jobs=2, progress=False)
    keys = [p.key for p in exp.points()]
    assert sorted(rep.solved) == sorted(keys) and not rep.failed and rep.chains == 2 and rep.jobs == 2
    stored = hdf5.list_points(rep.result_file)
    assert sorted(stored) == sorted(keys) and len(stored) == len(set(stored))
    assert len(rep.warm_started) == 2


def test_kill_and_resume(tmp_path):
    cfg = write_config(tmp_path, "killme", values=tuple(range(100, 300, 20)))  # 10 points
    exp = load_experiment(cfg)
    keys = [p.key for p in exp.points()]
    result = exp.result_file
    env = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg")
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "run", str(cfg), "--jobs", "1"], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stored: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                stored = hdf5.list_points(result)
            except hdf5.ResultFileError:  # not written yet
                stored = []
            if stored:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        err = proc.communicate()[1].decode()
    assert stored, f"no point was stored before the deadline:\n{err}"
    before = stored_attrs(result, "stats_json")  # readable, not corrupt
    assert list(before) == keys[: len(before)]
    assert hdf5.read_all(result).keys() == before.keys()

    rep = run_experiment(load_experiment(cfg), resume=True, progress=False)
    assert sorted(rep.skipped) == sorted(before)
    assert not set(rep.solved) & set(before)
    assert sorted(rep.solved + rep.skipped) == sorted(keys) and not rep.failed
    after = hdf5.list_points(result)
    assert sorted(after) == sorted(keys) and len(after) == len(set(after))
    after_stats = stored_attrs(result, "stats_json")
    assert {k: after_stats[k] for k in before} == before  # the stored points were not solved again
    if len(before) < len(keys):  # the first point solved on resume continues the chain warm
        assert rep.warm_started and rep.solved[0] == keys[len(before)] and rep.solved[0] in rep.warm_started
    assert not list(result.parent.glob(".killme.h5.*.tmp"))


def test_dask_local_cluster(tmp_path):
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    cfg = write_config(tmp_path, "dasky", values=(120, 200))
    exp = load_experiment(cfg)
    keys = [p.key for p in exp.points()]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        rep = run_experiment(exp, executor="dask", scheduler=cluster.scheduler_address, progress=False)
    assert rep.executor == "dask"
    assert sorted(rep.solved) == sorted(keys) and not rep.failed
    assert sorted(hdf5.list_points(rep.result_file)) == sorted(keys)
    assert rep.warm_started == [keys[1]]


# ------------------------------------------------------------------------------------------- bad input

def test_bad_config_exit_2(tmp_path, capsys):
    cfg = write_config(tmp_path, "bad")
    cfg.write_text(cfg.read_text().replace("[solver]", "[solver]\nnodez = 3"))
    assert run_main(str(cfg)) == 2
    assert "solver.nodez" in capsys.readouterr().err
    assert run_main(str(tmp_path / "missing.toml")) == 2
    good = write_config(tmp_path, "good")
    assert run_main(str(good), jobs=0) == 2
    assert "--jobs" in capsys.readouterr().err
    assert run_main(str(good), scheduler="tcp://127.0.0.1:1") == 2
    assert not (tmp_path / "out" / "good.h5").exists()


def test_dask_missing_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert run_main(str(write_config(tmp_path, "nodask")), executor="dask") == 2
    assert executors.DASK_MISSING in capsys.readouterr().err


def test_resume_refuses_a_foreign_file(tmp_path, capsys):
    cfg = write_config(tmp_path, "foreign")
    out = tmp_path / "out"
    out.mkdir()
    (out / "foreign.h5").write_bytes(b"not an hdf5 file")
    assert run_main(str(cfg), resume=True) == 2
    assert "cannot resume" in capsys.readouterr().err
    assert (out / "foreign.h5").read_bytes() == b"not an hdf5 file"
