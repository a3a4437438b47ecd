"""Physics tests of the model: loop closure, derivatives vs finite differences, Hill curves, saddle rule,
moment arms, and energy conservation of the passive linkage."""
from __future__ import annotations

import math

import casadi as ca
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from toolkit.model import muscles as mus
from toolkit.model.anthropometry import Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.leg import FitError, knee_angle_at, make_setup

FITS = [
    BikeFit(),
    BikeFit(saddle_rule="absolute", saddle_height_m=0.70, seat_tube_angle_deg=75, crank_length_m=0.165),
    BikeFit(knee_flexion_at_bdc_deg=40, trunk_angle_deg=30, cleat_offset_m=0.01),
    BikeFit(saddle_rule="inseam_fraction", inseam_m=0.82, setback_m=0.17, crank_length_m=0.18, trunk_angle_deg=70),
]
THETA = np.linspace(0, 2 * np.pi, 73)


@pytest.mark.parametrize("fit", FITS)
def test_loop_closure_machine_precision(model, fit):
    s = make_setup(model, Rider(height_m=1.8, mass_kg=75), fit)
    worst = 0.0
    for th in THETA:
        for ankle in np.radians([-30.0, -22.0, -15.0]):
            phi = float(model.fixed_ankle(th, ankle, s.leg_params)[0])
            q = np.array(model.pose(th, phi, s.leg_params)[0]).ravel()
            assert abs(q[2] - ankle) < 1e-12  # the fixed-ankle IK holds the requested angle
            worst = max(worst, float(np.abs(np.array(model.closure(th, phi, s.leg_params))).max()))
    assert worst < 1e-13


def _fd(f, x, h=1e-6):
    x = np.asarray(x, float)
    cols = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))).ravel() / (2 * h))
    return np.column_stack(cols)


def test_pose_jacobian_matches_finite_differences(model, setup):
    p = setup.leg_params
    for th, ph in [(0.3, 0.4), (1.6, 0.1), (3.5, 0.5), (5.2, 0.9)]:
        J = np.array(model.pose(th, ph, p)[1])
        Jfd = _fd(lambda x: model.pose(x[0], x[1], p)[0], [th, ph])
        np.testing.assert_allclose(J, Jfd, atol=1e-7)


def test_fixed_ankle_derivatives_match_finite_differences(model, setup):
    p, ank = setup.leg_params, math.radians(-12)
    for th in [0.2, 1.5, 3.0, 4.4]:
        phi, d1, d2 = (float(v) for v in model.fixed_ankle(th, ank, p))
        h = 1e-5
        f = lambda t: float(model.fixed_ankle(t, ank, p)[0])  # noqa: E731
        assert d1 == pytest.approx((f(th + h) - f(th - h)) / (2 * h), abs=1e-7)
        assert d2 == pytest.approx((f(th + h) - 2 * phi + f(th - h)) / h**2, abs=1e-3)


def test_muscle_jacobians_match_finite_differences(model, setup):
    pm, scale = setup.muscle_params, setup.segments.geometry_scale
    q0 = np.radians([60.0, 70.0, -5.0])
    qd0 = np.array([-3.0, 4.0, 1.0])
    a0 = np.linspace(0.1, 0.6, 9)
    qs, qds, as_ = ca.SX.sym("q", 3), ca.SX.sym("qd", 3), ca.SX.sym("a", 9)
    out = model.muscles(qs, qds, as_, pm, scale)
    jac = ca.Function("j", [qs, qds, as_], [ca.jacobian(out[1], ca.vertcat(qs, qds, as_))])
    J = np.array(jac(q0, qd0, a0))
    x0 = np.concatenate([q0, qd0, a0])
    Jfd = _fd(lambda x: model.muscles(x[:3], x[3:6], x[6:], pm, scale)[1], x0, h=1e-6)
    np.testing.assert_allclose(J, Jfd, rtol=1e-5, atol=1e-4)


def test_moment_arm_is_minus_dL_dq_for_every_muscle(model, setup):
    scale = setup.segments.geometry_scale
    L = lambda q: model.geometry.casadi_function()(q, scale)[0]  # noqa: E731
    for q in np.radians([[40, 100, 10], [70, 60, -10], [20, 30, -25]]):
        R = np.array(model.geometry.casadi_function()(q, scale)[1])
        np.testing.assert_allclose(R, -_fd(L, q, h=1e-6), atol=1e-8)


def test_joint_moments_do_virtual_work_of_muscle_forces(model, setup):
    """moment . dq = -F . dL: the joint moments are exactly the muscle forces mapped by r = -dL/dq."""
    pm, scale = setup.muscle_params, setup.segments.geometry_scale
    q = np.radians([55.0, 80.0, 0.0])
    F, M = (np.array(v).ravel() for v in model.muscles(q, np.zeros(3), 0.3 * np.ones(9), pm, scale)[:2])
    dq = np.array([1e-6, -2e-6, 1.5e-6])
    L = lambda x: np.array(model.geometry.casadi_function()(x, scale)[0]).ravel()  # noqa: E731
    assert M @ dq == pytest.approx(-F @ (L(q + dq) - L(q - dq)) / 2, rel=1e-6)


def test_hill_curves_at_known_points():
    ls = np.linspace(0.4, 1.8, 2801)
    fl = np.array([float(mus.active_force_length(x)) for x in ls])
    assert abs(ls[np.argmax(fl)] - 1.0) < 0.02 and fl.max() == pytest.approx(1.0, abs=0.01)
    assert float(mus.active_force_length(1.0)) == pytest.approx(1.0, abs=0.01)
    assert float(mus.active_force_length(0.4)) < 0.1
    assert float(mus.force_velocity(0.0)) == pytest.approx(1.0, abs=0.01)
    assert 0.0 <= float(mus.force_velocity(-1.0)) < 0.02  # the published curve gives 0.011 at v_max
    assert float(mus.force_velocity(0.5)) > 1.3  # eccentric enhancement
    v = np.linspace(-1, 1, 41)
    assert np.all(np.diff([float(mus.force_velocity(x)) for x in v]) > 0)
    assert float(mus.passive_force_length(0.9, 0.6)) < 1e-3
    assert float(mus.passive_force_length(1.0, 0.6)) < 2e-3
    assert float(mus.passive_force_length(1.6, 0.6)) == pytest.approx(1.0, abs=0.02)
    assert float(mus.tendon_force_length(1.0)) == pytest.approx(0.0, abs=0.02)
    assert float(mus.tendon_length_from_force(1.0)) == pytest.approx(1.047, abs=0.002)  # ~4.7 % strain at F_max
    assert float(mus.tendon_length_from_force(mus.tendon_force_length(1.03))) == pytest.approx(1.03, abs=1e-12)


def test_activation_dynamics_time_constants():
    # Rising: da/dt at a=0 with e=1 is 1/(0.5 tau_act); falling from a=1 with e=0 is -2/tau_deact.
    assert float(mus.activation_rate(1.0, 0.0, 0.01, 0.04)) == pytest.approx(1 / (0.5 * 0.01), rel=1e-3)
    assert float(mus.activation_rate(0.0, 1.0, 0.01, 0.04)) == pytest.approx(-2.0 / 0.04, rel=1e-3)
    assert float(mus.activation_rate(0.3, 0.3, 0.01, 0.04)) == 0.0


@pytest.mark.parametrize("knee_deg", [25.0, 30.0, 40.0])
def test_saddle_rule_gives_requested_knee_angle_at_bdc(model, knee_deg):
    fit = BikeFit(knee_flexion_at_bdc_deg=knee_deg, ankle_at_bdc_deg=-15.0)
    s = make_setup(model, Rider(), fit)
    k = knee_angle_at(model, s.leg_params, math.pi, math.radians(-15.0))
    assert math.degrees(k) == pytest.approx(knee_deg, abs=1e-6)


def test_unreachable_fit_is_a_clear_error(model):
    with pytest.raises(FitError, match="cannot reach"):
        make_setup(model, Rider(), BikeFit(saddle_rule="absolute", saddle_height_m=1.0))


def test_passive_linkage_conserves_energy(model, setup):
    """Leg + crank with no muscles, no joint moments, no damping: T + V is constant along a trajectory."""
    p = setup.leg_params
    x, xd = ca.SX.sym("x", 2), ca.SX.sym("xd", 2)
    xdd = ca.SX.sym("xdd", 2)
    Q = model.inverse_dynamics(x[0], x[1], xd[0], xd[1], xdd[0], xdd[1], p)
    M = ca.jacobian(Q, xdd)
    h = ca.substitute(Q, xdd, ca.DM.zeros(2))
    acc = ca.Function("acc", [x, xd], [ca.solve(M, -h)])

    def rhs(t, y):
        return np.concatenate([y[2:], np.array(acc(y[:2], y[2:])).ravel()])

    def energy(y):
        return sum(float(v) for v in model.energy(y[0], y[1], y[2], y[3], p))

    y0 = [0.5, float(model.fixed_ankle(0.5, math.radians(-10), p)[0]), 8.0, 0.0]
    t_end = 0.1
    sol = solve_ivp(rhs, (0, t_end), y0, method="DOP853", rtol=1e-10, atol=1e-10, dense_output=True)
    assert sol.success
    ts = np.linspace(0, t_end, 21)
    E = np.array([energy(sol.sol(t)) for t in ts])
    q = np.array([np.array(model.pose(y[0], y[1], p)[0]).ravel() for y in sol.sol(ts).T])
    assert np.all(np.isfinite(q))
    assert np.ptp(E) < 1e-7 * abs(E).max()
    assert abs(sol.y[0, -1] - y0[0]) > 0.3  # the crank really moved


def test_force_sets_are_switchable(model):
    kw = dict(strength_scaling="none")
    a = make_setup(model, Rider(max_force_set="group_totals", **kw), BikeFit()).muscles.max_force
    b = make_setup(model, Rider(max_force_set="pedaling_model", **kw), BikeFit()).muscles.max_force
    c = make_setup(model, Rider(max_force_set="complete_groups", **kw), BikeFit()).muscles.max_force
    i = mus.MUSCLE_NAMES.index("VAS")
    assert a[i] == pytest.approx(9594.0) and b[i] == pytest.approx(5149.0)
    # Complete groups: GMAX carries adductor magnus, SOL the deep plantarflexors, so both exceed the
    # same-name sums; groups whose members share the unit's path stay within a few % of the plain sum.
    for name in ("GMAX", "SOL", "TA"):
        k = mus.MUSCLE_NAMES.index(name)
        assert c[k] > 1.1 * a[k]
    for name in ("VAS", "GAS", "RF", "BFSH"):
        k = mus.MUSCLE_NAMES.index(name)
        assert c[k] == pytest.approx(a[k], rel=0.03)


def test_complete_groups_match_their_members():
    """The complete-group force is the members' summed joint moment over the unit's own moment arm."""
    from toolkit.model.parameters import read_csv_rows

    members = read_csv_rows("muscle_groups.csv")
    units = {r["name"]: r for r in read_csv_rows("muscles.csv")}
    rep = {"GMAX": "glmax2_r", "ILIO": "psoas_r", "HAMS": "semimem_r", "BFSH": "bfsh_r", "RF": "recfem_r",
           "VAS": "vaslat_r", "GAS": "gasmed_r", "SOL": "soleus_r", "TA": "tibant_r"}
    for unit, r in units.items():
        eqs = []
        for joint in ("hip", "knee", "ankle"):
            rows = [m for m in members if m["unit"] == unit and m["joint"] == joint]
            if not rows:
                continue
            arm = {m["member"]: float(m["mean_moment_arm_m"]) for m in rows}
            moment = sum(float(m["max_isometric_force_N"]) * max(arm[m["member"]], 0.0) for m in rows)
            eqs.append(moment / arm[rep[unit]])
        assert float(r["complete_group_max_isometric_force_N"]) == pytest.approx(np.mean(eqs), rel=0.01), unit


def test_strength_scales_with_body_mass(model):
    """Force proportional to body mass (volume ~ mass x height, Handsfield et al. 2014; force = stress x volume /
    fibre length, fibre length ~ height); fibre lengths scale with the rider's geometry instead."""
    light = make_setup(model, Rider(mass_kg=50.0), BikeFit()).muscles
    heavy = make_setup(model, Rider(mass_kg=100.0), BikeFit()).muscles
    np.testing.assert_allclose(heavy.max_force / light.max_force, 2.0, rtol=1e-12)
    np.testing.assert_allclose(heavy.optimal_fiber_length, light.optimal_fiber_length, rtol=1e-12)
    ref = make_setup(model, Rider(mass_kg=75.337, strength_scaling="none"), BikeFit()).muscles
    scaled = make_setup(model, Rider(mass_kg=75.337), BikeFit()).muscles
    np.testing.assert_allclose(scaled.max_force, ref.max_force, rtol=1e-9)


def test_muscle_architecture_is_switchable(model):
    lai = make_setup(model, Rider(), BikeFit()).muscles
    park = make_setup(model, Rider(muscle_architecture="pedaling_model"), BikeFit()).muscles
    passive = make_setup(model, Rider(passive_curves="pedaling_model"), BikeFit()).muscles
    np.testing.assert_allclose(passive.optimal_fiber_length, lai.optimal_fiber_length)
    assert passive.passive_strain[mus.MUSCLE_NAMES.index("VAS")] == pytest.approx(1.4)  # Lai 2017 / Park value
    assert lai.passive_strain[mus.MUSCLE_NAMES.index("VAS")] == pytest.approx(0.711, rel=1e-3)  # Uhlrich 2022
    k = mus.MUSCLE_NAMES.index("VAS")
    assert lai.optimal_fiber_length[k] > 1.2 * park.optimal_fiber_length[k]
    k = mus.MUSCLE_NAMES.index("TA")  # TA is a pure rescaling of the same source values in both
    assert lai.optimal_fiber_length[k] == pytest.approx(park.optimal_fiber_length[k], rel=0.005)
