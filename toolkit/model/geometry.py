"""Muscle-tendon-unit (MTU) geometry: smooth lengths L(q) and moment arms r(q) = -dL/dq.

The nine MTUs (GMAX ILIO HAMS BFSH RF VAS GAS SOL TA) have lengths that are polynomials in the
angles of the joints they cross, fitted by ``scripts/fit_geometry.py`` to lengths sampled from
the OpenSim pedaling model of Park, Caldwell & Umberger (2022) and stored, with their source and
fit statistics, in ``toolkit/model/data/muscle_geometry.json``.

Conventions (toolkit-wide):

* ``q = (hip flexion, knee flexion, ankle dorsiflexion)`` in rad; knee 0 = straight, ankle 0 =
  foot at 90 deg to the shank.
* Moment arm ``r = -dL/dq`` (m). Positive = the muscle produces a positive (flexion /
  dorsiflexion) joint moment, so ``joint_moment = R.T @ muscle_forces``.
* The moment arms are computed by CasADi's symbolic Jacobian of the length expression, so the
  identity ``r = -dL/dq`` holds exactly (to floating point), not just approximately.
* ``scale`` multiplies every length (uniform geometric scaling of the rider); the moment arms
  scale by the same factor. It may be a number or a CasADi symbol.

The fit is valid over the pedaling range it was fitted on (``MuscleGeometry.fit_range_deg``:
hip 10..120 deg, knee 10..130 deg, ankle -40..30 deg). Outside that range the polynomials are
extrapolations and degrade quickly; callers should keep the joints inside it.

Example::

    >>> import numpy as np
    >>> from toolkit.model.geometry import load_geometry
    >>> geo = load_geometry()
    >>> q = np.deg2rad([60.0, 70.0, 0.0])
    >>> L = geo.lengths(q)          # (9,) m
    >>> R = geo.moment_arms(q)      # (9, 3) m
    >>> f = geo.casadi_function()   # Function('mtu_geometry', [q(3), scale], [L(9), R(9x3)])
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import casadi as ca
import numpy as np

__all__ = [
    "JOINT_NAMES",
    "MUSCLE_NAMES",
    "DEFAULT_GEOMETRY_PATH",
    "MuscleGeometry",
    "load_geometry",
]

#: Generalised coordinates of the leg, in the order of ``q``.
JOINT_NAMES: tuple[str, ...] = ("hip", "knee", "ankle")
#: Muscle order used for every per-muscle vector in the toolkit.
MUSCLE_NAMES: tuple[str, ...] = ("GMAX", "ILIO", "HAMS", "BFSH", "RF", "VAS", "GAS", "SOL", "TA")
#: The shipped geometry file.
DEFAULT_GEOMETRY_PATH: Path = Path(__file__).resolve().parent / "data" / "muscle_geometry.json"

_CasadiType = (ca.SX, ca.MX, ca.DM)
ArrayLike = Union[np.ndarray, "ca.SX", "ca.MX", "ca.DM", list, tuple]


@dataclass(frozen=True, repr=False)
class MuscleGeometry:
    """Polynomial MTU length model for the nine muscles.

    Attributes:
        names: muscle names, in the toolkit order ``MUSCLE_NAMES``.
        joints: per muscle, the joints it crosses (subset of ``JOINT_NAMES``, in that order).
        centers_rad: per muscle, the centre angle (rad) of each crossed joint.
        exponents: per muscle, the monomial exponents (one integer per crossed joint) per term.
        coefficients: per muscle, the coefficient (m) of each term.
        fit_stats: per muscle, the fit statistics stored by the fitting script (degree, n_rows,
            length and moment-arm RMS/max errors in mm, angle ranges in deg, ...).
        source: provenance block of the data file (reference data, OpenSim model, citation,
            row filters).
    """

    names: tuple[str, ...]
    joints: tuple[tuple[str, ...], ...]
    centers_rad: tuple[tuple[float, ...], ...]
    exponents: tuple[tuple[tuple[int, ...], ...], ...]
    coefficients: tuple[tuple[float, ...], ...]
    fit_stats: dict[str, Any] = field(compare=False, repr=False)
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.names)
        for attr in ("joints", "centers_rad", "exponents", "coefficients"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"MuscleGeometry.{attr}: expected {n} entries, got {len(getattr(self, attr))}")
        for m, js, c, ex, co in zip(self.names, self.joints, self.centers_rad, self.exponents, self.coefficients):
            if not js or any(j not in JOINT_NAMES for j in js) or list(js) != sorted(js, key=JOINT_NAMES.index):
                raise ValueError(f"{m}: joints {js} must be a non-empty ordered subset of {JOINT_NAMES}")
            if len(c) != len(js):
                raise ValueError(f"{m}: {len(c)} centres for {len(js)} joints")
            if len(ex) != len(co):
                raise ValueError(f"{m}: {len(ex)} exponent tuples for {len(co)} coefficients")
            if any(len(e) != len(js) or min(e) < 0 for e in ex):
                raise ValueError(f"{m}: exponents must be non-negative integer tuples of length {len(js)}")

    def __repr__(self) -> str:
        parts = [
            f"{m}({'+'.join(js)}, deg {max(sum(e) for e in ex)})"
            for m, js, ex in zip(self.names, self.joints, self.exponents)
        ]
        return f"MuscleGeometry({', '.join(parts)})"

    # ------------------------------------------------------------------ derived data
    @property
    def n_muscles(self) -> int:
        return len(self.names)

    @property
    def crosses(self) -> np.ndarray:
        """Boolean (n_muscles, 3) matrix: does muscle i cross joint j (hip, knee, ankle)?"""
        out = np.zeros((self.n_muscles, len(JOINT_NAMES)), dtype=bool)
        for i, js in enumerate(self.joints):
            for j in js:
                out[i, JOINT_NAMES.index(j)] = True
        return out

    @property
    def fit_range_deg(self) -> dict[str, tuple[float, float]]:
        """Per joint, the angle range (deg) covered by the fit of every muscle crossing it."""
        out: dict[str, tuple[float, float]] = {}
        for m, js in zip(self.names, self.joints):
            for j in js:
                lo, hi = self.fit_stats[m]["angle_range_deg"][j]
                if j in out:
                    lo, hi = max(lo, out[j][0]), min(hi, out[j][1])
                out[j] = (float(lo), float(hi))
        return out

    def index(self, muscle: str) -> int:
        """Position of ``muscle`` in ``names``."""
        try:
            return self.names.index(muscle)
        except ValueError:
            raise KeyError(f"unknown muscle {muscle!r} (allowed: {', '.join(self.names)})") from None

    # ------------------------------------------------------------------ symbolic model
    def _length_expressions(self, q: ca.SX) -> ca.SX:
        """Unscaled lengths (n_muscles x 1) as SX expressions of the 3-vector ``q``."""
        out = []
        for js, centers, exps, coefs in zip(self.joints, self.centers_rad, self.exponents, self.coefficients):
            x = [q[JOINT_NAMES.index(j)] - c for j, c in zip(js, centers)]
            max_pow = [max(e[k] for e in exps) for k in range(len(js))]
            powers = []  # powers[k][p] = x_k ** p, built by repeated multiplication
            for k in range(len(js)):
                pk = [ca.SX(1.0)]
                for _ in range(max_pow[k]):
                    pk.append(pk[-1] * x[k])
                powers.append(pk)
            terms = ca.SX(0.0)
            for e, c in zip(exps, coefs):
                t = ca.SX(c)
                for k, p in enumerate(e):
                    if p:
                        t = t * powers[k][p]
                terms = terms + t
            out.append(terms)
        return ca.vertcat(*out)

    @functools.cached_property
    def _function(self) -> ca.Function:
        q = ca.SX.sym("q", len(JOINT_NAMES))
        scale = ca.SX.sym("scale")
        L = scale * self._length_expressions(q)
        R = -ca.jacobian(L, q)
        return ca.Function(
            "mtu_geometry", [q, scale], [L, R], ["q", "scale"], ["L", "R"],
        )

    def casadi_function(self) -> ca.Function:
        """``casadi.Function('mtu_geometry', [q(3), scale(1)], [L(9), R(9x3)])``, built once.

        ``R = -dL/dq`` is the exact symbolic Jacobian; ``R[i, j]`` is muscle i's moment arm
        about joint j (hip, knee, ankle), m.
        """
        return self._function

    # ------------------------------------------------------------------ evaluation
    def lengths(self, q: ArrayLike, scale: Any = 1.0) -> Any:
        """MTU lengths (m) at joint angles ``q`` = (hip, knee, ankle) rad.

        Casadi input (SX, MX or DM in ``q`` or ``scale``) returns a casadi column of 9.
        NumPy input returns an array of shape (9,) for a single pose, or (N, 9) for q of shape
        (N, 3).
        """
        return self._evaluate(q, scale, 0)

    def moment_arms(self, q: ArrayLike, scale: Any = 1.0) -> Any:
        """Moment arms R = -dL/dq (m), a 9x3 matrix (rows: muscles, columns: hip, knee, ankle).

        Casadi input returns a casadi 9x3 matrix; NumPy input an array of shape (9, 3), or
        (N, 9, 3) for q of shape (N, 3).
        """
        return self._evaluate(q, scale, 1)

    def _evaluate(self, q: ArrayLike, scale: Any, which: int) -> Any:
        f = self._function
        if isinstance(q, (list, tuple)) and any(isinstance(v, _CasadiType) for v in q):
            q = ca.vertcat(*q)
        if isinstance(q, _CasadiType) or isinstance(scale, _CasadiType):
            if not isinstance(q, _CasadiType):
                q = ca.DM(np.asarray(q, dtype=float).reshape(-1))
            if q.numel() != len(JOINT_NAMES):
                raise ValueError(f"q must have 3 elements (hip, knee, ankle), got shape {q.shape}")
            if q.shape[0] != len(JOINT_NAMES):
                q = ca.reshape(q, len(JOINT_NAMES), 1)
            return f(q, scale)[which]

        qa = np.asarray(q, dtype=float)
        s = float(np.asarray(scale, dtype=float))
        if qa.shape == (len(JOINT_NAMES),):
            out = f(qa, s)[which].full()
            return out.reshape(self.n_muscles) if which == 0 else out
        if qa.ndim == 2 and qa.shape[1] == len(JOINT_NAMES):
            n = qa.shape[0]
            if n == 0:
                shape = (0, self.n_muscles) if which == 0 else (0, self.n_muscles, len(JOINT_NAMES))
                return np.zeros(shape)
            res = f.map(n)(qa.T, s)[which].full()
            if which == 0:
                return res.T  # (9, n) -> (n, 9)
            return res.reshape(self.n_muscles, n, len(JOINT_NAMES)).transpose(1, 0, 2)
        raise ValueError(f"q must have shape (3,) or (N, 3) (hip, knee, ankle), got {qa.shape}")


def _parse(data: dict[str, Any], origin: str) -> MuscleGeometry:
    try:
        order = tuple(data["muscle_order"])
        muscles = data["muscles"]
        if order != MUSCLE_NAMES:
            raise ValueError(f"muscle_order {order} != {MUSCLE_NAMES}")
        entries = [muscles[m] for m in order]
        return MuscleGeometry(
            names=order,
            joints=tuple(tuple(e["joints"]) for e in entries),
            centers_rad=tuple(tuple(float(c) for c in e["center_rad"]) for e in entries),
            exponents=tuple(tuple(tuple(int(p) for p in ex) for ex in e["exponents"]) for e in entries),
            coefficients=tuple(tuple(float(c) for c in e["coefficients"]) for e in entries),
            fit_stats={m: e["fit"] for m, e in zip(order, entries)},
            source=dict(data.get("source", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{origin}: invalid muscle geometry file: {exc}") from exc


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path) -> MuscleGeometry:
    with path.open() as fh:
        data = json.load(fh)
    return _parse(data, str(path))


def load_geometry(path: str | Path | None = None) -> MuscleGeometry:
    """Load the MTU geometry model from ``path`` (default: the shipped
    ``toolkit/model/data/muscle_geometry.json``). Results are cached per resolved path, so the
    CasADi function of the returned (immutable) object is built only once."""
    p = DEFAULT_GEOMETRY_PATH if path is None else Path(path).expanduser().resolve()
    return _load_cached(p)
