"""The model check (check-model), the solution summary (solve --json) and the multi-start spread."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from toolkit.analysis.pedal import crank_length, tangential_force
from toolkit.analysis.power import cycle_summary
from toolkit.analysis.summary import (ACTION_KEYS, SUMMARY_KEYS, multistart_spread, near_optimal_solutions,
                                      solution_summary)
from toolkit.check.reference import (AGREES, DOES_NOT, NO_DATA, ReferenceRow, load_park2022, load_reference_rows,
                                     verdict)
from toolkit.model.leg import JOINTS
from toolkit.model.muscles import MUSCLE_NAMES
from toolkit.ocp.problem import ProblemSpec, SolverSpec

NODES = 12


@pytest.fixture(scope="module")
def free_sol(solver, setup):
    sol = solver.solve(setup, ProblemSpec(power_W=200, solver=SolverSpec(nodes=NODES)))
    assert sol.success
    return sol


@pytest.fixture(scope="module")
def multi_sol(solver, setup):
    sol = solver.solve(setup, ProblemSpec(power_W=200, solver=SolverSpec(nodes=NODES, multistart=3)))
    assert sol.success
    return sol


# ------------------------------------------------------------------------------------------- reference data


def test_every_reference_row_is_cited_and_has_a_criterion():
    rows = load_reference_rows()
    assert len(rows) > 20
    for r in rows:
        assert r.citation.strip() and r.citation_key.strip() and r.derivation.strip(), r.id
        if r.kind != "no_data":
            assert r.citation_key != "none", r.id
            assert r.criterion_text() != "-", r.id
    assert {r.citation_key for r in rows} >= {"ericson1986", "park2022", "muraoka2001", "leirdal2011"}


def test_park_data_conventions_reproduce_its_derived_power_and_effectiveness():
    """Physics of the extracted data: 2 legs x mean tangential force x crank length x omega is the derived power,
    and the impulse ratio is the derived index of effectiveness (both from the 1-deg data; here 5-deg samples)."""
    p = load_park2022()
    ft, fres = p.tangential[:-1], p.resultant[:-1]
    omega = p.cadence_rpm * 2 * math.pi / 60
    assert 2 * ft.mean() * p.crank_length_m * omega == pytest.approx(p.power_W, rel=0.03)
    assert ft.sum() / fres.sum() == pytest.approx(0.50, abs=0.02)
    assert np.all(p.fy_mean < 0)  # the foot pushes down on the pedal all round (force of the foot, y up)
    assert p.tangential[np.argmin(np.abs(p.crank_angle_deg - 90))] > 150  # drives the crank in the downstroke


# ------------------------------------------------------------------------------------------------- verdicts


def _row(kind, **kw):
    base = dict(id="x", quantity="q", condition="c", kind=kind, unit="1", citation_key="k", citation="c",
                derivation="d")
    return ReferenceRow(**(base | kw))


def test_verdict_applies_each_criterion():
    within = _row("within", low=1.0, high=2.0)
    assert verdict(within, 1.5) == AGREES and verdict(within, 1.0) == AGREES and verdict(within, 2.01) == DOES_NOT
    open_hi = _row("within", low=0.0)
    assert verdict(open_hi, 1e9) == AGREES and verdict(open_hi, -1e-9) == DOES_NOT
    tol = _row("abs_tol", value=31.0, tol=10.0)
    assert verdict(tol, 41.0) == AGREES and verdict(tol, 20.9) == DOES_NOT
    rel = _row("rel_tol", value=200.0, tol=0.2)
    assert verdict(rel, 160.0) == AGREES and verdict(rel, 241.0) == DOES_NOT
    eq = _row("equals", value="hip_extension")
    assert verdict(eq, "hip_extension") == AGREES and verdict(eq, "knee_extension") == DOES_NOT
    # no data: no reference number, or no model value; a label where a number is needed does not agree
    assert verdict(_row("no_data"), 5.0) == NO_DATA
    assert verdict(tol, None) == NO_DATA and verdict(tol, float("nan")) == NO_DATA
    assert verdict(within, "never") == DOES_NOT
    with pytest.raises(ValueError):
        _row("within")
    with pytest.raises(ValueError):
        _row("abs_tol", value=1.0)


# -------------------------------------------------------------------------------------- summary and spread


def test_summary_contract(free_sol):
    out = solution_summary(free_sol)
    assert tuple(out) == SUMMARY_KEYS
    json.dumps(out)
    assert out["success"] is True and isinstance(out["iterations"], int) and out["nodes"] == NODES
    assert sum(out["joint_work_share"].values()) == pytest.approx(1.0)
    assert set(out["joint_work_share_by_action"]) == set(ACTION_KEYS)
    assert sum(out["joint_work_share_by_action"].values()) == pytest.approx(1.0)
    assert sum(out["net_joint_work_share"].values()) == pytest.approx(1.0)
    assert set(out["muscle_positive_work_J"]) == set(MUSCLE_NAMES)
    assert set(out["peak_joint_moment_Nm"]) == set(ACTION_KEYS)
    assert all(v >= 0 for v in out["peak_joint_moment_Nm"].values())
    lo, hi = out["sole_angle_range_deg"]
    assert lo <= hi
    assert 0 < out["index_of_effectiveness"] <= 1 and out["peak_pedal_force_N"] > 0
    assert out["multistart_spread_pp"] == {"hip": 0.0, "knee": 0.0, "ankle": 0.0}
    assert out["cost"] == pytest.approx(free_sol.stats.objective)


def test_work_shares_are_consistent_with_the_work_totals(free_sol):
    """Physics, not code: each joint's action shares add up to its share of positive work; net shares times the
    sum of the net works give each joint's net work, and that sum is the crank work of the leg (energy balance)."""
    s = solution_summary(free_sol)
    cs = cycle_summary(free_sol)
    for j in JOINTS:
        a, b = {"hip": ("hip_extension", "hip_flexion"), "knee": ("knee_extension", "knee_flexion"),
                "ankle": ("ankle_plantarflexion", "ankle_dorsiflexion")}[j]
        by = s["joint_work_share_by_action"]
        assert by[a] + by[b] == pytest.approx(s["joint_work_share"][j], abs=1e-12)
    net_total = sum(cs.net_work_J.values())
    for j in JOINTS:
        assert s["net_joint_work_share"][j] * net_total == pytest.approx(cs.net_work_J[j])
    assert net_total == pytest.approx(cs.crank_work_J, rel=0.02)


def test_tangential_pedal_force_times_crank_length_is_the_crank_torque(free_sol):
    ft = tangential_force(free_sol)
    tau = free_sol["crank_torque"]
    assert np.max(np.abs(ft * crank_length(free_sol) - tau)) < 1e-3 * np.max(np.abs(tau))


def test_spread_is_zero_for_one_start_and_covers_near_optimal_starts(free_sol, multi_sol):
    assert free_sol.start_solutions == []
    assert multistart_spread(free_sol) == {j: 0.0 for j in JOINTS}
    near = near_optimal_solutions(multi_sol)
    best = min(s.stats.objective for s in near)
    assert multi_sol in near and all(s.stats.objective <= best * 1.005 + 1e-15 for s in near)
    spread = multistart_spread(multi_sol)
    shares = [cycle_summary(s).joint_work_share for s in near]
    for j in JOINTS:
        assert spread[j] == pytest.approx(100 * (max(x[j] for x in shares) - min(x[j] for x in shares)))


# ------------------------------------------------------------------------------------------------ the CLI


def _main_json(capsys, *args):
    from toolkit.cli import main

    rc = main(list(args))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    return rc, json.loads(lines[0])


@pytest.mark.parametrize("args, flag", [
    (("--saddle-height-m", "nan"), "--saddle-height-m"),
    (("--crank-length-m", "inf"), "--crank-length-m"),
    (("--power-W", "abc"), "--power-W"),
    (("--power-W", "0"), "--power-W"),
    (("--body-mass-kg", "500"), "--body-mass-kg"),
    (("--condition", "prescribed"), "--sole-profile"),
    (("--nodes", "7"), "--nodes"),
])
def test_solve_json_bad_input_is_one_json_line_naming_the_flag(capsys, args, flag):
    rc, out = _main_json(capsys, "solve", *args, "--json")
    assert rc == 2 and out["success"] is False and flag in out["error"]
    assert set(SUMMARY_KEYS) <= set(out)


def test_solve_json_with_fit_flags_and_sole_profile(capsys, tmp_path):
    rc, out = _main_json(capsys, "solve", "--nodes", "10", "--trunk-angle-deg", "50", "--crank-length-m", "0.17",
                         "--height-m", "1.8", "--body-mass-kg", "75", "--json")
    assert rc == 0 and out["success"], out
    assert tuple(out) == SUMMARY_KEYS
    prof = tmp_path / "sole.csv"
    prof.write_text("crank_angle_deg,sole_angle_deg\n" + "".join(
        f"{a},{25 + 15 * math.sin(math.radians(a - 180)):.3f}\n" for a in range(0, 360, 30)))
    rc, out = _main_json(capsys, "solve", "--condition", "prescribed", "--sole-profile", str(prof), "--nodes", "10",
                         "--json")
    assert out["condition"] == "prescribed" and rc in (0, 1)
    rc, out = _main_json(capsys, "solve", "--sole-profile", str(tmp_path / "missing.csv"), "--condition",
                         "prescribed", "--json")
    assert rc == 2 and "--sole-profile" in out["error"]


# ---------------------------------------------------------------------------------------- check end to end


def test_check_model_writes_page_csv_and_figures(tmp_path, solver):
    from toolkit.check.report import check_model

    changes = tmp_path / "changes.toml"
    changes.write_text('[[condition]]\npower_W = 200.0\ncadence_rpm = 90.0\nankle = "fixed"\n\n'
                       '[[variant]]\nlabel = "cubed"\nreason = "test"\ncitation = "test"\ncost = { exponent = 3 }\n')
    out = tmp_path / "mc"
    keys = {"120W_60rpm_free", "200W_90rpm_free", "300W_90rpm_free", "park2022_free"}
    res = check_model(out, nodes=10, multistart=1, solver=solver, progress=lambda *a: None, changes_file=changes,
                      keys=keys)
    page = (out / "README.md").read_text()
    assert "agree" in page and "Ericson" in page and "![" in page
    assert "## Diagnostics" in page and res.diagnostics.upstroke and res.diagnostics.posture is not None
    rows = list(csv.DictReader(open(out / "model_check.csv")))
    assert len(rows) == len(load_reference_rows()) == len(res.rows)
    assert all(r["verdict"] in (AGREES, DOES_NOT, NO_DATA) and r["citation"] for r in rows)
    # rows that have both a model value and a reference get a real verdict; unsolved conditions give no data
    solved = {k for k, s in res.solutions.items() if s.success}
    for r in res.rows:
        if r["condition"] in solved and r["reference"] != "-" and r["model_value"] is not None:
            assert r["verdict"] != NO_DATA, r["id"]
        if r["condition"] not in keys:
            assert r["verdict"] == NO_DATA and "condition not solved" in r["derivation"], r["id"]
    figs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert {"fig_kinematics.png", "fig_pedal_force.png", "fig_joint_moments.png", "fig_activation_emg.png",
            "fig_fibre_length.png", "fig_work_by_action.png", "fig_shares_ericson.png", "fig_shares_joints_ericson.png"} <= set(figs)
    mc = (out / "model_changes.md").read_text()
    assert "cubed" in mc and "default" in mc and "fixed ankle" in mc


def test_model_changes_file_is_checked(tmp_path):
    from toolkit.check.variants import load_model_changes

    ch = load_model_changes()
    assert len(ch.variants) >= 2 and all(v.citation for v in ch.variants)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[variant]]\nlabel = "x"\nreason = "r"\ncitation = "c"\nbogus = 1\n')
    with pytest.raises(ValueError, match=r"variant\[0\].*bogus"):
        load_model_changes(bad)


def test_variant_file_rejects_unknown_top_level_keys(tmp_path):
    from toolkit.check.variants import load_model_changes

    bad = tmp_path / "changes.toml"
    bad.write_text('power_W = 200.0\n\n[[variant]]\nlabel = "x"\nreason = "r"\ncitation = "c"\n')
    with pytest.raises(ValueError, match="unknown top-level keys"):
        load_model_changes(bad)
    assert len(load_model_changes().conditions) == 2  # the packaged file: 200 W / 90 rpm and 120 W / 60 rpm
