"""The leg-crank model as casadi functions, built once and shared by the problem, analysis and tests.

`LegModel` is built from the packaged data only; the rider, fit and muscle parameters enter every function
as numeric parameter vectors (`leg_parameter_vector`, `MuscleParameters.as_vector`), so one build serves every
rider, fit, cadence and work rate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import casadi as ca
import numpy as np

from . import kinematics as kin
from .anthropometry import LegSegments, Rider, leg_segments
from .bikefit import BikeFit, hip_position, pelvis_tilt_rad
from .geometry import MuscleGeometry, load_geometry
from .muscles import (MUSCLE_NAMES, PARAM_FIELDS, MuscleParameters, compliant_tendon_force, muscle_parameters,
                      rigid_tendon_force)
from .parameters import model_parameters

JOINTS = ("hip", "knee", "ankle")
GRAVITY = 9.81


def joint_ranges_rad() -> np.ndarray:
    """3x2 array of joint range limits (rad), hip/knee/ankle."""
    r = model_parameters()["joint_range_deg"]
    return np.radians(np.array([r[j] for j in JOINTS], dtype=float))


def passive_joint_moment(q, qdot):
    """Passive joint moments (N m): exponential limit moments plus linear damping (data/model_parameters.toml)."""
    pj = model_parameters()["passive_joint_moment"]
    k, s, c = pj["moment_at_limit_Nm"], pj["stiffness_per_rad"], pj["damping_Nms_per_rad"]
    lim = joint_ranges_rad()
    out = []
    for i in range(3):
        out.append(k * (ca.exp(-s * (q[i] - lim[i, 0])) - ca.exp(s * (q[i] - lim[i, 1]))) - c * qdot[i])
    return ca.vertcat(*out)


def leg_parameter_vector(segments: LegSegments, hip_xy: tuple[float, float], pelvis_tilt: float,
                         crank_length: float, cleat_offset: float) -> np.ndarray:
    """Numeric leg parameter vector in kinematics.LEG_PARAM_NAMES order."""
    values = {
        "hip_x": hip_xy[0], "hip_y": hip_xy[1], "pelvis_tilt": pelvis_tilt, "crank_length": crank_length,
        "thigh_length": segments.thigh.length, "shank_length": segments.shank.length,
        "cleat_x": segments.ankle_to_mtp[0] + cleat_offset, "cleat_y": segments.ankle_to_mtp[1],
        "foot_com_x": segments.ankle_to_com[0], "foot_com_y": segments.ankle_to_com[1],
        "thigh_mass": segments.thigh.mass, "thigh_com": segments.thigh.com, "thigh_inertia": segments.thigh.inertia,
        "shank_mass": segments.shank.mass, "shank_com": segments.shank.com, "shank_inertia": segments.shank.inertia,
        "foot_mass": segments.foot_mass, "foot_inertia": segments.foot_inertia,
        "crank_inertia": model_parameters()["crank"]["inertia_kgm2"], "gravity": GRAVITY,
        "geometry_scale": segments.geometry_scale,
    }
    return np.array([float(values[n]) for n in kin.LEG_PARAM_NAMES])


@dataclass
class LegModel:
    """Casadi functions of one leg on the crank (build once with `LegModel()`; all are SX functions).

    pose(theta, phi, p) -> q[3], dq/d(theta,phi)[3x2], points[2x4] (hip, knee, ankle, pedal)
    inverse_dynamics(theta, phi, dtheta, dphi, ddtheta, ddphi, p) -> Q[2]: generalized inertial + gravity forces
    energy(theta, phi, dtheta, dphi, p) -> kinetic, potential (J) of thigh, shank, foot and crank
    fixed_ankle(theta, ankle, p) -> phi, dphi/dtheta, d2phi/dtheta2 with the ankle held at `ankle`
    muscles(q, qdot, a, pm, scale) -> force[9], moment[3], fibre length[9], fibre velocity[9], active[9],
        passive[9], mtu length[9], moment arms[9x3]   (rigid tendon, toolkit curves; muscle_function(curves))
    passive(q, qdot) -> passive joint moments[3]
    """

    geometry: MuscleGeometry = field(default_factory=load_geometry)
    _muscle_functions: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def n_leg_params(self) -> int:
        return len(kin.LEG_PARAM_NAMES)

    @cached_property
    def n_muscle_params(self) -> int:
        return len(PARAM_FIELDS) * len(MUSCLE_NAMES)

    @cached_property
    def pose(self) -> ca.Function:
        th, ph = ca.SX.sym("theta"), ca.SX.sym("phi")
        p = ca.SX.sym("p", self.n_leg_params)
        pose = kin.leg_pose(th, ph, p)
        q = pose["q"]
        pts = ca.horzcat(pose["hip"], pose["knee"], pose["ankle"], pose["pedal"])
        return ca.Function("pose", [th, ph, p], [q, ca.jacobian(q, ca.vertcat(th, ph)), pts],
                           ["theta", "phi", "p"], ["q", "dq", "points"])

    @cached_property
    def energy(self) -> ca.Function:
        return self._lagrangian()[0]

    @cached_property
    def inverse_dynamics(self) -> ca.Function:
        return self._lagrangian()[1]

    def _lagrangian(self):
        x = ca.SX.sym("x", 2)
        xd = ca.SX.sym("xd", 2)
        xdd = ca.SX.sym("xdd", 2)
        p = ca.SX.sym("p", self.n_leg_params)
        pp = kin.P(p)
        com, ang = kin.segment_com_and_angles(x[0], x[1], p)
        masses = [pp.thigh_mass, pp.shank_mass, pp.foot_mass]
        inertias = [pp.thigh_inertia, pp.shank_inertia, pp.foot_inertia]
        T = 0.5 * pp.crank_inertia * xd[0] ** 2
        V = 0
        for i in range(3):
            v = ca.jtimes(com[:, i], x, xd)
            w = ca.jtimes(ang[i], x, xd)
            T += 0.5 * masses[i] * ca.sumsqr(v) + 0.5 * inertias[i] * w ** 2
            V += masses[i] * pp.gravity * com[1, i]
        dT_dxd = ca.gradient(T, xd)
        Q = ca.jtimes(dT_dxd, x, xd) + ca.jtimes(dT_dxd, xd, xdd) - ca.gradient(T, x) + ca.gradient(V, x)
        energy = ca.Function("energy", [x[0], x[1], xd[0], xd[1], p], [T, V],
                             ["theta", "phi", "dtheta", "dphi", "p"], ["kinetic", "potential"])
        # Split x into scalars for a friendlier signature.
        th, ph, dth, dph, ddth, ddph = (ca.SX.sym(n) for n in ("theta", "phi", "dtheta", "dphi", "ddtheta", "ddphi"))
        f = ca.Function("Qtmp", [x, xd, xdd, p], [Q])
        Qs = f(ca.vertcat(th, ph), ca.vertcat(dth, dph), ca.vertcat(ddth, ddph), p)
        invdyn = ca.Function("inverse_dynamics", [th, ph, dth, dph, ddth, ddph, p], [Qs],
                             ["theta", "phi", "dtheta", "dphi", "ddtheta", "ddphi", "p"], ["Q"])
        return energy, invdyn

    @cached_property
    def energy_rate(self) -> ca.Function:
        """energy_rate(theta, phi, dtheta, dphi, ddtheta, ddphi, p) -> d(kinetic + potential)/dt (W)."""
        s = [ca.SX.sym(n) for n in ("theta", "phi", "dtheta", "dphi", "ddtheta", "ddphi")]
        p = ca.SX.sym("p", self.n_leg_params)
        T, V = self.energy(s[0], s[1], s[2], s[3], p)
        rate = ca.jtimes(T + V, ca.vertcat(*s[:4]), ca.vertcat(*s[2:]))
        return ca.Function("energy_rate", s + [p], [rate], ["theta", "phi", "dtheta", "dphi", "ddtheta", "ddphi", "p"],
                           ["rate"])

    @cached_property
    def fixed_ankle(self) -> ca.Function:
        th, ank = ca.SX.sym("theta"), ca.SX.sym("ankle")
        p = ca.SX.sym("p", self.n_leg_params)
        phi = kin.sole_angle_fixed_ankle(th, ank, p)
        d1 = ca.jacobian(phi, th)
        d2 = ca.jacobian(d1, th)
        return ca.Function("fixed_ankle", [th, ank, p], [phi, d1, d2], ["theta", "ankle", "p"],
                           ["phi", "dphi", "ddphi"])

    @cached_property
    def joint_motion(self) -> ca.Function:
        """joint_motion(theta, phi, dtheta, dphi, ddtheta, ddphi, p) -> joint velocities and accelerations."""
        x, xd, xdd = ca.SX.sym("x", 2), ca.SX.sym("xd", 2), ca.SX.sym("xdd", 2)
        p = ca.SX.sym("p", self.n_leg_params)
        q = kin.leg_pose(x[0], x[1], p)["q"]
        qd = ca.jtimes(q, x, xd)
        qdd = ca.jtimes(qd, x, xd) + ca.jtimes(q, x, xdd)
        f = ca.Function("tmp", [x, xd, xdd, p], [qd, qdd])
        s = [ca.SX.sym(n) for n in ("theta", "phi", "dtheta", "dphi", "ddtheta", "ddphi")]
        qd_s, qdd_s = f(ca.vertcat(s[0], s[1]), ca.vertcat(s[2], s[3]), ca.vertcat(s[4], s[5]), p)
        return ca.Function("joint_motion", s + [p], [qd_s, qdd_s],
                           ["theta", "phi", "dtheta", "dphi", "ddtheta", "ddphi", "p"], ["qdot", "qddot"])

    @cached_property
    def open_chain(self) -> ca.Function:
        """open_chain(q, qdot, qddot, p) -> joint moments (N m) that the open leg (pelvis fixed, foot free)
        needs for this motion, and the cleat Jacobian d(cleat)/dq (2x3). With a pedal force F acting on the
        foot, the net joint moments are tau = tau_open - J^T F; used to recover the pedal force."""
        q, qd, qdd = ca.SX.sym("q", 3), ca.SX.sym("qd", 3), ca.SX.sym("qdd", 3)
        p = ca.SX.sym("p", self.n_leg_params)
        pp = kin.P(p)
        thigh = q[0] - ca.pi / 2 - pp.pelvis_tilt
        shank = thigh - q[1]
        phi = -q[2] - shank - ca.pi / 2
        hip = ca.vertcat(pp.hip_x, pp.hip_y)
        knee = hip + pp.thigh_length * ca.vertcat(ca.cos(thigh), ca.sin(thigh))
        ankle = knee + pp.shank_length * ca.vertcat(ca.cos(shank), ca.sin(shank))
        u, n = kin.sole_axes(phi)
        coms = [hip + pp.thigh_com * ca.vertcat(ca.cos(thigh), ca.sin(thigh)),
                knee + pp.shank_com * ca.vertcat(ca.cos(shank), ca.sin(shank)),
                ankle + pp.foot_com_x * u + pp.foot_com_y * n]
        angs = [thigh, shank, -phi]
        masses = [pp.thigh_mass, pp.shank_mass, pp.foot_mass]
        inertias = [pp.thigh_inertia, pp.shank_inertia, pp.foot_inertia]
        T, V = 0, 0
        for c, a, mm, ii in zip(coms, angs, masses, inertias):
            T += 0.5 * mm * ca.sumsqr(ca.jtimes(c, q, qd)) + 0.5 * ii * ca.jtimes(a, q, qd) ** 2
            V += mm * pp.gravity * c[1]
        dT = ca.gradient(T, qd)
        tau = ca.jtimes(dT, q, qd) + ca.jtimes(dT, qd, qdd) - ca.gradient(T, q) + ca.gradient(V, q)
        cleat = kin.forward_pedal_from_joint_angles(q, p)
        return ca.Function("open_chain", [q, qd, qdd, p], [tau, ca.jacobian(cleat, q)],
                           ["q", "qdot", "qddot", "p"], ["moment", "cleat_jacobian"])

    @cached_property
    def closure(self) -> ca.Function:
        """closure(theta, phi, p) -> cleat point from forward kinematics minus pedal spindle (m)."""
        th, ph = ca.SX.sym("theta"), ca.SX.sym("phi")
        p = ca.SX.sym("p", self.n_leg_params)
        q = kin.leg_pose(th, ph, p)["q"]
        return ca.Function("closure", [th, ph, p],
                           [kin.forward_pedal_from_joint_angles(q, p) - kin.pedal_position(th, p)])

    @cached_property
    def passive(self) -> ca.Function:
        q, qd = ca.SX.sym("q", 3), ca.SX.sym("qdot", 3)
        return ca.Function("passive", [q, qd], [passive_joint_moment(q, qd)], ["q", "qdot"], ["moment"])

    @cached_property
    def muscles(self) -> ca.Function:
        """The rigid-tendon muscles with the toolkit's curves (muscle_function for the other curve set)."""
        return self.muscle_function("toolkit")

    @cached_property
    def muscles_compliant(self) -> ca.Function:
        """The compliant-tendon muscles with the toolkit's curves (muscle_function for the other curve set)."""
        return self.muscle_function("toolkit", compliant=True)

    def muscle_function(self, curves: str = "toolkit", compliant: bool = False) -> ca.Function:
        """muscles (rigid tendon) or muscles_compliant with one Hill-curve set (the rider's muscle_curves:
        'toolkit' or 'opensim', toolkit.model.muscles); built once per set."""
        key = (curves, compliant)
        if key not in self._muscle_functions:
            build = self._muscles_compliant if compliant else self._muscles_rigid
            self._muscle_functions[key] = build(curves)
        return self._muscle_functions[key]

    def _muscles_rigid(self, curves: str) -> ca.Function:
        n = len(MUSCLE_NAMES)
        q, qd = ca.SX.sym("q", 3), ca.SX.sym("qdot", 3)
        a = ca.SX.sym("a", n)
        pm = ca.SX.sym("pm", self.n_muscle_params)
        scale = ca.SX.sym("scale")
        L, R = self.geometry.casadi_function()(q, scale)
        par = {f: pm[i * n:(i + 1) * n] for i, f in enumerate(PARAM_FIELDS)}
        v_mtu = -ca.mtimes(R, qd)
        F, act, pas, lm, vm, _ = rigid_tendon_force(
            a, L, v_mtu, par["max_force"], par["optimal_fiber_length"], par["tendon_slack_length"],
            par["pennation"], par["max_velocity"], par["passive_strain"], curves)
        moment = ca.mtimes(R.T, F)
        return ca.Function("muscles", [q, qd, a, pm, scale], [F, moment, lm, vm, act, pas, L, R],
                           ["q", "qdot", "a", "pm", "scale"],
                           ["force", "moment", "fiber_length", "fiber_velocity", "active", "passive",
                            "mtu_length", "moment_arm"])

    def _muscles_compliant(self, curves: str) -> ca.Function:
        """Compliant-tendon variant: muscles_compliant(q, qdot, a, ft, dft, pm, scale) -> force[9], moment[3],
        fibre length, fibre velocity, active, passive, mtu length, moment arms, equilibrium residual[9]."""
        n = len(MUSCLE_NAMES)
        q, qd = ca.SX.sym("q", 3), ca.SX.sym("qdot", 3)
        a, ft, dft = ca.SX.sym("a", n), ca.SX.sym("ft", n), ca.SX.sym("dft", n)
        pm = ca.SX.sym("pm", self.n_muscle_params)
        scale = ca.SX.sym("scale")
        L, R = self.geometry.casadi_function()(q, scale)
        par = {f: pm[i * n:(i + 1) * n] for i, f in enumerate(PARAM_FIELDS)}
        v_mtu = -ca.mtimes(R, qd)
        F, act, pas, lm, vm, _, eq = compliant_tendon_force(
            a, ft, dft, L, v_mtu, par["max_force"], par["optimal_fiber_length"], par["tendon_slack_length"],
            par["pennation"], par["max_velocity"], par["passive_strain"], curves)
        return ca.Function("muscles_compliant", [q, qd, a, ft, dft, pm, scale],
                           [F, ca.mtimes(R.T, F), lm, vm, act, pas, L, R, eq],
                           ["q", "qdot", "a", "ft", "dft", "pm", "scale"],
                           ["force", "moment", "fiber_length", "fiber_velocity", "active", "passive",
                            "mtu_length", "moment_arm", "equilibrium"])


@dataclass(frozen=True)
class Setup:
    """A rider on a bike: everything numeric that the casadi functions need, plus its description."""

    rider: Rider
    fit: BikeFit
    segments: LegSegments
    muscles: MuscleParameters
    saddle_height_m: float
    hip_xy: tuple[float, float]
    pelvis_tilt_rad: float
    leg_params: np.ndarray

    @property
    def muscle_params(self) -> np.ndarray:
        return self.muscles.as_vector()


class FitError(ValueError):
    """A bike fit that the leg cannot reach (saddle too high or low, crank too long)."""


def make_setup(model: LegModel, rider: Rider, fit: BikeFit) -> Setup:
    """Place the rider on the bike: apply the saddle rule and build the numeric parameter vectors."""
    fit = fit.with_defaults()
    seg = leg_segments(rider)
    mp = model_parameters()
    hip_above = mp["saddle"]["hip_above_saddle_frac_height"] * rider.height_m
    tilt = pelvis_tilt_rad(fit.trunk_angle_deg)

    def params(height: float) -> np.ndarray:
        return leg_parameter_vector(seg, hip_position(fit, height, hip_above), tilt, fit.crank_length_m,
                                    fit.cleat_offset_m)

    if fit.saddle_rule == "absolute":
        height = float(fit.saddle_height_m)
    elif fit.saddle_rule == "inseam_fraction":
        inseam = fit.inseam_m if fit.inseam_m is not None else mp["saddle"]["inseam_frac_height"] * rider.height_m
        height = fit.inseam_fraction * inseam
    else:
        height = saddle_height_for_knee_angle(model, params, math.radians(fit.knee_flexion_at_bdc_deg),
                                              math.radians(fit.ankle_at_bdc_deg))
    p = params(height)
    check_reach(model, p)
    return Setup(rider, fit, seg, muscle_parameters(rider, seg.geometry_scale), height,
                 hip_position(fit, height, hip_above), tilt, p)


def knee_angle_at(model: LegModel, p: np.ndarray, theta: float, ankle: float) -> float:
    """Knee flexion (rad) at crank angle theta with the ankle held at `ankle` (rad); nan if unreachable."""
    phi = float(model.fixed_ankle(theta, ankle, p)[0])
    return float(model.pose(theta, phi, p)[0][1])


def knee_angles(model: LegModel, p: np.ndarray, theta: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """knee_angle_at for paired arrays theta, ankle and parameter columns p (n_leg, M) or one vector: one
    mapped evaluation instead of M Python-level calls (each costs ~0.1 ms of call overhead)."""
    theta, ankle = np.atleast_1d(np.asarray(theta, float)), np.atleast_1d(np.asarray(ankle, float))
    M = len(theta)
    P = np.asarray(p, float)
    P = np.repeat(P[:, None], M, axis=1) if P.ndim == 1 else P
    phi = model.fixed_ankle.map(M)(theta[None, :], ankle[None, :], P)[0]
    return np.array(model.pose.map(M)(theta[None, :], phi, P)[0])[1]


def _brentq(f, xa: float, xb: float, xtol: float, rtol: float = 4 * np.finfo(float).eps, maxiter: int = 100) -> float:
    """Brent's root finder, step for step scipy.optimize.brentq (same iterates, same root), so that the saddle
    rule does not import scipy.optimize (a third of a second) into every solve."""
    xpre, xcur = xa, xb
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = f(xpre), f(xcur)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if math.copysign(1, fpre) == math.copysign(1, fcur):
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and math.copysign(1, fpre) != math.copysign(1, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)  # interpolate
            else:
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))  # extrapolate
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = f(xcur)
    return xcur


def saddle_height_for_knee_angle(model: LegModel, params, knee_bdc: float, ankle_bdc: float) -> float:
    """Saddle height (m) at which the knee flexion at BDC equals knee_bdc with the ankle at ankle_bdc.

    Knee flexion at BDC falls monotonically with saddle height; bracket on a grid, then Brent's method.
    """
    def g(h: float) -> float:
        return knee_angle_at(model, params(h), math.pi, ankle_bdc) - knee_bdc

    lo, hi = 0.3, 1.3
    hs = np.linspace(lo, hi, 101)
    vals = knee_angles(model, np.column_stack([params(h) for h in hs]), np.full(len(hs), math.pi),
                       np.full(len(hs), ankle_bdc)) - knee_bdc
    ok = np.isfinite(vals)
    idx = np.where(ok[:-1] & ok[1:] & (np.sign(vals[:-1]) != np.sign(vals[1:])))[0]
    if len(idx) == 0:
        raise FitError(f"fit.knee_flexion_at_bdc_deg: {math.degrees(knee_bdc):.1f} deg cannot be reached "
                       "at any saddle height (allowed: an angle the leg reaches at BDC, typically 20-45 deg)")
    i = idx[-1]
    return float(_brentq(g, hs[i], hs[i + 1], xtol=1e-10))


def check_reach(model: LegModel, p: np.ndarray, n: int = 72) -> None:
    """Raise FitError if, with the ankle anywhere in its range, the leg cannot reach the pedal somewhere on
    the cycle (the distance hip-pedal exceeds the leg, or the knee would pass its range)."""
    lim = joint_ranges_rad()
    ths = np.linspace(0, 2 * np.pi, n, endpoint=False)
    anks = np.linspace(lim[2, 0], lim[2, 1], 15)
    knees = knee_angles(model, p, np.repeat(ths, len(anks)), np.tile(anks, n)).reshape(n, len(anks))
    worst = []
    for th, row in zip(ths, knees):
        row = row[np.isfinite(row)]
        if not len(row) or row.max() < lim[1, 0] or row.min() > lim[1, 1]:
            worst.append(math.degrees(th))
    if worst:
        raise FitError(f"fit: the leg cannot reach the pedal at crank angles {worst[0]:.0f}-{worst[-1]:.0f} deg "
                       "with any ankle angle in range (allowed: a saddle height/setback the leg can reach)")
