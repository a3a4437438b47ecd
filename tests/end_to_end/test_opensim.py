"""OpenSim interop (issue 15): the .osim writer, the polynomial expansion, the state/control tables, the Moco
script and the CLI run always (no opensim needed); the cross-checks in OpenSim itself run when an interpreter
with `opensim` is found ($TOOLKIT_OPENSIM_PYTHON; opensim and casadi cannot share a process) and skip otherwise."""
from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from toolkit.check.opensim import crosscheck, find_opensim_python, run_probe
from toolkit.io import hdf5, provenance
from toolkit.io.moco import moco_script, moco_spec_from_problem
from toolkit.io.osim import control_columns, export_osim_trajectory, osim_xml, state_columns, write_osim
from toolkit.io.sto import read_sto
from toolkit.model.anthropometry import Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.geometry import load_geometry
from toolkit.model.leg import make_setup
from toolkit.model.muscles import MUSCLE_NAMES
from toolkit.model.osim_model import (expand_centred_polynomial, muscle_osim_name, muscle_polynomial,
                                      opensim_monomials, osim_model_spec)
from toolkit.ocp.problem import ProblemSpec, SolverSpec

NODES = 16


@pytest.fixture(scope="module")
def spec(setup):
    return osim_model_spec(setup)


@pytest.fixture(scope="module")
def osim_file(tmp_path_factory, spec):
    return write_osim(spec, tmp_path_factory.mktemp("osim") / "leg.osim")


@pytest.fixture(scope="module")
def sol(solver, setup):
    s = solver.solve(setup, ProblemSpec(condition="free", power_W=200, solver=SolverSpec(nodes=NODES)))
    assert s.success
    return s


@pytest.fixture(scope="module")
def opensim_python():
    exe = find_opensim_python()
    if exe is None:
        pytest.skip("no interpreter with opensim (set TOOLKIT_OPENSIM_PYTHON)")
    return exe


def test_opensim_monomial_order():
    assert opensim_monomials(1, 3) == [(0,), (1,), (2,), (3,)]
    assert opensim_monomials(2, 2) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)]
    assert len(opensim_monomials(2, 7)) == math.comb(9, 2)


def test_expansion_is_exact_for_a_simple_case():
    # 2 (x - 1)^2 (y + 0.5) = 2 (x^2 - 2x + 1)(y + 0.5)
    mono = expand_centred_polynomial([1.0, -0.5], [(2, 1)], [2.0])
    assert mono == {(2, 1): 2.0, (2, 0): 1.0, (1, 1): -4.0, (1, 0): -2.0, (0, 1): 2.0, (0, 0): 1.0}


def test_polynomials_reproduce_toolkit_lengths(setup):
    geo = load_geometry()
    scale = float(setup.leg_params[-1])
    fr = geo.fit_range_deg
    rng = np.random.default_rng(1)
    lo = np.radians([fr[j][0] for j in ("hip", "knee", "ankle")])
    hi = np.radians([fr[j][1] for j in ("hip", "knee", "ankle")])
    q = lo + (hi - lo) * rng.random((300, 3))
    L = geo.lengths(q, scale)
    for i, m in enumerate(MUSCLE_NAMES):
        poly = muscle_polynomial(geo, m, scale)
        cols = [("hip_flexion_r", "knee_angle_r", "ankle_angle_r").index(c) for c in poly.coordinates]
        assert np.max(np.abs(poly.evaluate(q[:, cols]) - L[:, i])) < 1e-12, m


def test_osim_xml_has_every_muscle_and_parameter(setup, spec):
    root = ET.fromstring(osim_xml(spec))
    model = root.find("Model")
    assert root.tag == "OpenSimDocument" and model is not None
    mus = setup.muscles
    found = {e.get("name"): e for e in model.iter("DeGrooteFregly2016Muscle")}
    assert set(found) == {muscle_osim_name(m) for m in MUSCLE_NAMES}
    fields = {"max_isometric_force": mus.max_force, "optimal_fiber_length": mus.optimal_fiber_length,
              "tendon_slack_length": mus.tendon_slack_length, "pennation_angle_at_optimal": mus.pennation,
              "max_contraction_velocity": mus.max_velocity, "passive_fiber_strain_at_one_norm_force": mus.passive_strain,
              "activation_time_constant": mus.tau_act, "deactivation_time_constant": mus.tau_deact}
    geo = load_geometry()
    for i, m in enumerate(MUSCLE_NAMES):
        e = found[muscle_osim_name(m)]
        for tag, values in fields.items():
            assert float(e.findtext(tag)) == float(values[i]), (m, tag)
        assert e.findtext("ignore_tendon_compliance") == "true"
        poly = muscle_polynomial(geo, m, float(setup.leg_params[-1]))
        coefs = [float(x) for x in e.find("FunctionBasedPath/length_function/MultivariatePolynomialFunction/"
                                          "coefficients").text.split()]
        assert coefs == list(poly.coefficients)
        paths = e.findtext("FunctionBasedPath/coordinate_paths").split()
        assert [p.rsplit("/", 1)[1] for p in paths] == list(poly.coordinates)
    joints = {e.get("name"): e for e in model.iter("PinJoint")}
    assert set(joints) == {"hip_r", "knee_r", "ankle_r", "crank_bb"}
    bodies = {e.get("name"): float(e.findtext("mass")) for e in model.iter("Body")}
    assert bodies["femur_r"] == setup.segments.thigh.mass and bodies["tibia_r"] == setup.segments.shank.mass
    assert bodies["foot_r"] == setup.segments.foot_mass
    c = model.find("ConstraintSet/objects/PointOnLineConstraint")
    assert [float(x) for x in c.findtext("point_on_follower").split()] == list(spec.cleat_point)
    assert len(list(model.iter("ExpressionBasedCoordinateForce"))) == 3


def test_passive_expression_is_the_toolkit_moment(model, spec):
    rng = np.random.default_rng(2)
    for p in spec.passive:
        j = ("hip_flexion_r", "knee_angle_r", "ankle_angle_r").index(p.coordinate)
        for _ in range(20):
            q, qd = rng.uniform(-1.0, 2.5, 3), rng.normal(0, 5, 3)
            val = eval(p.expression, {"exp": math.exp, "q": q[j], "qdot": qd[j]})  # noqa: S307 (our own text)
            assert val == pytest.approx(float(model.passive(q, qd)[j]), rel=1e-12, abs=1e-12)


def test_trajectory_tables(tmp_path, sol, spec):
    paths = export_osim_trajectory(sol, tmp_path, "p", spec.crank_load_optimal_force)
    meta, labels, data = read_sto(paths[0])
    assert labels == ["time", *state_columns()] and meta["inDegrees"] == "no"
    assert data.shape[0] == NODES + 1
    assert data[-1, 1] == pytest.approx(2 * math.pi) and data[-1, 0] == pytest.approx(sol.period_s)
    assert np.allclose(data[:-1, 3], sol["q"][0], rtol=0, atol=1e-15)
    _, clabels, cdata = read_sto(paths[1])
    assert clabels == ["time", *control_columns()]
    mean_power = -np.mean(cdata[:-1, -1]) * spec.crank_load_optimal_force * sol.spec.omega * 2
    assert mean_power == pytest.approx(200.0, rel=1e-6)


def test_moco_script_is_valid_python(sol):
    ms = moco_spec_from_problem(sol.spec, "leg.osim", guess_states="p_osim_states.sto")
    text = moco_script(ms)
    compile(text, "moco_pedaling.py", "exec")
    problem = json.loads(re.search(r'PROBLEM = json.loads\(r"""(.*?)"""\)', text, re.S).group(1))
    assert problem["power_W"] == 200.0 and problem["exponent"] == 3 and problem["condition"] == "free"
    assert problem["mesh_intervals"] == NODES
    # The settings that make the Moco solve converge (docs/opensim.md): flywheel crank with a constant brake,
    # Moco's safe sparsity, implicit dynamics, IPOPT's barrier parameter capped.
    assert problem["flywheel_inertia"] >= 100.0
    assert problem["ipopt_options"]["mu_max"] <= 1e-6
    assert 'set_optim_sparsity_detection("none")' in text and 'set_multibody_dynamics_mode("implicit")' in text
    with pytest.raises(ValueError, match="heel_drop"):
        moco_spec_from_problem(ProblemSpec(condition="heel_drop"), "x.osim")


def test_cli_model_and_export(tmp_path, sol, monkeypatch):
    from toolkit.cli import main

    monkeypatch.setattr(provenance, "git_commit", lambda: "0123456789abcdef")
    assert main(["model", "--osim", str(tmp_path / "m.osim"), "--height-m", "1.85", "--trunk-angle-deg", "60"]) == 0
    ET.parse(tmp_path / "m.osim")
    h5 = tmp_path / "r.h5"
    hdf5.write_solution(h5, "condition=free/power_W=200", sol)
    assert main(["export", str(h5), "--osim", str(tmp_path / "o"), "--moco", str(tmp_path / "m")]) == 0
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert any(n.endswith("_moco.py") for n in names) and any(n.endswith(".osim") for n in names)
    assert any(n.endswith("_osim_states.sto") for n in (p.name for p in (tmp_path / "o").iterdir()))
    assert main(["export", str(h5)]) == 2


# ----------------------------------------------------------------------------------------- in OpenSim itself
@pytest.mark.opensim
def test_opensim_matches_toolkit(opensim_python, osim_file, spec, model, setup):
    r = crosscheck(opensim_python, osim_file, spec, model, setup, n_poses=200, seed=3)
    assert r.max_length_diff_m < 1e-9
    assert r.max_moment_arm_diff_m < 1e-9
    assert r.max_closure_m < 1e-9
    assert r.max_generalized_force_diff_Nm < 1e-9


@pytest.mark.opensim
def test_opensim_matches_toolkit_other_rider_and_fit(opensim_python, tmp_path, model):
    setup = make_setup(model, Rider(height_m=1.62, mass_kg=58.0, sex="female"),
                       BikeFit(trunk_angle_deg=70.0, crank_length_m=0.165, seat_tube_angle_deg=75.0))
    spec = osim_model_spec(setup)
    f = write_osim(spec, tmp_path / "other.osim")
    r = crosscheck(opensim_python, f, spec, model, setup, n_poses=60, seed=4)
    assert max(r.max_length_diff_m, r.max_moment_arm_diff_m, r.max_closure_m) < 1e-9
    assert r.max_generalized_force_diff_Nm < 1e-9


@pytest.mark.opensim
def test_exported_solution_plays_back(opensim_python, tmp_path, osim_file, sol, spec):
    states, _ = export_osim_trajectory(sol, tmp_path, "p", spec.crank_load_optimal_force)
    pb = run_probe(opensim_python, {"model": str(osim_file), "states": str(states)})["playback"]
    assert len(pb["time"]) == NODES + 1
    assert max(pb["qerr"]) < 1e-9  # every row is on the pedal constraint
    L = np.asarray(pb["lengths"])[:-1].T
    assert np.max(np.abs(L - sol["mtu_length"])) < 1e-9
    # Tendon forces differ only by OpenSim's own curves (force-velocity constants, passive fibre curve).
    F = np.asarray(pb["tendon_forces"])[:-1].T
    fmax = spec.muscles[0].max_isometric_force
    assert np.all(np.isfinite(F))
    assert np.max(np.abs(F - sol["force"]) / np.array([m.max_isometric_force for m in spec.muscles])[:, None]) < 0.05, fmax
