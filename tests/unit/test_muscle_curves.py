"""rider.muscle_curves (issue 15): the default 'toolkit' curves are unchanged, 'opensim' changes the muscle forces by
the expected small amounts, and (marker `opensim`, needs $TOOLKIT_OPENSIM_PYTHON) the 'opensim' curves equal
OpenSim 4.6's DeGrooteFregly2016Muscle curves of the exported muscles to ~1e-12."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from toolkit.check.opensim import find_opensim_python, run_probe
from toolkit.io.osim import osim_xml, write_osim
from toolkit.model import muscles as mus
from toolkit.model.anthropometry import MUSCLE_CURVES, Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.leg import make_setup
from toolkit.model.osim_model import osim_model_spec
from toolkit.ocp.problem import ProblemSpec, SolverSpec
from toolkit.ocp.solve import PedalingSolver
from toolkit.study.config.schema import SCHEMA

# Values of the toolkit curves before the option existed (commit 8683818), to ~1 ulp.
REFERENCE = {
    "active": ([0.4, 0.7, 1.0, 1.3, 1.6], [0.02553989397462059, 0.6840997753313893, 0.999433461432387,
                                           0.5808353217725816, 0.1241860913305748]),
    "velocity": ([-0.8, -0.3, 0.0, 0.3, 0.8], [0.08494144628044553, 0.41618664635884434, 1.0021192193371349,
                                               1.4457520087476565, 1.722496729900373]),
    "passive": ([0.9, 1.0, 1.2, 1.5], [0.00012357026338567187, 0.0012862217390827023, 0.05235820621151838,
                                       0.505036281057193]),
    "tendon": ([1.0, 1.03], [-0.01175075667752834, 0.43083321655816453]),
}


def _f(v) -> np.ndarray:
    return np.array(v, dtype=float).ravel()


def test_default_curves_unchanged():
    assert Rider().muscle_curves == "toolkit" and MUSCLE_CURVES == ("toolkit", "opensim")
    for curves in ((), ("toolkit",)):
        x, ref = REFERENCE["active"]
        assert _f(mus.active_force_length(np.array(x), *curves)) == pytest.approx(ref, rel=1e-14)
        x, ref = REFERENCE["velocity"]
        assert _f(mus.force_velocity(np.array(x), *curves)) == pytest.approx(ref, rel=1e-14)
        x, ref = REFERENCE["passive"]
        assert _f(mus.passive_force_length(np.array(x), 0.6, *curves)) == pytest.approx(ref, rel=1e-14)
        x, ref = REFERENCE["tendon"]
        assert _f(mus.tendon_force_length(np.array(x), *curves)) == pytest.approx(ref, rel=1e-14)


def test_muscle_curves_validated():
    with pytest.raises(ValueError, match="muscle_curves"):
        Rider(muscle_curves="thelen")
    with pytest.raises(ValueError, match="allowed"):
        mus.active_force_length(1.0, "thelen")
    assert "opensim" in SCHEMA["rider"].key("muscle_curves").allowed()


def test_opensim_curves_known_points():
    """OpenSim's published properties: f_L(1) = 1, f_V(0) = 1, f_V(-1) = 0, passive zero at l = 0.2 and 1 at
    l = 1 + e0, tendon 0 at slack and 1 at 4.9 % strain."""
    assert float(mus.active_force_length(1.0, "opensim")) == pytest.approx(1.0, abs=1e-14)
    assert float(mus.force_velocity(0.0, "opensim")) == pytest.approx(1.0, abs=1e-12)
    assert float(mus.force_velocity(-1.0, "opensim")) == pytest.approx(0.0, abs=1e-12)
    for e0 in (0.3, 0.6, 1.2):
        assert float(mus.passive_force_length(0.2, e0, "opensim")) == pytest.approx(0.0, abs=1e-16)
        assert float(mus.passive_force_length(1.0 + e0, e0, "opensim")) == pytest.approx(1.0, rel=1e-14)
        # At optimal length: (1 - offset) / (e^4 - offset), offset = exp(-3.2 / e0): 1.7-1.8 % (toolkit: <0.3 %).
        off = np.exp(4.0 * (0.2 - 1.0) / e0)
        assert float(mus.passive_force_length(1.0, e0, "opensim")) == pytest.approx((1 - off) / (np.exp(4) - off))
        assert 0.017 < float(mus.passive_force_length(1.0, e0, "opensim")) < 0.0185
        assert float(mus.passive_force_length(1.0, e0)) < 3e-3
    assert float(mus.tendon_force_length(1.0, "opensim")) == pytest.approx(0.0, abs=1e-15)
    assert float(mus.tendon_force_length(1.049, "opensim")) == pytest.approx(1.0, rel=1e-12)
    ft = np.linspace(0.05, 2.0, 7)
    assert _f(mus.tendon_force_length(mus.tendon_length_from_force(ft, "opensim"), "opensim")) == pytest.approx(ft)


def test_opensim_curves_change_forces_slightly(model):
    """At the same state the two curve sets differ by: active force-length < 0.1 % of F_max (b11), force-velocity
    < 4 % relative (|v| <= 0.5 v_max; ~0.3 % near isometric), passive ~1-2 % of F_max at optimal length."""
    ln = np.linspace(0.5, 1.5, 101)
    d_fl = _f(mus.active_force_length(ln, "opensim")) - _f(mus.active_force_length(ln))
    assert 0.0 <= d_fl.min() and d_fl.max() < 1e-3
    v = np.linspace(-0.5, 0.5, 101)
    r_fv = _f(mus.force_velocity(v, "opensim")) / _f(mus.force_velocity(v)) - 1
    assert np.abs(r_fv).max() < 0.04 and np.abs(r_fv[np.abs(v) <= 0.05]).max() < 0.004
    # Whole units through the leg's muscle functions, random states in the geometry fit range.
    rider = Rider(muscle_curves="opensim")
    setup = make_setup(model, rider, BikeFit())
    assert np.array_equal(setup.muscle_params, make_setup(model, Rider(), BikeFit()).muscle_params)
    rng = np.random.default_rng(7)
    from toolkit.check.opensim import random_length_poses

    q = random_length_poses(50, rng)
    scale = float(setup.leg_params[-1])
    fmax = setup.muscles.max_force
    assert model.muscle_function("toolkit") is model.muscles
    d_active, d_passive = [], []
    for qi in q:
        qd = rng.normal(0.0, 2.0, 3)
        out_t = model.muscle_function("toolkit")(qi, qd, 0.3 * np.ones(9), setup.muscle_params, scale)
        out_o = model.muscle_function("opensim")(qi, qd, 0.3 * np.ones(9), setup.muscle_params, scale)
        # Fibre length: OpenSim's rigid tendon (sqrt((l_mtu - l_ts)^2 + h^2)) to round-off where the unit is
        # taut; the toolkit's clamp lengthens it by ~w^2 / 4 (l_mtu - l_ts) (fibre_projection).
        x = _f(out_o[6]) - setup.muscles.tendon_slack_length
        h = setup.muscles.optimal_fiber_length * np.sin(setup.muscles.pennation)
        taut = x > 0.012
        assert _f(out_o[2])[taut] == pytest.approx(np.hypot(x, h)[taut], rel=1e-13)
        assert np.all(np.abs(_f(out_t[2]) - _f(out_o[2]))[taut] < 1e-4)
        d_active.append(_f(out_o[4]) - _f(out_t[4]))
        d_passive.append(_f(out_o[5]) - _f(out_t[5]))
        dF = (_f(out_o[0]) - _f(out_t[0])) / fmax
        assert np.all(np.abs(dF) < 0.05)
    d_active, d_passive = np.array(d_active), np.array(d_passive)
    assert np.abs(d_active).max() < 0.3 * 0.05  # a = 0.3, force-velocity within a few %
    # OpenSim's extra passive tension near optimal length (at long fibres the toolkit's ramp gives slightly more).
    assert np.abs(d_passive).max() < 0.05 and 0.005 < np.median(d_passive) < 0.03


def test_solver_keeps_one_structure_per_curve_set(model):
    solver = PedalingSolver(model=model)
    spec = ProblemSpec(condition="free", solver=SolverSpec(nodes=8))
    t_default, t_open = solver.transcription(spec), solver.transcription(spec, "opensim")
    assert t_default is solver.transcription(spec, "toolkit") and t_default is not t_open
    assert t_default.muscle_curves == "toolkit" and t_open.muscle_curves == "opensim"


def test_export_says_which_curves(model):
    base = osim_model_spec(make_setup(model, Rider(), BikeFit()))
    other = osim_model_spec(make_setup(model, Rider(muscle_curves="opensim"), BikeFit()))
    assert "differ from the toolkit's" in base.notes and "same curves" in other.notes
    # The muscles themselves are written identically (the export is exact for 'opensim').
    assert base.muscles == other.muscles
    xml = osim_xml(other)
    assert "<ignore_passive_fiber_force>false</ignore_passive_fiber_force>" in xml
    assert "<fiber_damping>0</fiber_damping>" in xml and "active_force_width_scale" not in xml


@pytest.mark.opensim
def test_opensim_curves_match_opensim(model, tmp_path):
    """Each exported muscle's calcActiveForceLengthMultiplier, calcPassiveForceMultiplier (its own
    passive_fiber_strain_at_one_norm_force), calcTendonForceMultiplier and the static calcForceVelocityMultiplier
    of OpenSim equal the toolkit's 'opensim' curves to ~1e-12 on a grid."""
    exe = find_opensim_python()
    if exe is None:
        pytest.skip("no interpreter with opensim (set TOOLKIT_OPENSIM_PYTHON)")
    rider = dataclasses.replace(Rider(), muscle_curves="opensim", passive_strain_scale=1.3)
    setup = make_setup(model, rider, BikeFit())
    f = write_osim(osim_model_spec(setup), tmp_path / "leg.osim")
    ln = np.linspace(0.2, 1.8, 81)
    v = np.linspace(-1.0, 1.0, 81)
    lt = np.linspace(0.99, 1.06, 36)
    res = run_probe(exe, {"model": str(f), "curves": {"fiber_lengths": ln.tolist(), "fiber_velocities": v.tolist(),
                                                      "tendon_lengths": lt.tolist()}})["curves"]
    e0 = setup.muscles.passive_strain
    tol = dict(rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_f(mus.force_velocity(v, "opensim")), res["force_velocity"], **tol)
    for i in range(len(mus.MUSCLE_NAMES)):
        np.testing.assert_allclose(_f(mus.active_force_length(ln, "opensim")), res["active"][i], **tol)
        np.testing.assert_allclose(_f(mus.passive_force_length(ln, e0[i], "opensim")), res["passive"][i], **tol)
        np.testing.assert_allclose(_f(mus.tendon_force_length(lt, "opensim")), res["tendon"][i], **tol)
    # ... and differ from the toolkit's default curves (the check is not vacuous).
    assert np.abs(_f(mus.passive_force_length(ln, e0[0])) - res["passive"][0]).max() > 1e-3


def test_config_key_reaches_the_rider():
    from toolkit import api

    default = Path(__file__).resolve().parents[2] / "experiments" / "default.toml"
    e = api.load_experiment(default, ["rider.muscle_curves=opensim"])
    assert [r.muscle_curves for r in e.riders] == ["opensim"]
    assert [r.muscle_curves for r in api.load_experiment(default).riders] == ["toolkit"]
