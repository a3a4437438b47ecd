"""HDF5 results (round trip, refusal of failed solves, atomic writes, failures log) and .sto export."""
from __future__ import annotations

import dataclasses
import math

import h5py
import numpy as np
import pytest

from toolkit.io import hdf5, provenance
from toolkit.cli.results import export_main, show_main
from toolkit.io.sto import export_sto, read_sto, safe_stem
from toolkit.ocp.problem import CostSpec, ProblemSpec, SolverSpec
from toolkit.ocp.solution import ARRAY_UNITS, SolverStats

NODES = 20
KEY_FREE = "condition=free/power_W=200"
KEY_FIXED = "condition=fixed/power_W=200"


@pytest.fixture(scope="module")
def sols(solver, setup):
    out = {c: solver.solve(setup, ProblemSpec(condition=c, power_W=200, solver=SolverSpec(nodes=NODES)))
           for c in ("free", "fixed")}
    assert all(s.success for s in out.values())
    return out


@pytest.fixture(autouse=True)
def _no_git(monkeypatch):
    """Provenance without running git in tests."""
    monkeypatch.setattr(provenance, "git_commit", lambda: "0123456789abcdef")


def _assert_same(a, b):
    assert a.spec == b.spec
    assert a.stats == b.stats
    assert a.setup == b.setup
    assert set(a.arrays) == set(b.arrays)
    for k in a.arrays:
        assert a.arrays[k].shape == b.arrays[k].shape
        assert np.array_equal(a.arrays[k], b.arrays[k]), k
    assert (a.decision is None) == (b.decision is None)
    if a.decision is not None:
        assert np.array_equal(a.decision, b.decision)
    assert a.sealed is False and b.sealed is False


def _failed(sol):
    stats = dataclasses.replace(sol.stats, success=False, status="Maximum_Iterations_Exceeded",
                                message="IPOPT returned Maximum_Iterations_Exceeded",
                                worst_constraints=(("defect[3]", 0.25),), max_violation=0.25)
    return dataclasses.replace(sol, stats=stats, sealed=True)


def _listing(d):
    return sorted(p.name for p in d.iterdir())


# ------------------------------------------------------------------------------------------- round trip


def test_round_trip(tmp_path, sols):
    path = tmp_path / "exp.h5"
    hdf5.write_solution(path, KEY_FREE, sols["free"], {"condition": "free", "power_W": 200})
    hdf5.write_solution(path, KEY_FIXED, sols["fixed"], {"condition": "fixed", "power_W": 200})
    assert hdf5.list_points(path) == [KEY_FREE, KEY_FIXED]
    for key, c in ((KEY_FREE, "free"), (KEY_FIXED, "fixed")):
        _assert_same(hdf5.read_solution(path, key), sols[c])
    every = hdf5.read_all(path)
    assert list(every) == [KEY_FREE, KEY_FIXED]
    _assert_same(every[KEY_FIXED], sols["fixed"])

    p = hdf5.read_point(path, KEY_FREE)
    assert p.labels == {"condition": "free", "power_W": 200}
    assert p.git_commit == "0123456789abcdef"
    assert p.toolkit_version == provenance.package_version() != ""
    assert sum(p.summary["joint_work_share"].values()) == pytest.approx(1.0)

    with h5py.File(path, "r") as f:
        assert f.attrs["schema_version"] == hdf5.SCHEMA_VERSION == 1
        name = hdf5.encode_key(KEY_FREE)
        assert "/" not in name and name in f["points"]
        g = f["points"][name]
        assert g.attrs["key"] == KEY_FREE
        for arr, ds in g["arrays"].items():
            assert ds.attrs["units"] == ARRAY_UNITS[arr]
        assert g["arrays/q"].attrs["rows"] == "hip,knee,ankle"
        assert g["derived/joint_power"].attrs["units"] == "W"
        assert g.attrs["condition"] == "free" and g.attrs["nodes"] == NODES
    assert _listing(tmp_path) == ["exp.h5"]


def test_replace_keeps_order_and_write_solutions(tmp_path, sols):
    path = tmp_path / "exp.h5"
    hdf5.write_solutions(path, [(KEY_FREE, sols["free"]), (KEY_FIXED, sols["fixed"], {"rider": "HLT"})])
    hdf5.write_solution(path, KEY_FREE, sols["fixed"], {"note": "replaced"})
    assert hdf5.list_points(path) == [KEY_FREE, KEY_FIXED]
    _assert_same(hdf5.read_solution(path, KEY_FREE), sols["fixed"])
    assert hdf5.read_point(path, KEY_FREE).labels == {"note": "replaced"}
    assert hdf5.read_point(path, KEY_FIXED).labels == {"rider": "HLT"}
    with pytest.raises(KeyError, match="stored"):
        hdf5.read_solution(path, "nope")


def test_keys_are_encoded_safely(tmp_path, sols):
    path = tmp_path / "k.h5"
    keys = ["a/b=c", ".", "..", "50% VO2max / rider=HLT", "ünïcode/ key"]
    hdf5.write_solutions(path, [(k, sols["free"]) for k in keys])
    assert hdf5.list_points(path) == keys
    for k in keys:
        name = hdf5.encode_key(k)
        assert "/" not in name and set(name) != {"."}
    _assert_same(hdf5.read_solution(path, ".."), sols["free"])
    with pytest.raises(ValueError):
        hdf5.encode_key("")


def test_spec_and_stats_json_round_trip():
    spec = ProblemSpec(condition="prescribed", power_W=250, cadence_rpm=80.5,
                       prescribed_sole_deg=((0, 10.0), (90, 20.0), (180, 10.0), (270, 0.0)),
                       heel_drop_window_deg=(30.0, 150.0),
                       cost=CostSpec(kind="stress", weights={"VAS": 2.0}, volume_weighted=True),
                       solver=SolverSpec(nodes=30, tol=1e-6))
    assert hdf5.spec_from_json(hdf5.spec_to_json(spec)) == spec
    stats = SolverStats(False, "Infeasible_Request", 0, 0.0, 1.5, math.nan, math.inf,
                        (("power", 1.0), ("defect[0]", 0.5)), "heel drop impossible", 3)
    back = hdf5.stats_from_json(hdf5.stats_to_json(stats))
    assert math.isnan(back.objective) and back.max_violation == math.inf
    assert dataclasses.replace(back, objective=0.0) == dataclasses.replace(stats, objective=0.0)
    setup = {"t": (1, 2.5), "n": [math.nan, {"x": (math.inf,)}], "a": np.arange(3.0)}
    back = hdf5.setup_from_json(hdf5.setup_to_json(setup))
    assert back["t"] == (1, 2.5) and isinstance(back["n"][1]["x"], tuple) and math.isnan(back["n"][0])
    assert np.array_equal(back["a"], setup["a"])


# ------------------------------------------------------------------------------------------- refusals, failures


def test_sealed_solution_is_refused(tmp_path, sols):
    path = tmp_path / "exp.h5"
    with pytest.raises(hdf5.NotAResultError, match="write_failure"):
        hdf5.write_solution(path, KEY_FREE, _failed(sols["free"]))
    assert not path.exists() and _listing(tmp_path) == []
    # unsealed for debugging is still not a result
    with pytest.raises(hdf5.NotAResultError):
        hdf5.write_solution(path, KEY_FREE, _failed(sols["free"]).unseal())
    hdf5.write_solution(path, KEY_FIXED, sols["fixed"])
    before = path.read_bytes()
    with pytest.raises(hdf5.NotAResultError):
        hdf5.write_solutions(path, [(KEY_FREE, sols["free"]), ("bad", _failed(sols["free"]))])
    assert path.read_bytes() == before


def test_failures_are_logged_not_results(tmp_path, sols):
    path = tmp_path / "exp.h5"
    hdf5.write_solution(path, KEY_FIXED, sols["fixed"])
    bad = _failed(sols["free"])
    hdf5.write_failure(path, KEY_FREE, bad.stats, bad.spec, labels={"condition": "free"}, setup=bad.setup)
    assert hdf5.list_points(path) == [KEY_FIXED]
    fails = hdf5.read_failures(path)
    assert list(fails) == [KEY_FREE]
    assert fails[KEY_FREE].stats == bad.stats and fails[KEY_FREE].spec == bad.spec
    assert fails[KEY_FREE].setup == bad.setup and fails[KEY_FREE].labels == {"condition": "free"}
    # a later successful solve of that point replaces the failure record
    hdf5.write_solution(path, KEY_FREE, sols["free"])
    assert hdf5.read_failures(path) == {}
    assert hdf5.list_points(path) == [KEY_FIXED, KEY_FREE]


# ------------------------------------------------------------------------------------------- atomic writes


def test_interrupted_write_leaves_previous_file(tmp_path, sols, monkeypatch):
    path = tmp_path / "exp.h5"
    hdf5.write_solution(path, KEY_FIXED, sols["fixed"])
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash mid-write")

    # fail while the new point's datasets are being written (after the old points were copied)
    monkeypatch.setattr(hdf5, "_write_derived", boom)
    with pytest.raises(RuntimeError, match="simulated crash"):
        hdf5.write_solution(path, KEY_FREE, sols["free"])
    assert path.read_bytes() == before
    assert hdf5.list_points(path) == [KEY_FIXED]
    _assert_same(hdf5.read_solution(path, KEY_FIXED), sols["fixed"])
    assert _listing(tmp_path) == ["exp.h5"]  # no temp file left behind
    monkeypatch.undo()

    # fail at the very last step (the rename), and on a first write into a new file
    monkeypatch.setattr(provenance, "git_commit", lambda: None)
    monkeypatch.setattr(hdf5.os, "replace", boom)
    with pytest.raises(RuntimeError):
        hdf5.write_solution(path, KEY_FREE, sols["free"])
    with pytest.raises(RuntimeError):
        hdf5.write_solution(tmp_path / "new.h5", KEY_FREE, sols["free"])
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["exp.h5"]


def test_corrupt_and_foreign_files(tmp_path, sols, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(hdf5.ResultFileError, match="HDF5"):
        hdf5.list_points(bad)
    with pytest.raises(hdf5.ResultFileError):
        hdf5.write_solution(bad, KEY_FREE, sols["free"])
    assert bad.read_bytes() == b"not an hdf5 file"  # never overwritten
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    with pytest.raises(hdf5.ResultFileError, match="not a pedaling-toolkit result"):
        hdf5.read_all(foreign)
    newer = tmp_path / "newer.h5"
    hdf5.write_solution(newer, KEY_FREE, sols["free"])
    with h5py.File(newer, "a") as f:
        f.attrs["schema_version"] = 99
    with pytest.raises(hdf5.ResultFileError, match="version 99"):
        hdf5.read_solution(newer, KEY_FREE)
    with pytest.raises(hdf5.ResultFileError, match="not found"):
        hdf5.list_points(tmp_path / "missing.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5", "foreign.h5", "newer.h5"]


def test_show_and_export_commands(tmp_path, sols, capsys):
    path = tmp_path / "exp.h5"
    hdf5.write_solutions(path, [(KEY_FREE, sols["free"], {"condition": "free"}), (KEY_FIXED, sols["fixed"])])
    f = _failed(sols["free"])
    hdf5.write_failure(path, "condition=heel_drop/power_W=200", f.stats, f.spec)
    assert show_main(path) == 0
    out = capsys.readouterr().out
    assert KEY_FREE in out and KEY_FIXED in out and "Failed solves" in out and "Maximum_Iterations" in out
    assert export_main(path, tmp_path / "sto") == 0
    assert len(list((tmp_path / "sto").glob("*.sto"))) == 10
    capsys.readouterr()
    assert show_main(tmp_path / "missing.h5") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{tmp_path / 'missing.h5'}: -: file not found"]


# ------------------------------------------------------------------------------------------- .sto


def _parse_sto_strict(path):
    """Independent minimal parser of the version-1 storage format."""
    lines = path.read_text().splitlines()
    name = lines[0]
    assert lines[1] == "version=1"
    assert lines[2].startswith("nRows=") and lines[3].startswith("nColumns=")
    assert lines[4] in ("inDegrees=yes", "inDegrees=no")
    assert lines[5] == "endheader"
    cols = lines[6].split("\t")
    assert cols[0] == "time"
    rows = [list(map(float, ln.split("\t"))) for ln in lines[7:]]
    assert len(rows) == int(lines[2].split("=")[1])
    assert all(len(r) == len(cols) == int(lines[3].split("=")[1]) for r in rows)
    return name, lines[4].endswith("yes"), cols, np.array(rows)


@pytest.mark.parametrize("c", ["free", "fixed"])
def test_sto_export_parses(tmp_path, sols, c):
    sol = sols[c]
    paths = export_sto(sol, tmp_path, f"{c}_200W")
    assert [p.name for p in paths] == [f"{c}_200W_{t}.sto" for t in ("states", "controls", "joints", "muscles",
                                                                       "pedal")]
    tables = {}
    for p in paths:
        name, in_deg, cols, data = _parse_sto_strict(p)
        assert name == p.stem
        meta, labels, data2 = read_sto(p)
        assert labels == cols and np.array_equal(data, data2)
        t = data[:, 0]
        assert t[0] == 0 and np.all(np.diff(t) > 0)
        assert t[-1] == pytest.approx(sol.period_s, rel=1e-9)  # closing row at the end of the cycle
        assert len(t) == sol.nodes + 1
        tables[p.stem.rsplit("_", 1)[1]] = (in_deg, cols, data)
    in_deg, cols, data = tables["states"]
    assert in_deg
    assert np.allclose(data[:-1, cols.index("knee_angle_r")], np.degrees(sol["q"][1]), atol=1e-6)
    assert np.allclose(data[-1, 1:], data[0, 1:] + np.where(np.array(cols[1:]) == "crank_angle", 360, 0), atol=1e-6)
    _, cols, data = tables["controls"]
    assert cols[1:] == ["GMAX", "ILIO", "HAMS", "BFSH", "RF", "VAS", "GAS", "SOL", "TA"]
    _, cols, data = tables["pedal"]
    from toolkit.analysis.pedal import crank_length

    ft, tau = data[:, cols.index("pedal_tangential_force")], data[:, cols.index("crank_torque")]
    assert np.allclose(ft * crank_length(sol), tau, atol=1e-6 * np.abs(tau).max())
    px, py = data[:, cols.index("pedal_force_px")], data[:, cols.index("pedal_force_py")]
    assert np.allclose(np.hypot(px, py), crank_length(sol))


def test_sto_resampled_and_refusals(tmp_path, sols):
    paths = export_sto(sols["free"], tmp_path, "free", crank_step_deg=5.0)
    _, _, cols, data = _parse_sto_strict(paths[0])
    assert len(data) == 73 and np.allclose(data[:, 1], np.arange(0, 361, 5))
    with pytest.raises(ValueError, match="did not succeed"):
        export_sto(_failed(sols["free"]).unseal(), tmp_path, "bad")
    with pytest.raises(ValueError, match="stem"):
        export_sto(sols["free"], tmp_path, "a/b")
    assert safe_stem("condition=free/power_W=200") == "condition=free_power_W=200"


def test_sto_opensim_reads(tmp_path, sols):
    opensim = pytest.importorskip("opensim")
    for p in export_sto(sols["free"], tmp_path, "free"):
        table = opensim.TimeSeriesTable(str(p))
        assert table.getNumRows() == sols["free"].nodes + 1


def test_git_commit_is_silent_without_git(monkeypatch):
    monkeypatch.undo()  # the real function, but git itself made unavailable
    provenance.git_commit.cache_clear()

    def no_git(*a, **k):
        raise FileNotFoundError("git")

    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    assert provenance.git_commit() is None
    provenance.git_commit.cache_clear()


def test_experiment_config_is_stored_and_survives_point_writes(tmp_path):
    from toolkit.io import hdf5

    path = tmp_path / "exp.h5"
    hdf5.write_experiment(path, {"name": "exp", "intensity": {"values": [100.0, 200.0]}})
    assert hdf5.read_experiment(path) == {"name": "exp", "intensity": {"values": [100.0, 200.0]}}
    hdf5.write_experiment(path, {"name": "exp2"})
    assert hdf5.read_experiment(path)["name"] == "exp2"
