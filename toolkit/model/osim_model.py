"""The toolkit's leg-crank model as plain numbers for an OpenSim 4.x model file (no opensim import here).

`osim_model_spec(setup)` collects everything an .osim file needs, in OpenSim's frames and units, so that the
writer (toolkit.io.osim) only formats text. Frames (right-side view; ground = the toolkit's global frame: origin at
the bottom bracket, x forward, y up, z to the rider's right):

- pelvis: welded to ground at the hip joint centre, rotated by -(anterior tilt) about z (as the source model,
  Park et al. 2022), so its -y axis is the thigh direction at zero hip flexion;
- femur_r: origin at the hip centre, -y from hip to knee; hip_r is a PinJoint about z, coordinate hip_flexion_r
  (flexion +: the femur rotates +z);
- tibia_r: origin at the knee centre, -y from knee to ankle; knee_r is a PinJoint whose two joint frames are
  turned by pi about x, so knee_angle_r (flexion +) rotates the tibia -z relative to the femur;
- foot_r: origin at the ankle centre, x along the sole toward the toes, y normal to the sole; ankle_r is a
  PinJoint about z, ankle_angle_r (dorsiflexion +) rotates the foot +z, and the sole is perpendicular to the
  shank at 0;
- crank: PinJoint ground -> crank at the bottom bracket, joint frames turned by pi about x so that
  crank_angle (0 = top dead centre, pedaling direction +) turns the crank clockwise in this view; the pedal
  spindle is (0, crank length, 0) in the crank frame;
- pedal closure: PointOnLineConstraint: the cleat point of the foot lies on the pedal spindle axis (the z line
  through the spindle), two constraint equations, no redundancy in the planar model.

Muscle-tendon lengths: the toolkit's polynomials in centred angles, times the geometry scale, expanded exactly
(rational arithmetic, one rounding per coefficient) into monomials of the raw coordinates, in the coefficient
order of OpenSim's MultivariatePolynomialFunction (ascending powers, last coordinate fastest, total degree <=
order). Passive joint moments: the toolkit's expression itself (ExpressionBasedCoordinateForce), so exact.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from .geometry import JOINT_NAMES, MuscleGeometry, load_geometry
from .kinematics import P
from .leg import Setup, joint_ranges_rad
from .muscles import MUSCLE_NAMES, curve_set
from .parameters import model_parameters

#: OpenSim coordinate names of the toolkit's joints (hip, knee, ankle) and of the crank.
COORDINATE_NAMES: tuple[str, ...] = ("hip_flexion_r", "knee_angle_r", "ankle_angle_r")
CRANK_COORDINATE = "crank_angle"
#: Joint names of the .osim file, for the coordinate paths /jointset/<joint>/<coordinate>.
JOINT_OF_COORDINATE: dict[str, str] = {"hip_flexion_r": "hip_r", "knee_angle_r": "knee_r",
                                       "ankle_angle_r": "ankle_r", CRANK_COORDINATE: "crank_bb"}
#: The brake (ergometer load) actuator on the crank, used by the Moco problem; its control times this force is
#: the load torque on the crank (N m).
CRANK_LOAD_NAME = "crank_load"
CRANK_LOAD_OPTIMAL_FORCE = 100.0
#: The ankle orthosis that the Moco script adds for a fixed ankle (a CoordinateActuator on ankle_angle_r).
ORTHOSIS_NAME = "ankle_orthosis"
ORTHOSIS_OPTIMAL_FORCE = 100.0
#: Crank mass (kg): a point at the bottom bracket, so it only adds reaction forces (the source model's crank is 1 kg).
CRANK_MASS_KG = 1.0
#: Pelvis mass (kg): welded to ground, so it does not enter the motion; nonzero to avoid a massless body.
PELVIS_MASS_KG = 1.0


def coordinate_path(coordinate: str) -> str:
    """OpenSim component path of a coordinate of the exported model, e.g. /jointset/hip_r/hip_flexion_r."""
    return f"/jointset/{JOINT_OF_COORDINATE[coordinate]}/{coordinate}"


def muscle_osim_name(muscle: str) -> str:
    """Name of a toolkit muscle unit in the exported model (right leg): GMAX -> GMAX_r."""
    return f"{muscle}_r"


def opensim_monomials(dimension: int, order: int) -> list[tuple[int, ...]]:
    """Exponent tuples in the coefficient order of OpenSim's MultivariatePolynomialFunction: every tuple of
    non-negative exponents with total degree <= order, lexicographic with the last coordinate fastest, e.g.
    dimension 2, order 2: (0,0) (0,1) (0,2) (1,0) (1,1) (2,0)."""
    out: list[tuple[int, ...]] = []

    def rec(prefix: tuple[int, ...], left: int) -> None:
        if len(prefix) == dimension:
            out.append(prefix)
            return
        for p in range(left + 1):
            rec(prefix + (p,), left - p)

    rec((), order)
    return out


def expand_centred_polynomial(centres: Sequence[float], exponents: Sequence[Sequence[int]],
                              coefficients: Sequence[float], scale: float = 1.0) -> dict[tuple[int, ...], float]:
    """Monomial coefficients of scale * sum_k c_k prod_j (x_j - centre_j)^e_kj in the raw variables x.

    Exact: every input float is taken as the rational it represents, the binomial expansion is done in rational
    arithmetic and each output coefficient is rounded once to the nearest float."""
    acc: dict[tuple[int, ...], Fraction] = {}
    cs = [Fraction(float(c)) for c in centres]
    s = Fraction(float(scale))
    for exps, coef in zip(exponents, coefficients):
        # prod_j sum_{k_j} C(e_j, k_j) x_j^k_j (-c_j)^(e_j - k_j)
        per_dim = [[(k, Fraction(math.comb(e, k)) * (-cj) ** (e - k)) for k in range(e + 1)]
                   for e, cj in zip(exps, cs)]
        for combo in itertools.product(*per_dim):
            key = tuple(k for k, _ in combo)
            term = s * Fraction(float(coef))
            for _, f in combo:
                term *= f
            acc[key] = acc.get(key, Fraction(0)) + term
    return {k: float(v) for k, v in acc.items()}


@dataclass(frozen=True)
class OsimPolynomial:
    """A MultivariatePolynomialFunction: the coordinates it takes (in order), its order and its coefficients in
    OpenSim's order (opensim_monomials)."""

    coordinates: tuple[str, ...]
    order: int
    coefficients: tuple[float, ...]

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """Value at raw coordinate values x (shape (dimension,) or (N, dimension)), in numpy."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        out = np.zeros(x.shape[0])
        for e, c in zip(opensim_monomials(len(self.coordinates), self.order), self.coefficients):
            out += c * np.prod(x ** np.asarray(e), axis=1)
        return out


def muscle_polynomial(geometry: MuscleGeometry, muscle: str, scale: float) -> OsimPolynomial:
    """The muscle's MTU length (m) as an OpenSim polynomial in the raw coordinates of the joints it crosses."""
    i = geometry.index(muscle)
    joints = geometry.joints[i]
    mono = expand_centred_polynomial(geometry.centers_rad[i], geometry.exponents[i], geometry.coefficients[i], scale)
    order = max(sum(e) for e in geometry.exponents[i])
    coefs = tuple(mono.get(e, 0.0) for e in opensim_monomials(len(joints), order))
    return OsimPolynomial(tuple(COORDINATE_NAMES[JOINT_NAMES.index(j)] for j in joints), order, coefs)


@dataclass(frozen=True)
class OsimBody:
    """A rigid body: mass (kg), COM in the body frame (m), inertia about the COM (Ixx, Iyy, Izz; kg m^2)."""

    name: str
    mass: float
    com: tuple[float, float, float]
    inertia: tuple[float, float, float]


@dataclass(frozen=True)
class OsimPinJoint:
    """A pin joint about the joint frames' common z axis; parent/child locations in their body frames (m),
    orientations as body-fixed x-y-z angles (rad); range and default value of its coordinate (rad)."""

    name: str
    parent: str
    child: str
    coordinate: str
    parent_location: tuple[float, float, float]
    parent_orientation: tuple[float, float, float]
    child_location: tuple[float, float, float]
    child_orientation: tuple[float, float, float]
    range: tuple[float, float]
    default_value: float = 0.0


@dataclass(frozen=True)
class OsimMuscle:
    """A DeGrooteFregly2016Muscle with a function-based path (SI units, OpenSim's parameter names)."""

    name: str
    path: OsimPolynomial
    max_isometric_force: float
    optimal_fiber_length: float
    tendon_slack_length: float
    pennation_angle_at_optimal: float
    max_contraction_velocity: float
    passive_fiber_strain_at_one_norm_force: float
    tendon_strain_at_one_norm_force: float
    activation_time_constant: float
    deactivation_time_constant: float
    min_control: float
    default_activation: float


@dataclass(frozen=True)
class OsimPassiveMoment:
    """An ExpressionBasedCoordinateForce: a generalized force (N m) on one coordinate, in q (rad) and qdot (rad/s)."""

    name: str
    coordinate: str
    expression: str


@dataclass(frozen=True)
class OsimModelSpec:
    """Everything the .osim writer needs. pelvis_location/pelvis_orientation: the weld of the pelvis in ground
    (hip centre; rotation about z = -anterior tilt). cleat_point: the cleat point in the foot frame; spindle_point:
    the pedal spindle in the crank frame."""

    name: str
    gravity: tuple[float, float, float]
    pelvis_location: tuple[float, float, float]
    pelvis_orientation: tuple[float, float, float]
    bodies: tuple[OsimBody, ...]
    joints: tuple[OsimPinJoint, ...]
    muscles: tuple[OsimMuscle, ...]
    passive: tuple[OsimPassiveMoment, ...]
    cleat_point: tuple[float, float, float]
    spindle_point: tuple[float, float, float]
    crank_load_optimal_force: float
    credits: str
    notes: str


def passive_moment_expression(lower: float, upper: float) -> str:
    """The toolkit's passive joint moment k (exp(-s (q - lower)) - exp(s (q - upper))) - c qdot as a Lepton
    expression (no whitespace), with the coefficients of data/model_parameters.toml written to full precision."""
    pj = model_parameters()["passive_joint_moment"]
    k, s, c = (repr(float(pj[n])) for n in ("moment_at_limit_Nm", "stiffness_per_rad", "damping_Nms_per_rad"))
    return (f"{k}*(exp(-{s}*(q-({repr(float(lower))})))-exp({s}*(q-({repr(float(upper))}))))"
            f"-{c}*qdot")


def _body_inertia(izz: float) -> tuple[float, float, float]:
    # Planar model: only Izz enters the motion (rotation about z, principal axes along the body axes); Ixx = Iyy =
    # Izz keeps the tensor physically valid (triangle inequalities).
    return (izz, izz, izz)


def osim_model_spec(setup: Setup, geometry: MuscleGeometry | None = None, activation_floor: float = 0.01,
                    name: str = "pedaling_toolkit_leg") -> OsimModelSpec:
    """The toolkit's right leg on the crank for one rider and fit, in OpenSim terms (see the module docstring).

    activation_floor becomes every muscle's min_control (the toolkit bounds excitations and activations below by
    the problem's activation floor)."""
    geometry = geometry or load_geometry()
    pp = P(setup.leg_params)
    f = lambda v: float(v)  # noqa: E731
    scale = f(pp.geometry_scale)
    lt, ls, c = f(pp.thigh_length), f(pp.shank_length), f(pp.crank_length)
    bodies = (
        # Welded to ground: its mass has no effect on the motion (1 kg, unit inertia, avoids a massless body).
        OsimBody("pelvis", PELVIS_MASS_KG, (0.0, 0.0, 0.0), (0.01, 0.01, 0.01)),
        OsimBody("femur_r", f(pp.thigh_mass), (0.0, -f(pp.thigh_com), 0.0), _body_inertia(f(pp.thigh_inertia))),
        OsimBody("tibia_r", f(pp.shank_mass), (0.0, -f(pp.shank_com), 0.0), _body_inertia(f(pp.shank_inertia))),
        OsimBody("foot_r", f(pp.foot_mass), (f(pp.foot_com_x), f(pp.foot_com_y), 0.0), _body_inertia(f(pp.foot_inertia))),
        OsimBody("crank", CRANK_MASS_KG, (0.0, 0.0, 0.0), _body_inertia(f(pp.crank_inertia))),
    )
    lim = joint_ranges_rad()
    flip = (math.pi, 0.0, 0.0)
    zero = (0.0, 0.0, 0.0)
    joints = (
        OsimPinJoint("hip_r", "pelvis", "femur_r", "hip_flexion_r", zero, zero, zero, zero,
                     (float(lim[0, 0]), float(lim[0, 1])), math.radians(60.0)),
        OsimPinJoint("knee_r", "femur_r", "tibia_r", "knee_angle_r", (0.0, -lt, 0.0), flip, zero, flip,
                     (float(lim[1, 0]), float(lim[1, 1])), math.radians(70.0)),
        OsimPinJoint("ankle_r", "tibia_r", "foot_r", "ankle_angle_r", (0.0, -ls, 0.0), zero, zero, zero,
                     (float(lim[2, 0]), float(lim[2, 1])), 0.0),
        OsimPinJoint("crank_bb", "ground", "crank", CRANK_COORDINATE, zero, flip, zero, flip,
                     (-4 * math.pi, 4 * math.pi), 0.0),
    )
    m = setup.muscles
    muscles = []
    for i, name_ in enumerate(MUSCLE_NAMES):
        muscles.append(OsimMuscle(
            name=muscle_osim_name(name_), path=muscle_polynomial(geometry, name_, scale),
            max_isometric_force=f(m.max_force[i]), optimal_fiber_length=f(m.optimal_fiber_length[i]),
            tendon_slack_length=f(m.tendon_slack_length[i]), pennation_angle_at_optimal=f(m.pennation[i]),
            max_contraction_velocity=f(m.max_velocity[i]),
            passive_fiber_strain_at_one_norm_force=f(m.passive_strain[i]),
            tendon_strain_at_one_norm_force=float(curve_set("opensim")["tendon"]["strain_at_one"]),
            activation_time_constant=f(m.tau_act[i]), deactivation_time_constant=f(m.tau_deact[i]),
            min_control=float(activation_floor), default_activation=max(0.05, float(activation_floor))))
    passive = tuple(OsimPassiveMoment(f"passive_{JOINT_OF_COORDINATE[COORDINATE_NAMES[j]]}", COORDINATE_NAMES[j],
                                      passive_moment_expression(lim[j, 0], lim[j, 1])) for j in range(3))
    r = setup.rider
    credits = ("Written by pedaling-toolkit (python -m toolkit model --osim): the toolkit's planar leg-crank model. "
               f"Rider {r.name!r}: {r.height_m:g} m, {r.mass_kg:g} kg, {r.sex}, force set {r.max_force_set}; "
               f"saddle height {setup.saddle_height_m:.4f} m, crank {c:.4f} m, pelvis tilt "
               f"{math.degrees(setup.pelvis_tilt_rad):.2f} deg. Segments: de Leva (1996) scaled; muscle parameters "
               "and MTU length polynomials fitted to Park, Caldwell & Umberger (2022) Pedaling_Model.osim.")
    if r.muscle_curves == "opensim":
        curves = ("the toolkit used these same curves (rider.muscle_curves = 'opensim'); only its smooth clamp of a "
                  "slack fibre differs (docs/opensim.md).")
    else:
        curves = "OpenSim's curve constants and passive fibre curve differ from the toolkit's (docs/opensim.md)."
    notes = ("Right leg only: in isokinetic pedaling the left leg does the same half a cycle later and does not "
             "interact, so one leg delivers half the mean crank power. Muscles: DeGrooteFregly2016Muscle, rigid "
             "tendon; " + curves)
    return OsimModelSpec(
        name=name, gravity=(0.0, -f(pp.gravity), 0.0),
        pelvis_location=(f(pp.hip_x), f(pp.hip_y), 0.0), pelvis_orientation=(0.0, 0.0, -f(pp.pelvis_tilt)),
        bodies=bodies, joints=joints, muscles=tuple(muscles), passive=passive,
        cleat_point=(f(pp.cleat_x), f(pp.cleat_y), 0.0), spindle_point=(0.0, c, 0.0),
        crank_load_optimal_force=CRANK_LOAD_OPTIMAL_FORCE, credits=credits, notes=notes)
