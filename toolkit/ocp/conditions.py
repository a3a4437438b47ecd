"""Ankle conditions: one small class each, and the one table of numeric variable bounds.

A condition decides, for its ProblemSpec:
  - the transcription mode: 'free' (the sole angle is a decision variable) or a driven sole angle, 'fixed' (the
    ankle held at an angle) or 'prescribed' (a sole-angle profile over the crank angle);
  - the sole-angle variable bounds (the heel-drop bound, toolkit/ocp/heel_drop.py) and the joint-range
    constraint bounds;
  - the NLP parameters it owns: the fixed ankle angle, the prescribed profile's Fourier coefficients and the
    ankle device (brace spring and damper, range stops);
  - whether it is defined relative to the rider's own free-ankle solution, and how to resolve it against that;
  - its stiffness continuation, its initial-guess adjustment and its geometric feasibility check.

`condition_for(spec)` returns the object; every other module asks it instead of comparing condition names.
CONDITIONS is the registry's names in definition order, so a condition cannot be named without its class.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import ClassVar

import numpy as np

from ..model.leg import joint_ranges_rad
from .bounds import BOUNDS, Bounds  # noqa: F401 (re-exported)
from .fourier import fourier_eval, fourier_fit
from .heel_drop import sole_upper_bound
from .scan import SCAN_STEP_DEG, Feasibility, _binding_limits, _in_range, _poses, largest_heel_drop_deg

SOLE_MODES = ("free", "fixed", "prescribed")  # transcription modes (the sole angle's role in the NLP)
CONTINUATION_START_NMRAD = 1e3  # softest device stiffness of a continuation (N m/rad)

_REGISTRY: dict[str, type["AnkleCondition"]] = {}


class AnkleCondition:
    """One ankle condition. Subclasses set `name`, `mode` and `description` (checked at class creation, so a
    condition without them cannot exist) and override only what differs from the free ankle."""

    name: ClassVar[str] = ""
    mode: ClassVar[str] = "free"
    description: ClassVar[str] = ""

    def __init_subclass__(cls, register: bool = True, **kw) -> None:
        super().__init_subclass__(**kw)
        if not register:  # an intermediate base class shared by several conditions
            return
        if not cls.name or not cls.description.strip():
            raise TypeError(f"{cls.__name__}: an ankle condition needs a name and a description")
        if cls.mode not in SOLE_MODES:
            raise TypeError(f"{cls.__name__}: mode {cls.mode!r} (allowed: {', '.join(SOLE_MODES)})")
        if cls.name in _REGISTRY:
            raise TypeError(f"{cls.__name__}: condition {cls.name!r} is already defined by "
                            f"{_REGISTRY[cls.name].__name__}")
        _REGISTRY[cls.name] = cls

    @property
    def driven(self) -> bool:
        """True when the sole angle is a known function of the crank angle (no sole-angle variables)."""
        return self.mode != "free"

    def validate(self, spec: ProblemSpec) -> None:
        """Raise ValueError for a spec this condition cannot solve (called by ProblemSpec after its own checks)."""

    # --- bounds --------------------------------------------------------------------------------------------
    def sole_upper_bound(self, theta: np.ndarray, spec: ProblemSpec) -> np.ndarray | None:
        """Condition-specific upper bound of the sole angle (rad) at the crank angles (inf where none); None when
        the condition has no such bound."""
        return None

    def sole_bounds(self, theta: np.ndarray, spec: ProblemSpec) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Bounds of the sole-angle variables at the nodes (free mode only): 'phi', 'dphi' (states), 'ddphi'
        (control), each (lower, upper)."""
        n = len(theta)
        lo, hi = (np.full(n, v) for v in BOUNDS.sole_angle_rad)
        ub = self.sole_upper_bound(theta, spec)
        if ub is not None:
            hi = np.minimum(hi, ub)
        return {"phi": (lo, hi), "dphi": tuple(np.full(n, v) for v in BOUNDS.sole_rate),
                "ddphi": tuple(np.full(n, v) for v in BOUNDS.sole_accel)}

    def joint_ranges_rad(self, spec: ProblemSpec) -> np.ndarray:
        """Bounds (3x2, rad) of the joint-range constraints. The anatomical ranges for every condition today: a
        range-limited ankle is held by its device's stops, which are moments, not bounds."""
        return joint_ranges_rad()

    # --- parameters ----------------------------------------------------------------------------------------
    def sole_profile_coefficients(self, spec: ProblemSpec) -> np.ndarray | float:
        """Fourier coefficients of a prescribed sole-angle profile (0 = unused)."""
        return 0.0

    def device_parameters(self, spec: ProblemSpec) -> list[float]:
        """[k_brace, q0, c, k_stop, lo, hi] (SI) of the ankle device moments of the node function (zero = none)."""
        return [0.0] * 6

    def parameters(self, spec: ProblemSpec) -> dict[str, object]:
        """The NLP parameter slices this condition owns (ParLayout names). The fixed ankle angle is packed for
        every condition (unused unless driven by it), so the parameter vector does not depend on the condition."""
        return {"fixed_ankle": math.radians(spec.fixed_ankle_deg),
                "fourier": self.sole_profile_coefficients(spec),
                "ankle_device": self.device_parameters(spec)}

    # --- the free-ankle reference and continuation ------------------------------------------------------------
    def needs_reference(self, spec: ProblemSpec) -> bool:
        """True when the spec is defined relative to the rider's own free-ankle solution and not resolved yet."""
        return False

    def with_reference(self, spec: ProblemSpec, free: Solution) -> ProblemSpec:
        """The spec resolved against the free-ankle solution of the same rider, fit, power, cadence and cost."""
        return spec

    def continuation_key(self, spec: ProblemSpec) -> str | None:
        """The spec field of a device stiffness stiff enough to be approached by continuation (None: not needed)."""
        return None

    # --- initial guess -------------------------------------------------------------------------------------
    def guess_ankle_deg(self, spec: ProblemSpec, ankle_deg: float) -> float:
        """The ankle angle (deg) the kinematic guess holds (the fit's typical BDC angle plus a start's offset)."""
        return ankle_deg

    def guess_sole(self, theta: np.ndarray, phi: np.ndarray, spec: ProblemSpec, margin: float = 0.0
                   ) -> np.ndarray:
        """A guessed sole angle (rad) moved inside the condition's bound, `margin` below it."""
        ub = self.sole_upper_bound(theta, spec)
        return phi if ub is None else np.minimum(phi, ub - margin)

    # --- geometric feasibility -----------------------------------------------------------------------------
    def check(self, tr: Transcription, setup: Setup, spec: ProblemSpec) -> Feasibility:
        """Is the request geometrically possible for this rider and fit? (Explains itself when not.)"""
        return Feasibility(True)


class Free(AnkleCondition):
    name = "free"
    description = "ankle within its anatomical range"


class _Driven(AnkleCondition, register=False):
    """A sole angle given as a function of the crank angle: feasible when every joint stays in range."""

    def sole_angles(self, tr: Transcription, setup: Setup, spec: ProblemSpec) -> np.ndarray:
        """The driven sole angle (rad) at the mesh nodes."""
        raise NotImplementedError

    def check(self, tr: Transcription, setup: Setup, spec: ProblemSpec) -> Feasibility:
        lim, names = joint_ranges_rad(), ("hip", "knee", "ankle")
        q = _poses(tr.model, tr.theta, self.sole_angles(tr, setup, spec), setup.leg_params)
        bad = ~_in_range(q, lim)
        if bad.any():
            k = int(np.argmax(bad))
            what = "the pedal is out of reach" if not np.all(np.isfinite(q[:, k])) else ", ".join(
                f"{names[j]} {math.degrees(q[j, k]):.0f} deg" for j in range(3)
                if not (lim[j, 0] <= q[j, k] <= lim[j, 1]))
            return Feasibility(False, f"{self.name} ankle: at crank angle {math.degrees(tr.theta[k]):.0f} deg "
                                      f"{what} (joint ranges: hip/knee/ankle {np.degrees(lim).round().tolist()} deg)")
        return Feasibility(True)


class Fixed(_Driven):
    name = "fixed"
    mode = "fixed"
    description = "ankle immobilized at fixed_ankle_deg (an orthosis; the recumbent-study condition)"

    def sole_angles(self, tr: Transcription, setup: Setup, spec: ProblemSpec) -> np.ndarray:
        q = math.radians(spec.fixed_ankle_deg)
        return np.array([float(tr.model.fixed_ankle(t, q, setup.leg_params)[0]) for t in tr.theta])


class HeelDrop(AnkleCondition):
    name = "heel_drop"
    description = ("heel held lower by heel_drop_deg: below the rider's free pattern over a window (relative), "
                   "the whole free pattern lowered (shift) or below the horizontal (absolute)")

    def sole_upper_bound(self, theta: np.ndarray, spec: ProblemSpec) -> np.ndarray:
        return sole_upper_bound(theta, spec)

    def needs_reference(self, spec: ProblemSpec) -> bool:
        return spec.heel_drop_mode != "absolute" and not spec.heel_drop_reference_deg

    def with_reference(self, spec: ProblemSpec, free: Solution) -> ProblemSpec:
        """The free sole-angle profile as (crank_angle_deg, sole_angle_deg) samples at its nodes."""
        samples = tuple((round(math.degrees(t), 9), float(math.degrees(p)))
                        for t, p in zip(free["theta"], free["phi"]))
        return replace(spec, heel_drop_reference_deg=samples)

    def check(self, tr: Transcription, setup: Setup, spec: ProblemSpec) -> Feasibility:
        """The drop must be reachable at every constrained node; else the largest feasible drop and the joint
        limits that bind it."""
        ub = self.sole_upper_bound(tr.theta, spec)
        idx = np.where(np.isfinite(ub))[0]
        if len(idx) == 0:
            return Feasibility(False, f"heel_drop_window_deg {spec.heel_drop_window_deg} contains no mesh node")
        dmax = largest_heel_drop_deg(tr.model, setup, tr.theta[idx], spec)
        if spec.heel_drop_deg > dmax + 1e-9:
            binding = _binding_limits(tr.model, setup, tr.theta[idx], spec)
            w, mode = spec.heel_drop_window_deg, spec.heel_drop_mode
            where = "over the whole cycle" if mode == "shift" else f"over crank angles {w[0]:g}-{w[1]:g} deg"
            ref = "below the horizontal" if mode == "absolute" else "below the free-ankle pattern"
            return Feasibility(
                False,
                f"a heel drop ({mode}) of {spec.heel_drop_deg:g} deg {ref} {where} is geometrically "
                f"impossible for this fit: the largest feasible drop is {max(dmax, 0):.1f} deg, limited {binding}",
                largest_heel_drop_deg=dmax)
        return Feasibility(True, largest_heel_drop_deg=dmax)


class Prescribed(_Driven):
    name = "prescribed"
    mode = "prescribed"
    description = "sole angle follows prescribed_sole_deg, (crank_angle_deg, sole_angle_deg) samples over 0-360"

    def validate(self, spec: ProblemSpec) -> None:
        if len(spec.prescribed_sole_deg) < 4:
            raise ValueError("prescribed_sole_deg: at least 4 (crank_angle_deg, sole_angle_deg) samples are needed")

    def sole_profile_coefficients(self, spec: ProblemSpec) -> np.ndarray:
        """Least-squares Fourier coefficients of the samples (degrees over 0-360)."""
        samples = np.array(spec.prescribed_sole_deg, dtype=float)
        return fourier_fit(np.radians(samples[:, 0]), np.radians(samples[:, 1]))

    def sole_angles(self, tr: Transcription, setup: Setup, spec: ProblemSpec) -> np.ndarray:
        c = self.sole_profile_coefficients(spec)
        return np.array([float(fourier_eval(t, c)[0]) for t in tr.theta])


class _Device(AnkleCondition, register=False):
    """A free sole angle with an orthosis moment at the ankle; a stiff device is reached by continuation."""

    stiffness_field: ClassVar[str] = ""

    def continuation_key(self, spec: ProblemSpec) -> str | None:
        stiff = getattr(spec, self.stiffness_field) > CONTINUATION_START_NMRAD
        return self.stiffness_field if stiff else None


class RangeLimited(_Device):
    name = "range_limited"
    description = ("ankle kept within ankle_range_deg by stiff orthosis stops (or a width around the rider's "
                   "free mean angle)")
    stiffness_field = "ankle_stop_stiffness_Nm_per_rad"

    def device_parameters(self, spec: ProblemSpec) -> list[float]:
        return [0.0, 0.0, 0.0, spec.ankle_stop_stiffness_Nm_per_rad, *np.radians(spec.ankle_range_deg)]

    def needs_reference(self, spec: ProblemSpec) -> bool:
        return spec.ankle_range_width_deg is not None and spec.ankle_range_reference_deg is None

    def with_reference(self, spec: ProblemSpec, free: Solution) -> ProblemSpec:
        """The range centred on the free mean (time-weighted) ankle angle, clipped to the anatomical range."""
        mean = float(math.degrees(np.sum(free["q"][2] * free.node_dt) / np.sum(free.node_dt)))
        half = spec.ankle_range_width_deg / 2
        lo, hi = max(BOUNDS.ankle_range_deg[0], mean - half), min(BOUNDS.ankle_range_deg[1], mean + half)
        return replace(spec, ankle_range_reference_deg=mean, ankle_range_deg=(lo, max(lo, hi)))

    def guess_ankle_deg(self, spec: ProblemSpec, ankle_deg: float) -> float:
        """Start inside the allowed range."""
        return min(max(ankle_deg, spec.ankle_range_deg[0]), spec.ankle_range_deg[1])

    def check(self, tr: Transcription, setup: Setup, spec: ProblemSpec) -> Feasibility:
        """Some ankle angle in the range must reach the pedal, with the other joints in range, at every node."""
        model, lim = tr.model, joint_ranges_rad()
        lo, hi = spec.ankle_range_deg
        rng = lim.copy()
        rng[2] = np.radians([max(lo, math.degrees(lim[2, 0])), min(hi, math.degrees(lim[2, 1]))])
        s_lo, s_hi = BOUNDS.sole_angle_deg
        phis = np.radians(np.arange(s_lo, s_hi + SCAN_STEP_DEG, SCAN_STEP_DEG))
        th_grid, phi_grid = np.meshgrid(tr.theta, phis, indexing="ij")
        q = _poses(model, th_grid.ravel(), phi_grid.ravel(), setup.leg_params)
        ok = _in_range(q, rng).reshape(th_grid.shape).any(axis=1)
        # A zero-width range is an equality: accept the nodes where the fixed-ankle chain reaches the pedal.
        if lo == hi:
            phi = np.array([float(model.fixed_ankle(t, math.radians(lo), setup.leg_params)[0]) for t in tr.theta])
            ok = _in_range(_poses(model, tr.theta, phi, setup.leg_params), lim)
        if not ok.all():
            k = int(np.argmin(ok))
            return Feasibility(False, f"range_limited ankle {lo:g} to {hi:g} deg: at crank angle "
                                      f"{math.degrees(tr.theta[k]):.0f} deg no ankle angle in that range reaches the "
                                      "pedal with the other joints in range (allowed: a range the fit can reach)")
        return Feasibility(True)


class Braced(_Device):
    name = "braced"
    description = ("orthosis spring and damper at the ankle, -k (q - q0) - c qdot (brace_stiffness_Nm_per_rad, "
                   "brace_neutral_deg, brace_damping_Nms_per_rad)")
    stiffness_field = "brace_stiffness_Nm_per_rad"

    def device_parameters(self, spec: ProblemSpec) -> list[float]:
        return [spec.brace_stiffness_Nm_per_rad, math.radians(spec.brace_neutral_deg),
                spec.brace_damping_Nms_per_rad, 0.0, 0.0, 0.0]


CONDITIONS: tuple[str, ...] = tuple(_REGISTRY)
# Conditions whose sole angle is a free variable (the "free" transcription); the others drive it.
FREE_SOLE_CONDITIONS: tuple[str, ...] = tuple(n for n, c in _REGISTRY.items() if c.mode == "free")
_INSTANCES: dict[str, AnkleCondition] = {n: c() for n, c in _REGISTRY.items()}


def condition_for(spec: ProblemSpec | str) -> AnkleCondition:
    """The condition object of a spec (or of a condition name)."""
    name = spec if isinstance(spec, str) else spec.condition
    try:
        return _INSTANCES[name]
    except KeyError:
        raise ValueError(f"condition: {name!r} (allowed: {', '.join(CONDITIONS)})") from None


def registered() -> dict[str, type[AnkleCondition]]:
    """Name -> class of every defined condition (a copy)."""
    return dict(_REGISTRY)
