#!/usr/bin/env python
"""Fit the toolkit's smooth muscle-tendon-unit (MTU) length model to the OpenSim reference grid.

Usage (from the repository root)::

    python scripts/fit_geometry.py [GRID_CSV] [--out toolkit/model/data/muscle_geometry.json]

``GRID_CSV`` defaults to ``../shared/reference/geometry_grid.csv`` relative to the repository
root. The output is written deterministically (sorted keys, numbers rounded to 12 significant
digits, no dates), so re-running the script on the same grid reproduces the file byte for byte.

Model
-----
For each of the nine muscles the MTU length is a polynomial in the (centred) angles of the
joints the muscle crosses, in radians::

    L(q) = sum_k c_k * prod_j (q_j - center_j) ** e_kj

with a 1-D polynomial for one-joint muscles (GMAX, ILIO: hip; BFSH, VAS: knee; SOL, TA: ankle)
and a 2-D total-degree polynomial for HAMS and RF (hip, knee) and GAS (knee, ankle). The moment
arm is r = -dL/dq, obtained by differentiating the polynomial, so the identity holds exactly by
construction (the toolkit uses CasADi's symbolic Jacobian; see ``toolkit/model/geometry.py``).

Angle conventions are the toolkit's: hip flexion +, knee flexion + (0 = straight), ankle
dorsiflexion + (0 = foot at 90 deg to the shank); the reference grid uses the same signs
(``sign_to_toolkit`` = +1 for all three coordinates).

Rows used
---------
Only rows with ``in_model_range == 1``, an empty ``flag`` and knee flexion <= 130 deg (the
reference README marks rows above 130 deg as unreliable: RF leaves its knee wrap at 132-137 deg,
VAS at 141.6 deg and its path-point splines end at 140 deg). This leaves hip 10..120 deg,
knee 10..130 deg and ankle -40..30 deg, the pedaling range.

Centering
---------
Each joint angle is centred on the midpoint of that joint's pedaling range (hip 65 deg,
knee 70 deg, ankle -5 deg), which is also the midpoint of the fitted grid for every muscle.
Centred angles are within about +-1 rad, so the monomial basis stays well conditioned
(condition numbers of the weighted design matrices are reported as ``fit.condition_number``).

Least squares
-------------
The unknowns are the length coefficients only. The rows are the MTU lengths (``mtu_length_m``)
plus, with weight ``W_MA = 0.1``, moment-arm rows ``-dL/dq_j`` against the reference
``neg_dL_d{joint}_m`` (a 5-point central difference of OpenSim's own length). The weight means a
1 mm moment-arm residual costs as much as a 0.1 mm length residual; it keeps the derivative of
the fit honest near the ends of the range without visibly degrading the length fit.
The reference ``moment_arm_*`` columns (OpenSim ``computeMomentArm``) are *not* used: for RF, VAS
and GAS about the knee they disagree with the derivative of OpenSim's own length (README,
"Identity check").

Degree rule
-----------
For each muscle the degree is the lowest d in 2..9 for which all of the following hold:

* on the fitted rows: length RMS <= 0.05 mm, length max <= 0.2 mm, and for every crossed joint
  moment-arm RMS <= 0.5 mm and moment-arm max <= 1.5 mm;
* leave-one-grid-line-out validation (every interior grid value of every crossed joint is held
  out in turn, i.e. a point for 1-D muscles, a whole grid line for 2-D ones; the fit is redone
  without it and evaluated on it): length RMS <= 0.1 mm and moment-arm RMS <= 1.0 mm;
* the number of coefficients is at most a third of the number of rows.

These targets are stricter than the acceptance tests (length RMS < 1 mm, moment-arm RMS < 3 mm)
so that the lowest, smoothest admissible polynomial is chosen with margin. If no degree meets
them the script stops with an error.

Only numpy is used.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GRID = REPO_ROOT.parent / "shared" / "reference" / "geometry_grid.csv"
DEFAULT_OUT = REPO_ROOT / "toolkit" / "model" / "data" / "muscle_geometry.json"

JOINTS = ("hip", "knee", "ankle")
ANGLE_COLUMN = {
    "hip": "hip_flexion_deg",
    "knee": "knee_flexion_deg",
    "ankle": "ankle_dorsiflexion_deg",
}
MUSCLES: dict[str, tuple[str, ...]] = {
    "GMAX": ("hip",),
    "ILIO": ("hip",),
    "HAMS": ("hip", "knee"),
    "BFSH": ("knee",),
    "RF": ("hip", "knee"),
    "VAS": ("knee",),
    "GAS": ("knee", "ankle"),
    "SOL": ("ankle",),
    "TA": ("ankle",),
}
MUSCLE_ORDER = tuple(MUSCLES)

KNEE_MAX_DEG = 130.0
CENTER_DEG = {"hip": 65.0, "knee": 70.0, "ankle": -5.0}
W_MA = 0.1
DEGREES = range(2, 10)
# degree-rule targets, mm
TARGET = {
    "length_rms_mm": 0.05,
    "length_max_mm": 0.2,
    "moment_arm_rms_mm": 0.5,
    "moment_arm_max_mm": 1.5,
    "cv_length_rms_mm": 0.1,
    "cv_moment_arm_rms_mm": 1.0,
    "max_coefficients_per_row": 1.0 / 3.0,
}
SIG_DIGITS = 12


def _round(x: float) -> float:
    """Round to SIG_DIGITS significant digits (and normalise -0.0)."""
    v = float(f"{float(x):.{SIG_DIGITS}g}")
    return 0.0 if v == 0.0 else v


def exponents(n_joints: int, degree: int) -> list[tuple[int, ...]]:
    """Monomial exponents of total degree <= ``degree``, ordered by total degree, then by
    decreasing power of the first joint."""
    if n_joints == 1:
        return [(k,) for k in range(degree + 1)]
    if n_joints == 2:
        return [(i, t - i) for t in range(degree + 1) for i in range(t, -1, -1)]
    raise ValueError("only 1-D and 2-D polynomials are used")


def design(x: np.ndarray, exps: list[tuple[int, ...]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Value matrix V (rows x terms) and derivative matrices dV/dx_j for centred angles ``x``."""
    e = np.asarray(exps, dtype=int)  # terms x joints
    V = np.prod(x[:, None, :] ** e[None, :, :], axis=2)
    dV = []
    for j in range(x.shape[1]):
        ej = e.copy()
        coef = ej[:, j].astype(float)
        ej[:, j] = np.maximum(ej[:, j] - 1, 0)
        dV.append(coef[None, :] * np.prod(x[:, None, :] ** ej[None, :, :], axis=2))
    return V, dV


def solve(x, length, neg_dl, exps):
    """Weighted least squares for the length coefficients. Returns (coefficients, cond)."""
    V, dV = design(x, exps)
    A = np.vstack([V] + [-W_MA * d for d in dV])
    b = np.concatenate([length] + [W_MA * neg_dl[:, j] for j in range(x.shape[1])])
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    return coef, float(np.linalg.cond(A))


def residuals(x, length, neg_dl, exps, coef):
    V, dV = design(x, exps)
    e_len = V @ coef - length
    e_ma = np.stack([-(d @ coef) - neg_dl[:, j] for j, d in enumerate(dV)], axis=1)
    return e_len, e_ma


def rms_mm(e: np.ndarray) -> float:
    return float(1e3 * np.sqrt(np.mean(np.square(e))))


def max_mm(e: np.ndarray) -> float:
    return float(1e3 * np.max(np.abs(e)))


def read_grid(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def select_rows(rows, muscle):
    out = [
        r
        for r in rows
        if r["muscle"] == muscle
        and r["in_model_range"].strip() == "1"
        and not r["flag"].strip()
        and float(r["knee_flexion_deg"]) <= KNEE_MAX_DEG
    ]
    if not out:
        raise SystemExit(f"no usable rows for {muscle}")
    return out


def cross_validate(x, deg_grid, length, neg_dl, exps):
    """Leave-one-grid-line-out: hold out each interior grid value of each crossed joint."""
    e_len, e_ma = [], []
    for j in range(x.shape[1]):
        values = np.unique(deg_grid[:, j])
        for v in values[1:-1]:
            hold = deg_grid[:, j] == v
            coef, _ = solve(x[~hold], length[~hold], neg_dl[~hold], exps)
            a, b = residuals(x[hold], length[hold], neg_dl[hold], exps, coef)
            e_len.append(a)
            e_ma.append(b)
    return np.concatenate(e_len), np.concatenate(e_ma)


def fit_muscle(rows, muscle):
    joints = MUSCLES[muscle]
    sel = select_rows(rows, muscle)
    deg_grid = np.array([[float(r[ANGLE_COLUMN[j]]) for j in joints] for r in sel])
    center = np.deg2rad([CENTER_DEG[j] for j in joints])
    x = np.deg2rad(deg_grid) - center
    length = np.array([float(r["mtu_length_m"]) for r in sel])
    neg_dl = np.array([[float(r[f"neg_dL_d{j}_m"]) for j in joints] for r in sel])

    tried = []
    for d in DEGREES:
        exps = exponents(len(joints), d)
        if len(exps) > TARGET["max_coefficients_per_row"] * len(sel):
            break
        coef, cond = solve(x, length, neg_dl, exps)
        coef = np.array([_round(c) for c in coef])  # stats from the coefficients as stored
        e_len, e_ma = residuals(x, length, neg_dl, exps, coef)
        cv_len, cv_ma = cross_validate(x, deg_grid, length, neg_dl, exps)
        ok = (
            rms_mm(e_len) <= TARGET["length_rms_mm"]
            and max_mm(e_len) <= TARGET["length_max_mm"]
            and all(rms_mm(e_ma[:, j]) <= TARGET["moment_arm_rms_mm"] for j in range(len(joints)))
            and all(max_mm(e_ma[:, j]) <= TARGET["moment_arm_max_mm"] for j in range(len(joints)))
            and rms_mm(cv_len) <= TARGET["cv_length_rms_mm"]
            and all(rms_mm(cv_ma[:, j]) <= TARGET["cv_moment_arm_rms_mm"] for j in range(len(joints)))
        )
        tried.append((d, rms_mm(e_len), [rms_mm(e_ma[:, j]) for j in range(len(joints))]))
        if ok:
            break
    else:
        ok = False
    if not ok:
        raise SystemExit(f"{muscle}: no degree in {list(DEGREES)} meets the targets; tried {tried}")

    fit = {
        "degree": d,
        "n_rows": len(sel),
        "n_coefficients": len(exps),
        "condition_number": _round(cond),
        "length_rms_mm": _round(rms_mm(e_len)),
        "length_max_mm": _round(max_mm(e_len)),
        "moment_arm_rms_mm": {j: _round(rms_mm(e_ma[:, k])) for k, j in enumerate(joints)},
        "moment_arm_max_mm": {j: _round(max_mm(e_ma[:, k])) for k, j in enumerate(joints)},
        "angle_range_deg": {
            j: [_round(deg_grid[:, k].min()), _round(deg_grid[:, k].max())] for k, j in enumerate(joints)
        },
        "cross_validation": {
            "method": "leave-one-grid-line-out (interior grid values of each crossed joint)",
            "length_rms_mm": _round(rms_mm(cv_len)),
            "moment_arm_rms_mm": {j: _round(rms_mm(cv_ma[:, k])) for k, j in enumerate(joints)},
        },
    }
    entry = {
        "joints": list(joints),
        "center_rad": [_round(c) for c in center],
        "exponents": [list(e) for e in exps],
        "coefficients": [float(c) for c in coef],
        "fit": fit,
    }
    return entry


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(grid_path: Path) -> dict:
    rows = read_grid(grid_path)
    muscles = {m: fit_muscle(rows, m) for m in MUSCLE_ORDER}
    return {
        "format_version": 1,
        "description": (
            "Smooth muscle-tendon-unit length model L(q) per muscle: "
            "L = sum_k coefficients[k] * prod_j (q_j - center_rad[j]) ** exponents[k][j], "
            "q_j the angles (rad) of the joints in 'joints'. Moment arm r = -dL/dq exactly. "
            "Generated by scripts/fit_geometry.py; do not edit by hand."
        ),
        "units": {
            "angles": "rad (angle_range_deg in deg)",
            "coefficients": "m (per rad**total_exponent)",
            "fit errors": "mm",
        },
        "angle_convention": (
            "hip flexion +, knee flexion + (0 = straight knee), ankle dorsiflexion + "
            "(0 = foot at 90 deg to the shank); moment arm positive = produces a positive "
            "(flexion/dorsiflexion) moment"
        ),
        "muscle_order": list(MUSCLE_ORDER),
        "muscles": muscles,
        "source": {
            "reference_file": "reference/geometry_grid.csv (shared reference data, not shipped)",
            "reference_sha256": sha256(grid_path),
            "opensim_model": {
                "repository": "https://github.com/sangsoopark1739/pedaling_DC_OpenSim",
                "commit": "6c5e5d582738274545b612aa5ea5e238f95709a1",
                "file": "MatlabCode/Model/Pedaling_Model.osim",
                "sha256": "5cdf965119523d41b9a9d8366b8228828b77cd54af6d45ed324e8e333b48ffb0",
                "sampled_with": "OpenSim 4.6 Python API",
                "side": "right leg (_r muscles)",
            },
            "citation": (
                "Park S, Caldwell GE, Umberger BR (2022). A direct collocation framework for "
                "optimal control simulation of pedaling using OpenSim. PLoS ONE 17(2): e0264346. "
                "doi:10.1371/journal.pone.0264346"
            ),
            "base_models": [
                "Rajagopal A et al. (2016) IEEE Trans Biomed Eng 63(10):2068-2079. doi:10.1109/TBME.2016.2586891",
                "Lai AKM, Arnold AS, Wakeling JM (2017) Ann Biomed Eng 45(12):2762-2774. doi:10.1007/s10439-017-1920-7",
            ],
            "row_filters": [
                "in_model_range == 1",
                "flag empty",
                f"knee_flexion_deg <= {KNEE_MAX_DEG:g}",
            ],
            "fitted_columns": {
                "length": "mtu_length_m",
                "moment_arm_rows": "neg_dL_d{hip,knee,ankle}_m (-dL/dq of OpenSim's length, 5-point difference)",
                "not_used": "moment_arm_*_m (OpenSim computeMomentArm; inconsistent with -dL/dq for RF, VAS, GAS at the knee)",
            },
        },
        "fit_method": {
            "basis": "monomials in centred joint angles (rad); total degree for 2-D muscles",
            "center_deg": dict(CENTER_DEG),
            "center_rule": "midpoint of the pedaling range of each joint (= midpoint of the fitted grid)",
            "least_squares": (
                "length rows (weight 1) plus moment-arm rows -dL/dq_j vs neg_dL_d*_m "
                f"(weight {W_MA:g}); unknowns are the length coefficients only"
            ),
            "moment_arm_row_weight": W_MA,
            "degree_rule": (
                "lowest degree in 2..9 meeting all targets on the fitted rows and in "
                "leave-one-grid-line-out validation, with at most n_rows/3 coefficients"
            ),
            "degree_targets": {k: _round(v) for k, v in TARGET.items()},
            "rounding": f"{SIG_DIGITS} significant digits; fit stats computed from the rounded coefficients",
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("grid", nargs="?", type=Path, default=DEFAULT_GRID, help="geometry_grid.csv")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON")
    args = p.parse_args(argv)
    if not args.grid.is_file():
        print(f"{args.grid}: not found", file=sys.stderr)
        return 2
    data = build(args.grid)
    text = json.dumps(data, sort_keys=True, indent=1) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(args.out)

    print(f"wrote {args.out}")
    print(f"{'muscle':6} {'deg':>3} {'n':>4} {'L rms':>7} {'L max':>7}  moment arm rms/max (mm)")
    for m in MUSCLE_ORDER:
        f = data["muscles"][m]["fit"]
        ma = "  ".join(
            f"{j} {f['moment_arm_rms_mm'][j]:.3f}/{f['moment_arm_max_mm'][j]:.3f}" for j in MUSCLES[m]
        )
        print(f"{m:6} {f['degree']:3d} {f['n_rows']:4d} {f['length_rms_mm']:7.4f} {f['length_max_mm']:7.4f}  {ma}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
