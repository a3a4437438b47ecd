"""The node-separable NLP assembly (toolkit/ocp/assembly.py) is the same NLP as the expanded SX transcription it
replaced: objective, constraints, gradient, constraint Jacobian and Hessian of the Lagrangian agree at random
points for every structure (ankle mode, tendon, load, cost), and solving gives the answers of the old pipeline
(a small fixture computed with it before the change)."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import casadi as ca
import numpy as np
import pytest

from toolkit.analysis.power import cycle_summary
from toolkit.ocp.problem import ProblemSpec, SolverSpec
from toolkit.ocp.transcription import SMOOTHNESS_FACTOR, TORQUE_SCALE, Transcription

NODES = 10
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "assembly_reference.json"


def expanded_nlp(tr: Transcription) -> dict:
    """The previous assembly (reference): the node function mapped over SX symbols, one expanded SX graph."""
    N, L = tr.nodes, tr.layout
    X = ca.SX.sym("X", tr.nx, N)
    U = ca.SX.sym("U", tr.nu, N)
    par = ca.SX.sym("par", L.size)
    out = tr.node_function.map(N)(ca.DM(tr.theta).T, X, U, ca.repmat(par, 1, N))
    names = tr.node_function.name_out()
    deriv, sole_res, torque, q, cost = out[:5]
    tw = out[-1]
    h = 2 * np.pi / N
    Xn = ca.horzcat(X[:, 1:], X[:, 0])
    dn = ca.horzcat(deriv[:, 1:], deriv[:, 0])
    defects = Xn - X - h / 2 * (deriv + dn)
    omega, power = L.get(par, "omega"), L.get(par, "power")
    if tr.inertial:
        half = N // 2
        both = torque + ca.horzcat(torque[:, half:], torque[:, :half])
        acc = out[names.index("crank_acceleration")]
        crank = (L.get(par, "flywheel") * acc - (both - power / omega)) / TORQUE_SCALE
        omega_sq = X[-1, :]
        groups = [ca.vec(defects), ca.vec(crank), ca.vec(omega_sq[:, :half] - omega_sq[:, half:]),
                  ca.sum2(1 / ca.sqrt(omega_sq)) / N - 1]
    else:
        groups = [ca.vec(defects), 2 * omega * ca.sum2(torque) / N / power - 1]
    if tr.mode != "fixed":
        groups.append(ca.vec(sole_res))
    if tr.mode == "free":
        groups.append(ca.vec(q))
    if tr.compliant:
        groups.append(ca.vec(out[names.index("equilibrium")]))
    k0 = 1 if tr.mode == "free" else 0
    E = U[k0:k0 + 9, :]
    dE = ca.horzcat(E[:, 1:], E[:, :1]) - E
    f = ca.sum2(cost * tw) / N + SMOOTHNESS_FACTOR * L.get(par, "reg")[0] * ca.sum1(ca.sum2(dE * dE)) / N
    return {"x": ca.vertcat(ca.vec(X), ca.vec(U)), "p": par, "f": f, "g": ca.vertcat(*groups)}


STRUCTURES = {
    "free": ("free", "activation", 2, "rigid", "isokinetic"),
    "fixed": ("fixed", "activation", 2, "rigid", "isokinetic"),
    "prescribed_cubed": ("prescribed", "activation", 3, "rigid", "isokinetic"),
    "free_stress": ("free", "stress", 2, "rigid", "isokinetic"),
    "free_compliant": ("free", "activation", 2, "compliant", "isokinetic"),
    "free_inertial": ("free", "activation", 2, "rigid", "inertial"),
    "fixed_inertial_compliant": ("fixed", "activation", 2, "compliant", "inertial"),
}


# Together these cover every mode, tendon, load and cost exponent; the rest repeat them (slow: the reference
# Hessian of the expanded graph takes seconds to build).
FAST = ("free", "prescribed_cubed", "fixed_inertial_compliant")


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in STRUCTURES])
def test_separable_assembly_equals_expanded_nlp(model, setup, solver, name):
    mode, kind, expo, tendon, load = STRUCTURES[name]
    tr = Transcription(model, mode, kind, expo, 8, tendon, load)
    ref = expanded_nlp(tr)
    x, p = ref["x"], ref["p"]
    lam_f, lam_g = ca.SX.sym("lam_f"), ca.SX.sym("lam_g", ref["g"].numel())
    lag = lam_f * ref["f"] + ca.dot(lam_g, ref["g"])
    ref_fun = ca.Function("ref", [x, p, lam_f, lam_g],
                          [ref["f"], ref["g"], ca.gradient(ref["f"], x), ca.jacobian(ref["g"], x),
                           ca.triu(ca.hessian(lag, x)[0])])
    fn = tr.functions
    spec = ProblemSpec(condition={"free": "free"}.get(mode, mode), tendon=tendon, load=load,
                       prescribed_sole_deg=((0, 10), (90, 20), (180, 15), (270, 5)),
                       flywheel_inertia_kgm2=2.0)
    par = solver.parameters(tr, setup, spec)
    lo, hi = tr.variable_bounds(spec)
    rng = np.random.default_rng(7)
    for _ in range(2):
        w = lo + (hi - lo) * rng.uniform(0.05, 0.4, len(lo))  # inside the bounds (crank speed^2 > 0)
        lf, lg = rng.uniform(0.5, 2.0), rng.normal(size=ref["g"].numel())
        f0, g0, gf0, J0, H0 = (np.array(ca.densify(v)) for v in ref_fun(w, par, lf, lg))
        f1, g1 = (np.array(v) for v in fn["nlp"](w, par))
        _, gf1 = (np.array(v) for v in fn["grad_f"](w, par))
        _, J1 = fn["jac_g"](w, par)
        H1 = fn["hess_lag"](w, par, lf, lg)
        for a, b in ((f1, f0), (g1, g0), (gf1, gf0), (np.array(ca.densify(J1)), J0), (np.array(ca.densify(H1)), H0)):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(b).max()))
    assert tr.groups == [(n, k) for n, k in tr.nlp["groups"]]


# The fixture was computed with the model and problem defaults of commit 5fd38d9; those are pinned here (the
# defaults have changed since: force set, strength scaling, muscle architecture, passive curves, cost exponent,
# heel-drop definition), so the comparison isolates the NLP assembly.
OLD_RIDER = dict(max_force_set="group_totals", strength_scaling="none", muscle_architecture="pedaling_model",
                 passive_curves="pedaling_model")


def _fixture_specs() -> dict[str, ProblemSpec]:
    from toolkit.ocp.problem import CostSpec

    sv, cost = SolverSpec(nodes=NODES), CostSpec(exponent=2)
    return {"free": ProblemSpec(condition="free", power_W=200, solver=sv, cost=cost),
            "fixed": ProblemSpec(condition="fixed", power_W=150, solver=sv, cost=cost),
            "heel_drop": ProblemSpec(condition="heel_drop", heel_drop_deg=5, heel_drop_window_deg=(80, 120),
                                     heel_drop_mode="absolute", power_W=250, solver=sv, cost=cost)}


@pytest.mark.parametrize("cond", ["free", "fixed", "heel_drop"])
def test_solutions_match_previous_pipeline(solver, cond):
    """Shares within 0.1 percentage point and cost within 1e-6 relative of the expanded-SX pipeline (fixture
    computed by solving these specs with the code of commit 5fd38d9, before the change)."""
    from toolkit.model.anthropometry import Rider
    from toolkit.model.bikefit import BikeFit
    from toolkit.model.leg import make_setup

    ref = json.loads(FIXTURE.read_text())[cond]
    setup = make_setup(solver.model, Rider(**OLD_RIDER), BikeFit())
    sol = solver.solve(setup, _fixture_specs()[cond])
    assert sol.success, sol.stats.summary()
    assert sol.stats.objective == pytest.approx(ref["cost"], rel=1e-6)
    sh = cycle_summary(sol).joint_work_share
    for j in ("hip", "knee", "ankle"):
        assert abs(sh[j] - ref["shares"][j]) < 1e-3, (j, sh[j], ref["shares"][j])


def test_compiled_node_functions_give_the_same_solution(model, setup, solver, tmp_path, monkeypatch):
    """The C-compiled node functions (disk cache, compiled.py) reproduce the SX ones: same iterations, same
    cost; a second build loads the cached library instead of compiling."""
    from toolkit.ocp import compiled
    from toolkit.ocp.solve import PedalingSolver

    if compiled.shutil.which("gcc") is None and compiled.shutil.which("cc") is None:
        pytest.skip("no C compiler")
    monkeypatch.setenv(compiled.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(compiled.ENV_MODE, "sync")
    monkeypatch.setattr(compiled, "CFLAGS", ("-O0", "-fPIC", "-shared"))  # quick to compile; same arithmetic
    spec = _fixture_specs()["fixed"]
    fast = PedalingSolver(model)
    sol = fast.solve(setup, spec)
    tr = fast.transcription(spec)
    assert tr.separable.compiled and len(list(tmp_path.glob("nodes_*.so"))) == 1
    assert not list(tmp_path.glob("*.lock")) and not list(tmp_path.glob("*.c"))
    ref = solver.solve(setup, spec)
    assert sol.success and sol.stats.iterations == ref.stats.iterations
    assert sol.stats.objective == pytest.approx(ref.stats.objective, rel=1e-9)
    monkeypatch.setenv(compiled.ENV_MODE, "background")  # cached now: loaded, nothing compiled
    other = PedalingSolver(model)
    other._get(spec)
    assert other.transcription(spec).separable.compiled and len(list(tmp_path.iterdir())) == 1


def test_background_compile_does_not_block_and_is_picked_up(model, setup, tmp_path, monkeypatch):
    """Default mode: the first build solves with the SX functions while a detached compiler works; once the
    library exists, the next solve switches to it (same answer)."""
    import time

    from toolkit.ocp import compiled
    from toolkit.ocp.solve import PedalingSolver

    if compiled.shutil.which("gcc") is None and compiled.shutil.which("cc") is None:
        pytest.skip("no C compiler")
    monkeypatch.setenv(compiled.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(compiled.ENV_MODE, "background")
    monkeypatch.setattr(compiled, "CFLAGS", ("-O0", "-fPIC", "-shared"))
    spec = _fixture_specs()["fixed"]
    ps = PedalingSolver(model)
    first = ps.solve(setup, spec)
    tr = ps.transcription(spec)
    assert first.success and not tr.separable.compiled and tr.separable.library is not None
    t0 = time.time()
    while not tr.separable.library.exists() and time.time() - t0 < 120:
        time.sleep(0.2)
    assert tr.separable.library.exists(), "the background compile did not finish in 2 minutes"
    second = ps.solve(setup, spec)
    assert ps.transcription(spec).separable.compiled
    assert second.stats.iterations == first.stats.iterations
    assert second.stats.objective == pytest.approx(first.stats.objective, rel=1e-9)


def test_infeasible_request_builds_nothing(model, setup):
    """The geometric check runs before any NLP is built (an absolute drop: a relative or shift drop is measured
    from the free solution, which has to be solved first)."""
    from toolkit.ocp.solve import PedalingSolver

    ps = PedalingSolver(model)
    sol = ps.solve(setup, ProblemSpec(condition="heel_drop", heel_drop_deg=25, heel_drop_mode="absolute",
                                      solver=SolverSpec(nodes=NODES)))
    assert sol.stats.status == "Infeasible_Request" and sol.stats.build_time_s == 0.0
    assert not ps._cache
    assert all("functions" not in tr.__dict__ and "node_function" not in tr.__dict__
               for tr in ps._transcriptions.values())


def test_cache_prune_keeps_the_most_recent(tmp_path):
    import os
    import time

    from toolkit.ocp import compiled

    for i in range(5):
        f = tmp_path / f"nodes_{i}.so"
        f.write_text("x")
        os.utime(f, (time.time() - 100 * (5 - i), time.time() - 100 * (5 - i)))
    stale = tmp_path / "nodes_dead.123.c"
    stale.write_text("x")
    os.utime(stale, (time.time() - 2 * compiled.LOCK_STALE_S,) * 2)
    compiled._prune(tmp_path, keep=2)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["nodes_3.so", "nodes_4.so"]


def test_ipopt_options_do_not_rebuild_the_nlp(model):
    """Tolerances, iteration limits and print level make a new IPOPT instance around the same functions."""
    from toolkit.ocp.solve import PedalingSolver

    ps = PedalingSolver(model)
    spec = _fixture_specs()["free"]
    tr, s1, _ = ps._get(spec)
    functions = tr.functions
    tr2, s2, _ = ps._get(replace(spec, solver=replace(spec.solver, max_iter=50, tol=1e-6, print_level=0)))
    assert tr2 is tr and tr.functions is functions and s2 is not s1
