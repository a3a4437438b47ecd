"""Study reproductions: experiment files, the comparison logic, the quick end-to-end pipeline, and that the
committed results/ are exactly what their HDF5 files give (no re-solve)."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from toolkit.study import comparison as C
from toolkit.study import reproduce as R
from toolkit.study.config import ConfigError, load_experiment
from toolkit.study.metrics import heel_drop as H
from toolkit.study.registry import load_study, published_rows, studies, study, study_names

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
STUDIES_DIR = ROOT / "studies"


# ----------------------------------------------------------------------------------------------- definitions

def test_every_experiment_file_of_a_study_folder_is_a_variant_and_valid():
    for name, st in studies().items():
        assert st.directory == STUDIES_DIR / name
        files = {p.name for p in st.directory.glob("*.toml")} - {"study.toml"}
        assert {v.file for v in st.variants} == files
        for v in st.variants:
            exp = load_experiment(v.path, check_fit=True)
            assert exp.n_points() >= 1
            assert exp.output.dir.name == name  # `run` on a study file writes next to the study's results
            assert exp.name == st.experiment_name(v.role)
    assert not list((ROOT / "experiments").glob("study_*.toml"))  # the study files moved into their folders


@pytest.mark.parametrize("name", study_names())
def test_quick_overrides_validate(name):
    for v in study(name).variants:
        exp = R._load_variant(v, quick=True)
        assert exp.solver.nodes == R.QUICK_NODES
        assert 1 <= len(exp.points()) <= 6


def test_no_study_constant_in_the_metrics_modules():
    """Study constants live in study.toml: no experiment file name or study power/cadence pair in code."""
    pkg = ROOT / "toolkit" / "study"
    files = [*pkg.glob("metrics/*.py"), *pkg.glob("solvers/*.py"), pkg / "reproduce.py", pkg / "render.py",
             pkg / "readback.py"]
    code = "\n".join(p.read_text(encoding="utf-8") for p in files)
    for st in studies().values():
        for v in st.variants:
            assert f'"{v.file}"' not in code and f'"{Path(v.file).stem}"' not in code, v.file
    assert "(120.0, 60.0)" not in code and "0.711" not in code


def test_study_folder_errors_name_the_file_and_key(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "study.toml").write_text('[study]\nname = "other"\ntitle = "t"\nclaims = "c"\nquestion = "q"\n'
                                  'metrics = "trunk_angel"\n[[variants]]\nfile = "nope.toml"\nlabel = "x"\n'
                                  '[[published]]\nclaim = "C"\nquantity = "q"\nvalue = "abc"\ncriterion = "within:10"\n'
                                  'source = "s"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_study(d)
    text = "\n".join(e.value.problems)
    assert f"{d / 'study.toml'}: study.name: 'other' differs from its folder 'mine'" in text
    assert "study.metrics: no metrics module 'trunk_angel'; did you mean 'trunk_angle'?" in text
    assert "variants[0].file: 'nope.toml' not found" in text
    assert "published: [0] value: 'abc' is not a number" in text


def test_a_study_folder_of_ones_own_runs_from_its_path(tmp_path, capsys):
    """A researcher's study: a folder with study.toml and an experiment file, reproduced by path."""
    import shutil

    d = tmp_path / "trunk_angle"
    shutil.copytree(STUDIES_DIR / "trunk_angle", d)
    st = load_study(d)
    assert st.directory == d and st.evaluate is study("trunk_angle").evaluate
    assert R.reproduce_main([str(tmp_path / "nowhere")], out=str(tmp_path / "o")) == 2
    assert "unknown study" in capsys.readouterr().err


def test_heel_drop_fits_use_the_default_saddle_height(model):
    """Every heel-drop file solves the default fit at the same frozen height; the sweep is +-7.5/15 mm around it,
    the fit-compensated saddles are lower."""
    from toolkit.model.anthropometry import Rider
    from toolkit.model.bikefit import BikeFit
    from toolkit.model.leg import make_setup

    st = study("heel_drop")
    h = make_setup(model, Rider(), BikeFit()).saddle_height_m
    for v in st.variants:
        fits = dict(load_experiment(v.path).fits)
        if st.param("base_fit") in fits:
            assert fits[st.param("base_fit")].saddle_height_m == pytest.approx(h, abs=1e-6)
    fits = load_experiment(st.variant("saddle").path).fits
    sweep = sorted(round((f.saddle_height_m - h) * 1000, 1) for n, f in fits)
    assert sweep == [-15.0, -7.5, 7.5, 15.0]
    comp = [f.saddle_height_m for v in st.variants if v.role.startswith(st.param("compensated_prefix"))
            for _, f in load_experiment(v.path).fits]
    assert len(comp) == 3 and all(c < h for c in comp)  # fit compensation lowers the saddle


def test_heel_condition_labels_round_trip():
    for mode, d in (("relative", 10.0), ("shift", 5.0), ("absolute", 0.0), ("relative", 7.5)):
        assert H.parse_condition_label(H.condition_label(mode, d)) == (mode, d)
    assert H.condition_label("relative", 10.0) == "heel_drop10"
    assert H.condition_label("shift", 10.0) == "heel_drop_shift10"


def test_lt_baseline_riders_pose_identical_problems():
    exp = load_experiment(study("lactate_threshold").variant("baseline").path)
    assert any("poses the same problem" in w for w in exp.warnings)
    by_rider = {}
    for p in exp.points():
        by_rider.setdefault(p.rider.name, []).append(p.spec)
    a, b = by_rider["high_lt"], by_rider["low_lt"]
    assert a == b


def test_classic_files_hold_exactly_the_published_points():
    st = study("classic")
    e = load_experiment(st.variant("ericson").path).points()
    assert [(p.spec.power_W, p.spec.cadence_rpm) for p in e] == [(120.0, 60.0)]
    el = load_experiment(st.variant("elmer").path).points()
    lo, hi = st.param("elmer_range_W")
    assert {p.spec.cadence_rpm for p in el} == {90.0} and min(p.spec.power_W for p in el) == lo
    assert any(p.spec.power_W == hi for p in el)


def test_classic_one_head_is_the_ericson_point_with_the_other_force_set():
    """The sensitivity file differs from the Ericson file only in the force set."""
    st = study("classic")
    base = load_experiment(st.variant("ericson").path).points()
    sens = load_experiment(st.variant("sensitivity").path).points()
    assert len(base) == len(sens) == 1
    b, s = base[0], sens[0]
    assert b.spec == s.spec and b.fit == s.fit and b.condition_label == s.condition_label
    assert b.rider.max_force_set == "complete_groups" and s.rider.max_force_set == "pedaling_model"
    from dataclasses import replace
    assert replace(s.rider, max_force_set="complete_groups") == b.rider
    assert st.variant("sensitivity").label.startswith("SENSITIVITY")


# ----------------------------------------------------------------------------------------------- comparison logic

def test_published_rows_are_complete_and_cited():
    rows = published_rows()
    assert rows
    for p in rows:
        assert p.source and p.criterion and p.study in studies()
        C.parse_criterion(p.criterion)


@pytest.mark.parametrize("crit,model,pub,expect", [
    ("within:10", 35.0, 31.0, True), ("within:10", 45.0, 31.0, False), ("within:10", 21.0, 31.0, True),
    ("rel:30", 90.0, 74.4, True), ("rel:30", 33.3, 74.4, False),
    ("gt:1", 1.5, "increases", True), ("gt:1", 1.0, "increases", False),
    ("lt:-1", -1.5, "decreases", True), ("lt:-1", 0.2, "decreases", False),
    ("abs_gt:2", -3.0, "changes", True), ("abs_gt:2", 1.9, "changes", False),
    ("ratio:0.8:1.25", 1.0, 1.0, True), ("ratio:0.8:1.25", 1.3, 1.0, False), ("ratio:0.8:1.25", 0.8, 1.0, True),
    ("trend:10", 44.8, "rise", True), ("trend:10", 44.8, "flat", False), ("trend:10", -5.0, "flat", True),
    ("trend:1", -8.4, "fall", True), ("trend:1", -0.2, "fall", False),
])
def test_evaluate(crit, model, pub, expect):
    agrees, reason = C.evaluate(crit, model, pub)
    assert agrees is expect and reason


def test_evaluate_missing_and_regions():
    assert C.evaluate("within:10", None, 5.0)[0] is None
    assert C.evaluate("gt:0", math.nan, "x")[0] is None
    assert C.agree_regions("within:10", 31.0) == [(21.0, 41.0)]
    assert C.agree_regions("abs_gt:2", "changes") == [(-math.inf, -2.0), (2.0, math.inf)]
    assert C.agree_regions("trend:5", "flat") == [(-5.0, 5.0)]
    assert C.classify_trend(0.5, 1) == "flat" and C.classify_trend(2, 1) == "rise"
    assert C.relative_change_pct(100.0, 150.0) == pytest.approx(50.0)
    assert math.isnan(C.relative_change_pct(0.0, 1.0))


@pytest.mark.parametrize("bad", ["nope:1", "within", "within:x", "ratio:2:1", "within:-1", "trend:1:2"])
def test_bad_criteria(bad):
    with pytest.raises(ValueError):
        C.parse_criterion(bad)


def test_check_published_rejects_bad_rows():
    P = C.Published
    with pytest.raises(ValueError, match=r"\[0\] value"):
        C.check_published([P("s", "A", "q", "abc", "%", "within:10", "src")])
    with pytest.raises(ValueError, match="duplicate"):
        C.check_published([P("s", "A", "q", 1.0, "%", "within:10", "src"), P("s", "A", "q", 2.0, "%", "within:10", "src")])
    with pytest.raises(ValueError, match=r"\[0\] criterion"):
        C.check_published([P("s", "A", "q", 1.0, "%", "nope:1", "src")])
    assert C.published_value(31) == 31.0 and C.published_value(" rise ") == "rise"


def test_compare_and_markdown_on_synthetic_data():
    pubs = [C.Published("s", "A", "share", 31.0, "%", "within:10", "Paper 1986", "n"),
            C.Published("s", "B", "trend", "flat", "%", "trend:10", "Paper 2011", "")]
    vals = [C.ModelValue("s", "share", "free, 120 W", 45.0, detail="d1", why="cost recruits hip flexors"),
            C.ModelValue("s", "share", "fixed", 33.0),
            C.ModelValue("s", "trend", "HLT", None, missing="infeasible: largest drop 11.2 deg"),
            C.ModelValue("s", "model_only", "x", 1.5)]
    rows = C.compare(vals, pubs)
    assert [r.agrees for r in rows] == [False, True, None, None]
    assert rows[0].why == "cost recruits hip flexors" and rows[1].why == ""
    assert rows[2].reason.startswith("infeasible")
    md = C.rows_markdown(rows)
    lines = md.strip().splitlines()
    assert len(lines) == 2 + len(rows)
    assert "**no**" in lines[2] and "45.0 %" in lines[2] and "31.0 %" in lines[2]
    assert "why it may differ: cost recruits hip flexors" in lines[2]
    assert "| yes |" in lines[3]
    assert "n/a" in lines[4] and "infeasible" in lines[4]
    assert "model only" in lines[5]
    def cells(line):
        return len(re.findall(r"(?<!\\)\|", line))
    assert all(cells(line) == cells(lines[0]) for line in lines)


def test_disagreement_without_why_says_not_established_and_sensitivity_is_kept():
    pubs = [C.Published("s", "A", "share", 31.0, "%", "within:10", "Paper 1986", "n")]
    rows = C.compare([C.ModelValue("s", "share", "free", 50.0),
                      C.ModelValue("s", "share", "SENSITIVITY, x", 30.0, sensitivity=True)], pubs)
    assert rows[0].agrees is False and rows[0].why == C.NO_WHY
    assert rows[1].agrees is True and rows[1].why == "" and rows[1].sensitivity and not rows[0].sensitivity


def test_format_value():
    assert C.format_value(None) == "-"
    assert C.format_value("rise") == "rise"
    assert C.format_value(123.4, "W") == "123 W"
    assert C.format_value(5.244, "pp") == "5.24 pp"
    assert C.format_value(0.5) == "0.500"


# ----------------------------------------------------------------------------------------------- pipeline

@pytest.mark.parametrize("name", study_names())
def test_quick_reproduce_end_to_end(name, tmp_path, solver):
    """Each study's pipeline at 16 nodes on a few points: solve, HDF5, comparison table, figures, README."""
    info = R.reproduce_study(name, tmp_path, solver=solver, quick=True, progress=False, figures=(name == "heel_drop"))
    assert info["points"] >= 1
    sdir = tmp_path / name
    assert list(sdir.glob("*.h5"))
    # run's writer: the resolved (quick-overridden) config is stored as experiment_json, as `run` stores it
    from toolkit.io.hdf5 import read_experiment
    for v in study(name).variants:
        exp = R._load_variant(v, quick=True)
        assert read_experiment(sdir / f"{exp.name}.h5") == json.loads(json.dumps(exp.to_dict(), default=str))
    assert not [p for p in sdir.iterdir() if p.name.startswith(".")]  # no temporaries or journals left
    md = (sdir / "comparison.md").read_text(encoding="utf-8")
    assert "## Model vs published" in md
    assert md == R.render_study_markdown(name, tmp_path)
    readme = R.render_readme(tmp_path)
    assert "## Headline: model vs published" in readme and f"{name}/comparison.md" in readme
    if name != "heel_drop":
        return
    assert (tmp_path / "heel_drop" / "comparison.png").exists()
    from toolkit.io.hdf5 import read_failures
    fails = read_failures(tmp_path / "heel_drop" / "study_heel_drop.h5")
    assert any(f.stats.status == "Infeasible_Request" for f in fails.values())  # 40 deg: reported, not a result
    md = (tmp_path / "heel_drop" / "comparison.md").read_text(encoding="utf-8")
    assert "infeasible: a heel drop (relative) of 40 deg" in md and "largest feasible drop is" in md
    assert "### Robustness: does the sign hold?" in md and "GMAX +work (J)" in md
    assert "Metabolic power at the headline drop" in md and "pending" not in md
    extras = json.loads((tmp_path / "heel_drop" / "extras.json").read_text(encoding="utf-8"))
    assert extras["multistart"] and extras["largest_feasible_drop"]


def test_reproduce_main_bad_input(tmp_path, capsys):
    assert R.reproduce_main(["no_such_study"], out=str(tmp_path)) == 2
    assert "unknown study" in capsys.readouterr().err
    assert R.reproduce_main([], out=str(tmp_path)) == 2


# ----------------------------------------------------------------------------------------------- committed results

needs_results = pytest.mark.skipif(not (RESULTS / "README.md").exists(), reason="results/ not generated")


@needs_results
def test_committed_readme_equals_what_the_hdf5_files_give():
    assert (RESULTS / "README.md").read_text(encoding="utf-8") == R.render_readme(RESULTS)


@needs_results
@pytest.mark.parametrize("name", study_names())
def test_committed_study_tables_equal_what_the_hdf5_files_give(name):
    path = RESULTS / name / "comparison.md"
    assert path.exists(), f"run: python -m toolkit reproduce {name}"
    assert path.read_text(encoding="utf-8") == R.render_study_markdown(name, RESULTS)


@needs_results
def test_committed_results_are_full_runs_and_small():
    info = json.loads((RESULTS / R.RUN_INFO).read_text(encoding="utf-8"))
    assert set(info["studies"]) == set(study_names())
    assert not any(s.get("quick") for s in info["studies"].values())
    total = sum(p.stat().st_size for p in RESULTS.rglob("*") if p.is_file())
    assert total < 15e6


@needs_results
def test_headline_numbers_match_hdf5_shares():
    """Spot-check one headline number against the stored per-point attributes (independent of the renderer)."""
    import h5py

    with h5py.File(RESULTS / "heel_drop" / "study_heel_drop.h5", "r") as f:
        shares = {f["points"][n].attrs["key"]: 100 * f["points"][n].attrs["share_hip"] for n in f["points"]}
    free = shares["rider=reference/fit=default/cond=free/P=200W/cad=90"]
    hd = shares["rider=reference/fit=default/cond=heel_drop10/P=200W/cad=90"]
    readme = (RESULTS / "README.md").read_text(encoding="utf-8")
    m = re.search(r"`hip_share_change_pp` \| relative heel drop 10 deg vs free, same saddle \| ([-0-9.]+) pp", readme)
    assert m
    decimals = len(m.group(1).split(".")[1]) if "." in m.group(1) else 0  # as shown (3 significant digits)
    assert float(m.group(1)) == pytest.approx(hd - free, abs=0.5 * 10 ** -decimals + 1e-3)


@needs_results
def test_sensitivity_rows_are_labelled_and_kept_apart():
    """The one-head force set is reported beside the default rows (headline and page), labelled SENSITIVITY, and
    not counted in the default tallies nor listed as a default disagreement."""
    readme = (RESULTS / "README.md").read_text(encoding="utf-8")
    head = readme.split("## Headline: model vs published", 1)[1].split("## Where the model disagrees", 1)[0]
    cond = [ln.split(" | ")[3] for ln in head.splitlines() if ln.startswith("| classic |")]
    sens = [c for c in cond if "one-head force set" in c]
    assert sens and all(c.startswith("SENSITIVITY") for c in sens)
    assert any(c.startswith("free ankle") for c in cond)  # the default rows stay
    where = readme.split("## Where the model disagrees", 1)[1].split("## Files", 1)[0]
    assert "(SENSITIVITY, one-head force set:" not in where
    rows = R.study_rows(R.load_study_data("classic", RESULTS))
    assert any(r.sensitivity for r in rows) and any(not r.sensitivity for r in rows)
    assert all(r.label.startswith("SENSITIVITY") for r in rows if r.sensitivity)
    main = [r for r in rows if not r.sensitivity]
    m = re.search(r"All comparison rows of the default model: (\d+) agree, (\d+) disagree", readme)
    all_main = [r for n in study_names() for r in R.study_rows(R.load_study_data(n, RESULTS)) if not r.sensitivity]
    assert m and int(m.group(1)) == sum(1 for r in all_main if r.agrees is True)
    assert int(m.group(2)) == sum(1 for r in all_main if r.agrees is False)
    assert main


@needs_results
def test_no_stale_explanations_in_results():
    """Explanations that the current model contradicts must not come back (they were written for an earlier
    model; the texts are now computed from the solutions)."""
    text = "".join(p.read_text(encoding="utf-8") for p in RESULTS.rglob("*.md"))
    for stale in ("recruits the hip flexor (ILIO) in the upstroke", "at small drops takes share from the hip",
                  "much more positive (and negative) work than the crank needs",
                  "knee extensors take most of the added work", "RF overstretched: artefact"):
        assert stale not in text


@needs_results
def test_heel_drop_page_reports_spread_limits_answer_and_sensitivity():
    data = R.load_study_data("heel_drop", RESULTS)
    spread = data.extras["multistart"]
    assert all(f"{r.experiment}/{r.key}" in spread for r in data.records)
    rows = R.study_rows(data)
    sens = [r for r in rows if r.sensitivity]
    assert sens and all(r.label.startswith("SENSITIVITY, absolute") for r in sens)
    md = (RESULTS / "heel_drop" / "comparison.md").read_text(encoding="utf-8")
    assert "**Claim A, the model's answer.**" in md and "**Claim E.**" in md
    assert "on a range limit or the bound (crank deg)" in md


def test_readme_findings_block_is_generated_from_the_committed_results():
    """The top-level README's findings paragraph is generated from results/, never typed by hand."""
    from toolkit.study.findings import committed_block, render_findings

    assert committed_block(ROOT / "README.md") == render_findings(ROOT / "results")


def test_an_old_experiments_path_of_a_study_file_says_where_it_moved(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_experiment(ROOT / "experiments" / "study_trunk_angle.toml")
    assert "study files moved to studies/<name>/: trunk_angle/study_trunk_angle.toml" in e.value.problems[0]


def test_validate_checks_a_study_folder(tmp_path, capsys):
    from toolkit.cli import main

    assert main(["validate", str(STUDIES_DIR / "trunk_angle")]) == 0
    assert "OK " in capsys.readouterr().out
    d = tmp_path / "broken"
    d.mkdir()
    (d / "study.toml").write_text('[study]\nname = "broken"\n', encoding="utf-8")
    assert main(["validate", str(d / "study.toml")]) == 2
    err = capsys.readouterr().err
    assert f"{d / 'study.toml'}: study.title: missing" in err and "variants: missing or empty" in err


def test_a_study_of_ones_own_with_its_metrics_in_its_folder(tmp_path, solver):
    """No change to the package: study.toml names a metrics.py next to it; reproduce runs it from the folder."""
    d = tmp_path / "my_trunk"
    d.mkdir()
    exp = (STUDIES_DIR / "trunk_angle" / "study_trunk_angle.toml").read_text(encoding="utf-8")
    (d / "my_trunk.toml").write_text(exp.replace('name = "study_trunk_angle"', 'name = "my_trunk"'),
                                     encoding="utf-8")
    (d / "metrics.py").write_text(
        "from toolkit.study import comparison as C\n"
        "from toolkit.study.base import Evaluation, shares_pct\n\n"
        "def evaluate(data):\n"
        "    o, c = data.one(fit='hip_open10'), data.one(fit='hip_closed10')\n"
        "    v = shares_pct(o)['hip'] - shares_pct(c)['hip']\n"
        "    return Evaluation([C.ModelValue(data.name, 'hip_share_change_pp', 'open - closed', v)])\n",
        encoding="utf-8")
    (d / "study.toml").write_text(
        '[study]\nname = "my_trunk"\ntitle = "Mine"\nclaims = "C"\nquestion = "Does the hip share change?"\n'
        'metrics = "metrics.py"\n\n[[variants]]\nfile = "my_trunk.toml"\nlabel = "trunk +-10 deg"\n\n'
        '[[published]]\nclaim = "C"\nquantity = "hip_share_change_pp"\nvalue = "changes"\nunit = "pp"\n'
        'criterion = "abs_gt:2"\nsource = "my notes"\n', encoding="utf-8")
    st = load_study(d)
    info = R.reproduce_study(st, tmp_path / "out", solver=solver, quick=True, progress=False, figures=False)
    assert info["points"] == 3
    rows = R.study_rows(R.load_study_data(st, tmp_path / "out"))
    assert len(rows) == 1 and rows[0].model is not None and rows[0].agrees is not None
    (d / "metrics.py").write_text("raise RuntimeError('broken')\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"metrics.py cannot be loaded \(RuntimeError: broken\)"):
        load_study(d)
