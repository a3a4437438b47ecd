"""Tests for the smooth MTU geometry model (toolkit.model.geometry)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import casadi as ca
import numpy as np
import pytest

from toolkit.model.geometry import JOINT_NAMES, MUSCLE_NAMES, MuscleGeometry, load_geometry

ANGLE_COLUMNS = ("hip_flexion_deg", "knee_flexion_deg", "ankle_dorsiflexion_deg")
# pedaling range used for validation, deg (inclusive)
PEDALING_RANGE_DEG = {"hip": (10.0, 120.0), "knee": (10.0, 130.0), "ankle": (-40.0, 30.0)}
LENGTH_RMS_LIMIT_MM = 1.0
MOMENT_ARM_RMS_LIMIT_MM = 3.0


@pytest.fixture(scope="module")
def geo() -> MuscleGeometry:
    return load_geometry()


def _random_poses(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo = np.deg2rad([PEDALING_RANGE_DEG[j][0] for j in JOINT_NAMES])
    hi = np.deg2rad([PEDALING_RANGE_DEG[j][1] for j in JOINT_NAMES])
    return rng.uniform(lo, hi, size=(n, 3))


# ----------------------------------------------------------------------------- structure


def test_names_and_joints(geo):
    assert geo.names == MUSCLE_NAMES
    expected = {
        "GMAX": ("hip",), "ILIO": ("hip",), "HAMS": ("hip", "knee"), "BFSH": ("knee",),
        "RF": ("hip", "knee"), "VAS": ("knee",), "GAS": ("knee", "ankle"), "SOL": ("ankle",),
        "TA": ("ankle",),
    }
    assert dict(zip(geo.names, geo.joints)) == expected
    assert set(geo.fit_stats) == set(MUSCLE_NAMES)
    assert load_geometry() is geo  # cached


def test_casadi_function_signature(geo):
    f = geo.casadi_function()
    assert f is geo.casadi_function()  # built once
    assert f.name() == "mtu_geometry"
    assert (f.n_in(), f.n_out()) == (2, 2)
    assert f.size_in(0) == (3, 1) and f.size_in(1) == (1, 1)
    assert f.size_out(0) == (9, 1) and f.size_out(1) == (9, 3)


def test_input_types_agree(geo):
    q = np.deg2rad([60.0, 70.0, 0.0])
    L_np, R_np = geo.lengths(q), geo.moment_arms(q)
    assert L_np.shape == (9,) and R_np.shape == (9, 3)
    assert isinstance(geo.lengths(ca.DM(q)), ca.DM)
    np.testing.assert_allclose(geo.lengths(ca.DM(q)).full().ravel(), L_np, rtol=0, atol=1e-15)
    np.testing.assert_allclose(geo.moment_arms(ca.DM(q)).full(), R_np, rtol=0, atol=1e-15)
    for sym in (ca.SX, ca.MX):
        qs, s = sym.sym("q", 3), sym.sym("s")
        L, R = geo.lengths(qs, s), geo.moment_arms(qs, s)
        assert isinstance(L, sym) and L.shape == (9, 1) and R.shape == (9, 3)
        g = ca.Function("g", [qs, s], [L, R])
        Lv, Rv = g(q, 1.1)
        np.testing.assert_allclose(Lv.full().ravel(), 1.1 * L_np, rtol=1e-14, atol=0)
        np.testing.assert_allclose(Rv.full(), 1.1 * R_np, rtol=1e-14, atol=1e-17)
    # batch numpy evaluation matches pointwise evaluation
    Q = _random_poses(4)
    Lb, Rb = geo.lengths(Q), geo.moment_arms(Q)
    assert Lb.shape == (4, 9) and Rb.shape == (4, 9, 3)
    for i in range(4):
        np.testing.assert_allclose(Lb[i], geo.lengths(Q[i]), rtol=0, atol=1e-15)
        np.testing.assert_allclose(Rb[i], geo.moment_arms(Q[i]), rtol=0, atol=1e-15)
    with pytest.raises(ValueError):
        geo.lengths(np.zeros(2))


# ----------------------------------------------------------------------------- (a) identity


@pytest.mark.parametrize("scale", [1.0, 0.93])
def test_moment_arm_is_minus_dL_dq(geo, scale):
    h = 1e-5
    for q in _random_poses(20, seed=7):
        R = geo.moment_arms(q, scale)
        fd = np.empty((9, 3))
        for j in range(3):
            dq = np.zeros(3)
            dq[j] = h
            fd[:, j] = -(geo.lengths(q + dq, scale) - geo.lengths(q - dq, scale)) / (2 * h)
        np.testing.assert_allclose(R, fd, rtol=0, atol=1e-8)


def test_scale_is_uniform(geo):
    q = _random_poses(1, seed=3)[0]
    np.testing.assert_allclose(geo.lengths(q, 1.2), 1.2 * geo.lengths(q), rtol=1e-14)
    np.testing.assert_allclose(geo.moment_arms(q, 0.9), 0.9 * geo.moment_arms(q), rtol=1e-14, atol=1e-18)


# ----------------------------------------------------------------------------- (b) uncrossed joints


def test_zero_moment_arm_about_uncrossed_joints(geo):
    mask = ~geo.crosses
    assert mask.sum() == 27 - 12
    R_sym = geo.casadi_function().sparsity_out(1)
    for i, j in zip(*np.nonzero(mask)):
        assert not R_sym.has_nz(int(i), int(j)), (geo.names[i], JOINT_NAMES[j])
    for q in _random_poses(10, seed=11):
        R = geo.moment_arms(q)
        assert np.all(R[mask] == 0.0)
        assert np.all(np.abs(R[~mask]) > 0.0)


# ----------------------------------------------------------------------------- (c) signs


def test_signs_at_typical_pose(geo):
    R = geo.moment_arms(np.deg2rad([60.0, 70.0, 0.0]))
    r = {(m, j): R[geo.index(m), JOINT_NAMES.index(j)] for m in geo.names for j in JOINT_NAMES}
    negative = [("GMAX", "hip"), ("VAS", "knee"), ("SOL", "ankle"), ("GAS", "ankle"),
                ("RF", "knee"), ("HAMS", "hip")]
    positive = [("TA", "ankle"), ("ILIO", "hip"), ("BFSH", "knee"), ("HAMS", "knee"),
                ("RF", "hip"), ("GAS", "knee")]
    for key in negative:
        assert r[key] < -5e-3, (key, r[key])
    for key in positive:
        assert r[key] > 5e-3, (key, r[key])


# ----------------------------------------------------------------------------- (d, e) reference


def _reference_dir() -> Path:
    env = os.environ.get("TOOLKIT_REFERENCE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "reference"


@pytest.fixture(scope="module")
def reference_rows() -> list[dict[str, str]]:
    """The OpenSim-sampled reference grid: TOOLKIT_REFERENCE_DIR/geometry_grid.csv when set, else the copy kept
    in the repository (tests/data/geometry_grid.csv.gz, byte-identical to shared/reference/geometry_grid.csv), so
    the test runs in a fresh clone and in CI."""
    import gzip
    import io

    if os.environ.get("TOOLKIT_REFERENCE_DIR"):
        text = (_reference_dir() / "geometry_grid.csv").read_text()
    else:
        text = gzip.decompress((Path(__file__).resolve().parents[1] / "data" / "geometry_grid.csv.gz").read_bytes()).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _in_pedaling_range(row: dict[str, str]) -> bool:
    if row["in_model_range"].strip() != "1" or row["flag"].strip():
        return False
    for j, col in zip(JOINT_NAMES, ANGLE_COLUMNS):
        lo, hi = PEDALING_RANGE_DEG[j]
        if not lo <= float(row[col]) <= hi:
            return False
    return True


@pytest.fixture(scope="module")
def recomputed_stats(geo, reference_rows) -> dict[str, dict]:
    """Errors of the evaluated model vs the reference, per muscle, over the pedaling range."""
    stats = {}
    for m in geo.names:
        rows = [r for r in reference_rows if r["muscle"] == m and _in_pedaling_range(r)]
        assert rows, m
        i = geo.index(m)
        q = np.deg2rad([[float(r[c]) for c in ANGLE_COLUMNS] for r in rows])
        e_len = geo.lengths(q)[:, i] - np.array([float(r["mtu_length_m"]) for r in rows])
        R = geo.moment_arms(q)[:, i, :]
        st = {
            "n_rows": len(rows),
            "length_rms_mm": 1e3 * np.sqrt(np.mean(e_len**2)),
            "length_max_mm": 1e3 * np.max(np.abs(e_len)),
            "moment_arm_rms_mm": {},
            "moment_arm_max_mm": {},
            "angle_range_deg": {},
        }
        for j in geo.joints[i]:
            k = JOINT_NAMES.index(j)
            e = R[:, k] - np.array([float(r[f"neg_dL_d{j}_m"]) for r in rows])
            st["moment_arm_rms_mm"][j] = 1e3 * np.sqrt(np.mean(e**2))
            st["moment_arm_max_mm"][j] = 1e3 * np.max(np.abs(e))
            st["angle_range_deg"][j] = [float(np.rad2deg(q[:, k]).min()), float(np.rad2deg(q[:, k]).max())]
        stats[m] = st
    return stats


def test_fit_accuracy_vs_reference(geo, recomputed_stats):
    for m, st in recomputed_stats.items():
        assert st["length_rms_mm"] < LENGTH_RMS_LIMIT_MM, (m, st["length_rms_mm"])
        for j, v in st["moment_arm_rms_mm"].items():
            assert v < MOMENT_ARM_RMS_LIMIT_MM, (m, j, v)
    # the validation covers the whole pedaling range of every crossed joint
    for m, st in recomputed_stats.items():
        for j, (lo, hi) in st["angle_range_deg"].items():
            assert (round(lo, 6), round(hi, 6)) == PEDALING_RANGE_DEG[j], (m, j, lo, hi)


def test_stored_fit_stats_are_current(geo, recomputed_stats):
    for m, st in recomputed_stats.items():
        stored = geo.fit_stats[m]
        assert stored["n_rows"] == st["n_rows"], m
        for key in ("length_rms_mm", "length_max_mm"):
            assert stored[key] == pytest.approx(st[key], rel=1e-6), (m, key)
        for key in ("moment_arm_rms_mm", "moment_arm_max_mm", "angle_range_deg"):
            assert set(stored[key]) == set(geo.joints[geo.index(m)]), (m, key)
            for j, v in st[key].items():
                assert stored[key][j] == pytest.approx(v, rel=1e-6), (m, key, j)
