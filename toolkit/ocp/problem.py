"""What to solve: the specification of one pedaling optimal-control problem (no casadi here)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model.energetics import DEFAULT_MODEL as DEFAULT_METABOLIC_MODEL
from ..model.energetics import MODELS as METABOLIC_MODELS
from ..model.muscles import MUSCLE_NAMES
from .conditions import CONDITIONS, FREE_SOLE_CONDITIONS, condition_for  # noqa: F401  (re-exported)
from ..model.ranges import ACTIVATION_EXPONENTS, COST, PROBLEM, SOLVER, num_text
from .heel_drop import HEEL_DROP_MODES

COST_KINDS = ("activation", "stress", "metabolic")
LOADS = ("isokinetic", "inertial")
TENDONS = ("rigid", "compliant")


@dataclass(frozen=True)
class CostSpec:
    """Cost = mean over the cycle of sum_i w_i * v_i * a_i**exponent (kind 'activation') or
    sum_i w_i * v_i * (F_i / F_max,i)**2 (kind 'stress': muscle stress / specific tension), with v_i the
    muscle volume over the mean volume when volume_weighted, else 1, plus regularization:
    excitation_rate_weight * [mean (e - a)^2 + 30 x mean squared excitation change between neighbouring nodes
    (damps the trapezoidal rule's node-to-node sawtooth)] and sole_accel_weight * mean (d2 phi / d theta2)^2.

    kind 'metabolic': the effort term is sum_i w_i Edot_i / body mass (W/kg; one leg's muscle metabolic power
    by metabolic_model, per kg of body mass, so the cost does not grow with rider size; basal is constant and left
    out). Mixed cost: with kind 'activation' or 'stress' and metabolic_weight > 0, the effort is
    effort + metabolic_weight * sum_i w_i Edot_i / body mass. metabolic_model ('umberger2003', 'umberger2010',
    'uchida2016', 'bhargava2004'; toolkit.model.energetics) is also the model that metabolic_summary reports."""

    kind: str = "activation"
    # Cubed activation by default: steady pedaling is an endurance task, and the sum of cubed muscle stress or
    # activation is the criterion that maximizes endurance time (Crowninshield RD, Brand RA (1981) J Biomech
    # 14:793-801); it spreads load over synergists instead of loading the strongest unit (see check-model for
    # the sensitivity of the results to this choice).
    exponent: int = 3
    volume_weighted: bool = False
    weights: dict[str, float] = field(default_factory=dict)
    excitation_rate_weight: float = 1e-3
    sole_accel_weight: float = 1e-4
    metabolic_model: str = DEFAULT_METABOLIC_MODEL
    metabolic_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in COST_KINDS:
            raise ValueError(f"cost.kind: {self.kind!r} (allowed: {', '.join(COST_KINDS)})")
        if self.metabolic_model not in METABOLIC_MODELS:
            raise ValueError(f"cost.metabolic_model: {self.metabolic_model!r} (allowed: {', '.join(METABOLIC_MODELS)})")
        COST["metabolic_weight"].check("cost.metabolic_weight", self.metabolic_weight)
        if self.exponent not in ACTIVATION_EXPONENTS:
            raise ValueError(f"cost.exponent: {self.exponent} (allowed: {', '.join(map(str, ACTIVATION_EXPONENTS))})")
        bad = set(self.weights) - set(MUSCLE_NAMES)
        if bad:
            raise ValueError(f"cost.weights: unknown muscles {sorted(bad)} (allowed: {', '.join(MUSCLE_NAMES)})")
        for name, w in self.weights.items():
            COST["weights"].check(f"cost.weights.{name}", w)

    @property
    def metabolic_in_cost(self) -> bool:
        """True when the NLP contains the metabolic-rate expressions (kind 'metabolic' or a mixed cost)."""
        return self.kind == "metabolic" or self.metabolic_weight > 0

    def weight_vector(self) -> list[float]:
        return [float(self.weights.get(n, 1.0)) for n in MUSCLE_NAMES]


@dataclass(frozen=True)
class SolverSpec:
    """Mesh and IPOPT settings. nodes: collocation intervals over one crank cycle (trapezoidal, periodic)."""

    nodes: int = 40
    tol: float = 1e-7
    constr_viol_tol: float = 1e-8
    max_iter: int = 500
    max_cpu_time_s: float = 120.0
    print_level: int = 0
    multistart: int = 1

    def __post_init__(self) -> None:
        SOLVER["nodes"].check("solver.nodes", self.nodes, "an even number " + SOLVER["nodes"].text())
        if self.nodes % 2:
            raise ValueError(f"solver.nodes: {self.nodes} (allowed: an even number {SOLVER['nodes'].text()})")
        SOLVER["multistart"].check("solver.multistart", self.multistart)


@dataclass(frozen=True)
class ProblemSpec:
    """One steady pedaling cycle at a cadence and work rate under an ankle condition.

    condition: 'free' (ankle within its range), 'fixed' (ankle held at fixed_ankle_deg by an orthosis; default -15 deg, the
    typical BDC angle that the saddle rule assumes, so the stiff leg still reaches the pedal),
    'heel_drop' (the heel held lower by heel_drop_deg, see toolkit/ocp/heel_drop.py: heel_drop_mode 'relative'
    (default: below the rider's own free-ankle sole angle over heel_drop_window_deg, default the downstroke and
    across the bottom, 20-200 deg, with half-cosine ramps of heel_drop_ramp_deg on each side), 'shift' (the whole
    free profile lowered, Cannon et al. 2007's dorsiflexed technique) or 'absolute' (sole angle <= -heel_drop_deg
    to the horizontal at crank angles inside the window); heel_drop_reference_deg holds the free profile as
    (crank_angle_deg, sole_angle_deg) samples and is filled by the solver when empty), 'prescribed'
    (sole angle follows prescribed_sole_deg, a list of (crank_angle_deg, sole_angle_deg) samples over 0-360).
    load: 'isokinetic' (default; the crank turns at constant speed, as on an ergometer in isokinetic mode) or
    'inertial' (the crank drives an equivalent inertia flywheel_inertia_kgm2 against a constant resistance
    torque; cadence is then the mean over the cycle). The default 90 kg m^2 is road riding: rider + bike
    80 kg at wheel radius 0.34 m and gear 53/17, I = m (r G)^2 (Fregly, Zajac & Dairaghi 2000 derive the same
    equivalence).
    tendon: 'rigid' (default) or 'compliant' (De Groote 2016 implicit tendon-force states).
    power_W is the mean crank power of both legs. An absolute drop near TDC is often impossible (the shank leans
    back and a dropped heel needs more dorsiflexion than the ankle has); the feasibility check reports the
    largest feasible drop before solving.
    """

    condition: str = "free"
    power_W: float = 200.0
    cadence_rpm: float = 90.0
    fixed_ankle_deg: float = -15.0
    heel_drop_deg: float = 10.0
    heel_drop_mode: str = "relative"
    heel_drop_window_deg: tuple[float, float] = (20.0, 200.0)
    heel_drop_ramp_deg: float = 20.0
    heel_drop_reference_deg: tuple[tuple[float, float], ...] = ()
    prescribed_sole_deg: tuple[tuple[float, float], ...] = ()
    # Constrained ankle between free and fixed (toolkit/ocp/conditions.py; moments in transcription.py): 'range_limited' keeps the ankle
    # within ankle_range_deg by stiff stops (an orthosis with mechanical stops: a moment of stiffness
    # ankle_stop_stiffness_Nm_per_rad outside the range, none inside), or, when ankle_range_width_deg is set,
    # within that width centred on the same rider's free-ankle mean angle (solved first, then stored in
    # ankle_range_deg); 'braced' adds an
    # orthosis moment -k (q - q0) - c qdot at the ankle (k brace_stiffness_Nm_per_rad, q0 brace_neutral_deg,
    # c brace_damping_Nms_per_rad), reported as an external (non-muscle) moment with its power and work.
    ankle_range_deg: tuple[float, float] = (-40.0, 30.0)
    ankle_range_width_deg: float | None = None
    ankle_range_reference_deg: float | None = None  # the free-ankle mean angle the width was centred on
    brace_stiffness_Nm_per_rad: float = 0.0
    brace_neutral_deg: float = -15.0
    brace_damping_Nms_per_rad: float = 0.0
    # 1e5 N m/rad: a 50 N m ankle moment deflects the stop by 0.03 deg (a rigid stop; toolkit choice).
    ankle_stop_stiffness_Nm_per_rad: float = 1e5
    load: str = "isokinetic"
    flywheel_inertia_kgm2: float = 90.0
    tendon: str = "rigid"
    # Lower bound of excitation and activation (a numerical floor that keeps the activation dynamics
    # well-conditioned; it also sets a minimum passive-plus-tonic force in every muscle, see check-model).
    activation_floor: float = 0.01
    cost: CostSpec = field(default_factory=CostSpec)
    solver: SolverSpec = field(default_factory=SolverSpec)

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            raise ValueError(f"condition: {self.condition!r} (allowed: {', '.join(CONDITIONS)})")
        PROBLEM["activation_floor"].check("activation_floor", self.activation_floor)
        if self.tendon not in TENDONS:
            raise ValueError(f"tendon: {self.tendon!r} (allowed: {', '.join(TENDONS)})")
        if self.load not in LOADS:
            raise ValueError(f"load: {self.load!r} (allowed: {', '.join(LOADS)})")
        for key in ("flywheel_inertia_kgm2", "power_W", "cadence_rpm", "fixed_ankle_deg", "heel_drop_deg",
                    "heel_drop_ramp_deg", "ankle_range_width_deg", "brace_stiffness_Nm_per_rad",
                    "ankle_stop_stiffness_Nm_per_rad", "brace_neutral_deg", "brace_damping_Nms_per_rad"):
            PROBLEM[key].check(key, getattr(self, key))
        lo, hi = self.heel_drop_window_deg
        win = PROBLEM["heel_drop_window_deg"]
        if not (win.contains(lo) and win.contains(hi) and lo < hi):
            raise ValueError(f"heel_drop_window_deg: {self.heel_drop_window_deg} (allowed: "
                             f"{num_text(win.lo)} <= start < end <= {num_text(win.hi)})")
        if self.heel_drop_mode not in HEEL_DROP_MODES:
            raise ValueError(f"heel_drop_mode: {self.heel_drop_mode!r} (allowed: {', '.join(HEEL_DROP_MODES)})")
        lo, hi = self.ankle_range_deg
        rng = PROBLEM["ankle_range_deg"]
        if not (rng.contains(lo) and rng.contains(hi) and lo <= hi):
            raise ValueError(f"ankle_range_deg: {self.ankle_range_deg} (allowed: {num_text(rng.lo)} <= low <= high "
                             f"<= {num_text(rng.hi)} deg, inside the anatomical range)")
        condition_for(self).validate(self)

    @property
    def omega(self) -> float:
        """Crank angular velocity (rad/s)."""
        import math
        return self.cadence_rpm * 2 * math.pi / 60.0

    @property
    def driven(self) -> bool:
        """True when the sole angle is a known function of the crank angle (fixed, prescribed)."""
        return condition_for(self).driven
