"""One solve pipeline for `run` and `reproduce`: the same per-point solve (cold retry, multistart), the same
writer (experiment_json), and stored results interpreted with their stored config."""
from __future__ import annotations

import json
import math
import re
import shutil
import warnings

import pytest

from toolkit.io import hdf5
from toolkit.ocp.solution import Solution, SolverStats
from toolkit.study import reproduce as R
from toolkit.study import store
from toolkit.study.base import experiments_dir
from toolkit.study.config import load_experiment
from toolkit.study.registry import load_study, studies_dir, study


class FakeSolver:
    """Records every solve; warm starts fail, cold ones succeed (no IPOPT)."""

    def __init__(self, model, warm_ok: bool = False) -> None:
        self.model = model
        self.warm_ok = warm_ok
        self.calls: list[tuple[str, str]] = []

    def _sol(self, spec, ok: bool) -> Solution:
        st = SolverStats(ok, "Solve_Succeeded" if ok else "Maximum_Iterations_Exceeded", 3, 0.01, 0.0,
                         1.0, 0.0 if ok else 1.0)
        return Solution(spec, st, {}, sealed=not ok)

    def solve(self, setup, spec, guess=None, start=None):
        self.calls.append(("warm" if guess is not None else "cold", f"{spec.power_W:g}"))
        return self._sol(spec, guess is None or self.warm_ok)

    def solve_from_starts(self, setup, spec, neighbour=None):
        self.calls.append(("starts" + ("+warm" if neighbour is not None else ""), f"{spec.power_W:g}"))
        return self._sol(spec, True)


def _points(*overrides):
    exp = load_experiment(experiments_dir() / "default.toml",
                          ["intensity.values=[150.0, 200.0]", 'conditions.ankle=["free"]', *overrides])
    pts = exp.points()
    assert len(pts) == 2
    return pts


def test_reproduce_solve_retries_a_failed_warm_start_cold(model):
    fake = FakeSolver(model)
    sols = R.solve_points(_points(), fake)
    # the second point is warm-started from the first, fails, and is retried cold (run's solve_point)
    assert fake.calls == [("cold", "150"), ("warm", "200"), ("cold", "200")]
    assert all(s.success for s in sols.values())


def test_reproduce_solve_multistart_uses_the_starts_and_the_neighbour(model):
    fake = FakeSolver(model)
    R.solve_points(_points("solver.multistart=3"), fake)
    assert fake.calls == [("starts", "150"), ("starts+warm", "200")]


def test_reproduce_writes_experiment_json_like_run(model, tmp_path):
    pts = _points()
    exp = load_experiment(experiments_dir() / "default.toml",
                          ["intensity.values=[150.0, 200.0]", 'conditions.ankle=["free"]'])
    fake = FakeSolver(model)
    sols = {p.key: fake._sol(p.spec, False) for p in pts}  # failures only: no arrays needed
    path = tmp_path / "default.h5"
    R._write_h5(path, exp, pts, sols, "baseline")
    assert hdf5.read_experiment(path) == json.loads(json.dumps(exp.to_dict(), default=str))
    fails = hdf5.read_failures(path)
    assert set(fails) == {p.key for p in pts}
    assert all(f.labels["variant"] == "baseline" and f.labels["experiment"] == "default" for f in fails.values())
    assert [p.name for p in tmp_path.iterdir()] == ["default.h5"]


def test_load_study_data_interprets_results_with_the_stored_config(tmp_path, monkeypatch):
    name = "recumbent"
    exps_copy = tmp_path / "studies" / name
    shutil.copytree(studies_dir() / name, exps_copy)
    st = load_study(exps_copy)
    variants = st.variants
    out = tmp_path / "results"
    (out / name).mkdir(parents=True)
    solved_with = {}
    for v in variants:
        exp = load_experiment(exps_copy / v.file)
        solved_with[exp.name] = exp
        store.begin_result(out / name / f"{exp.name}.h5", exp)
        # today's file changes after the results were stored
        text = (exps_copy / v.file).read_text(encoding="utf-8")
        assert re.search(r"^nodes\s*=", text, flags=re.M)
        (exps_copy / v.file).write_text(re.sub(r"^nodes\s*=.*$", "nodes = 24", text, count=1, flags=re.M),
                                        encoding="utf-8")
        assert load_experiment(exps_copy / v.file).solver.nodes == 24 != exp.solver.nodes
    with warnings.catch_warnings():
        warnings.simplefilter("error", R.StoredConfigWarning)
        data = R.load_study_data(st, out)
    for e in data.experiments:
        assert e.solver.nodes == solved_with[e.name].solver.nodes  # the stored interpretation wins
        assert [p.spec for p in e.points()] == [p.spec for p in solved_with[e.name].points()]
    # a file without a stored config (older results): today's file, with a warning
    v = variants[0]
    stem = (exps_copy / v.file).stem
    (out / name / f"{stem}.h5").unlink()
    hdf5.write_failure(out / name / f"{stem}.h5", "k", SolverStats(False, "Error", 0, 0.0, 0.0, math.nan, math.inf),
                       solved_with[stem].points()[0].spec)
    with pytest.warns(R.StoredConfigWarning, match="no stored experiment config"):
        data = R.load_study_data(st, out)
    assert data.experiments[0].solver.nodes == 24


def test_stored_config_round_trips_for_every_shipped_experiment():
    for f in sorted([*experiments_dir().glob("*.toml"), *studies_dir().glob("*/study_*.toml")]):
        exp = load_experiment(f)
        again = load_experiment(exp.name, data=store.loadable_config(json.loads(json.dumps(exp.to_dict(),
                                                                                            default=str))))
        assert [p.key for p in again.points()] == [p.key for p in exp.points()], f.name
        assert [p.spec for p in again.points()] == [p.spec for p in exp.points()], f.name
        assert [p.labels for p in again.points()] == [p.labels for p in exp.points()], f.name
        assert [w.split(": ", 1)[1] for w in again.warnings] == [w.split(": ", 1)[1] for w in exp.warnings], f.name


def test_heel_study_solves_each_point_through_solve_point(model, monkeypatch):
    from toolkit.study import executors
    from toolkit.study.solvers import heel_drop as H
    from toolkit.study.solvers import starts

    seen = []
    real = executors.solve_point

    def counting(task, guess=None, solver=None, starts=None):
        seen.append((task.key, task.spec.condition, starts))
        return real(task, guess, solver=solver, starts=starts)

    monkeypatch.setattr(executors, "solve_point", counting)
    fake = FakeSolver(model)
    fake.solve = lambda setup, spec, guess=None, start=None: fake._sol(spec, False)  # every start fails
    pts = _points()
    sols, info = H.solve(pts, fake, exp=None)
    assert [k for k, _, _ in seen] == [pts[0].key, pts[1].key]  # one free solve per fit and problem
    assert all(s is starts.best_of_starts for _, _, s in seen)
    assert all(not s.success for s in sols.values()) and info["multistart"] == {}


def test_ankle_study_solves_each_point_through_solve_point(model, monkeypatch):
    from toolkit.study.solvers import ankle_constraint as A
    from toolkit.study import executors

    seen = []
    real = executors.solve_point

    def counting(task, guess=None, solver=None, starts=None):
        seen.append(task.key)
        return real(task, guess, solver=solver, starts=starts)

    monkeypatch.setattr(executors, "solve_point", counting)
    fake = FakeSolver(model)
    fake.solve = lambda setup, spec, guess=None, start=None: fake._sol(spec, False)  # every solve fails
    exp = R._load_variant(study("ankle_constraint").variant("main"), quick=True)
    pts = exp.points()
    sols, _ = A.solve(pts, fake, exp=exp)
    assert set(sols) == {p.key for p in pts}
    assert {p.key for p in pts} <= set(seen)  # every point's solve went through solve_point
    assert not any(s.success for s in sols.values())
