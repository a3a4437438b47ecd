"""Experiment configs: schema, validation messages, shipped experiments, sweep points, overrides, docs.

Fast: nothing is solved (only two tests place the rider on the bike, ~1 s)."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from toolkit.study import config as cfg
from toolkit.study.config import (MAX_POINTS, SCHEMA, ConfigError, load_experiment, parse_override,
                                  validate_main)

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"

BASE = """
[experiment]
name = "t"

[rider]
profile = "reference"

[fit]

[conditions]
ankle = ["free"]

[intensity]
unit = "W"
values = [200.0]
cadence_rpm = [90.0]

[output]
dir = "out"
"""


def write(tmp_path: Path, text: str | bytes, name: str = "exp.toml") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def edit(section: str, body: str, base: str = BASE) -> str:
    """BASE with `body` inserted at the top of [section] (section created if absent)."""
    head = f"[{section}]\n"
    if head in base:
        return base.replace(head, head + body + "\n", 1)
    return base + "\n" + head + body + "\n"


# (id, config text, overrides, key expected in a problem line, extra text expected in that line)
BAD = [
    ("toml_syntax", "[experiment\nname = 'x'\n", (), "-", "line 1"),
    ("toml_syntax_value", BASE.replace('unit = "W"', "unit = W"), (), "-", "TOML syntax error"),
    ("non_utf8", b'[experiment]\nname = "caf\xe9"\n', (), "-", "UTF-8"),
    ("unknown_key", edit("rider", "hieght_m = 1.8"), (), "rider.hieght_m", "height_m"),
    ("unknown_section", BASE + "\n[ridr]\nmass_kg = 70\n", (), "ridr", "rider"),
    ("key_in_wrong_section", edit("rider", "crank_length_m = 0.17"), (), "rider.crank_length_m", "[fit]"),
    ("top_level_key", "height_m = 1.8\n" + BASE, (), "height_m", "[rider]"),
    ("bool_for_number", edit("rider", "height_m = true"), (), "rider.height_m", "boolean"),
    ("string_for_number", BASE.replace("cadence_rpm = [90.0]", 'cadence_rpm = "90"'), (), "intensity.cadence_rpm",
     "number"),
    ("nan", edit("rider", "mass_kg = nan"), (), "rider.mass_kg", "finite"),
    ("inf", BASE.replace("values = [200.0]", "values = [200.0, inf]"), (), "intensity.values[1]", "finite"),
    ("negative_power", BASE.replace("values = [200.0]", "values = [150, -20]"), (), "intensity.values[1]",
     "out of range"),
    ("power_too_high", BASE.replace("values = [200.0]", "values = [1600]"), (), "intensity.values[0]", "1500"),
    ("odd_nodes", edit("solver", "nodes = 41"), (), "solver.nodes", "odd"),
    ("nodes_range", edit("solver", "nodes = 4"), (), "solver.nodes", "8 to 400"),
    ("nodes_float", edit("solver", "nodes = 40.5"), (), "solver.nodes", "integer"),
    ("tol_zero", edit("solver", "tol = 0.0"), (), "solver.tol", "> 0"),
    ("too_large_sweep", BASE.replace("values = [200.0]", "values = [" + ", ".join(str(100 + i) for i in range(60)) + "]")
     .replace("cadence_rpm = [90.0]", "cadence_rpm = [" + ", ".join(str(40 + i) for i in range(40)) + "]"),
     (), "intensity.values", str(MAX_POINTS)),
    ("bad_sex", edit("rider", 'sex = "mal"'), (), "rider.sex", "male"),
    ("unknown_profile", BASE.replace('profile = "reference"', 'profile = "hig_lt"'), (), "rider.profile", "high_lt"),
    ("rider_and_riders", BASE + '\n[[riders]]\nprofile = "low_lt"\n', (), "riders", "both"),
    ("riders_as_table", BASE.replace("[rider]", "[riders]"), (), "riders", "[[riders]]"),
    ("pct_map_without_map", BASE.replace('unit = "W"', 'unit = "pct_map"').replace("[200.0]", "[80]"), (),
     "rider.map_W", "pct_map"),
    ("pct_lt_without_lt", BASE.replace('profile = "reference"', "height_m = 1.8\nvo2max_L_min = 4.5\n"
                                       "gross_efficiency = 0.2").replace('unit = "W"', 'unit = "pct_lt"')
     .replace("[200.0]", "[90]"), (), "rider.lactate_threshold_pct_vo2max", "pct_lt"),
    ("pct_converts_too_high", BASE.replace('profile = "reference"', 'profile = "reference"\nmap_W = 800')
     .replace('unit = "W"', 'unit = "pct_map"').replace("[200.0]", "[190]"), (), "intensity.values[0]", "1520 W"),
    ("pct_value_too_high", BASE.replace('unit = "W"', 'unit = "pct_vo2max"').replace("[200.0]", "[250]"), (),
     "intensity.values[0]", "200"),
    ("unknown_unit", BASE.replace('unit = "W"', 'unit = "watts"'), (), "intensity.unit", "pct_vo2max"),
    ("prescribed_without_profile", BASE.replace('ankle = ["free"]', 'ankle = ["free", "prescribed"]'), (),
     "conditions.prescribed_sole_deg", "required"),
    ("prescribed_not_increasing", BASE.replace('ankle = ["free"]', 'ankle = ["prescribed"]\nprescribed_sole_deg = '
                                               '[[0, 10], [90, 5], [80, 0], [270, 5], [300, 8]]'), (),
     "conditions.prescribed_sole_deg[2][0]", "not after"),
    ("prescribed_too_few", BASE.replace('ankle = ["free"]', 'ankle = ["prescribed"]\nprescribed_sole_deg = '
                                        '[[0, 10], [180, 5]]'), (), "conditions.prescribed_sole_deg", "at least 4"),
    ("unknown_condition", BASE.replace('ankle = ["free"]', 'ankle = ["free", "heeldrop"]'), (),
     "conditions.ankle[1]", "heel_drop"),
    ("empty_conditions", BASE.replace('ankle = ["free"]', "ankle = []"), (), "conditions.ankle", "empty"),
    ("heel_drop_too_big", BASE.replace('ankle = ["free"]', 'ankle = ["heel_drop"]\nheel_drop_deg = [10, 50]'), (),
     "conditions.heel_drop_deg[1]", "0 to 45"),
    ("window_reversed", BASE.replace('ankle = ["free"]', 'ankle = ["heel_drop"]\nheel_drop_window_deg = [135, 45]'),
     (), "conditions.heel_drop_window_deg", "start"),
    ("fixed_ankle_out_of_range", BASE.replace('ankle = ["free"]', 'ankle = ["fixed"]\nfixed_ankle_deg = 45'), (),
     "conditions.fixed_ankle_deg", "-40 to 30"),
    ("duplicate_cadence", BASE.replace("cadence_rpm = [90.0]", "cadence_rpm = [90, 90.0]"), (),
     "intensity.cadence_rpm[1]", "duplicate"),
    ("duplicate_beside_bad_value", BASE.replace('ankle = ["free"]', 'ankle = ["free", 3, "free"]'), (),
     "conditions.ankle[2]", "duplicate"),
    ("range_limited_reversed", BASE.replace('ankle = ["free"]', 'ankle = ["range_limited"]\nankle_range_deg = [10, -10]'),
     (), "conditions.ankle_range_deg", "low 10 is above high -10"),
    ("absolute_without_height", edit("fit", 'saddle_rule = "absolute"'), (), "fit.saddle_height_m", "required"),
    ("height_without_absolute", edit("fit", "saddle_height_m = 0.72"), (), "fit.saddle_height_m", "no effect"),
    ("setback_and_angle", edit("fit", "setback_m = 0.1\nseat_tube_angle_deg = 73"), (), "fit.setback_m", "both"),
    ("crank_too_long", edit("fit", "crank_length_m = 0.3"), (), "fit.crank_length_m", "0.1 to 0.22"),
    ("duplicate_riders", BASE.replace('[rider]\nprofile = "reference"', '[[riders]]\nprofile = "high_lt"\n\n'
                                      '[[riders]]\nprofile = "high_lt"'), (), "riders[1].name", "duplicate"),
    ("rider_without_name", BASE.replace('[rider]\nprofile = "reference"', '[[riders]]\nprofile = "high_lt"\n\n'
                                        '[[riders]]\nheight_m = 1.9'), (), "riders[1].name", "missing"),
    ("fit_without_name", BASE.replace("[fit]\n", "[[fits]]\ncrank_length_m = 0.17\n"), (), "fits[0].name",
     "missing"),
    ("duplicate_fits", BASE.replace("[fit]\n", '[[fits]]\nname = "a"\n\n[[fits]]\nname = "a"\n'), (),
     "fits[1].name", "duplicate"),
    ("fit_and_fits", BASE + '\n[[fits]]\nname = "a"\n', (), "fits", "both"),
    ("unknown_muscle_weight", edit("cost", "weights = { VASTI = 2.0 }"), (), "cost.weights.VASTI", "VAS"),
    ("negative_weight", edit("cost", "weights = { VAS = -1.0 }"), (), "cost.weights.VAS", "0 to 1000"),
    ("bad_exponent", edit("cost", "exponent = 4"), (), "cost.exponent", "2, 3"),
    ("muscle_scale_zero", edit("rider", "muscle_force_scale = { VAS = 0.0 }"), (), "rider.muscle_force_scale.VAS",
     "> 0"),
    ("bad_name", BASE.replace('name = "t"', 'name = "my exp"'), (), "experiment.name", "[A-Za-z0-9_-]+"),
    ("datetime_value", edit("experiment", "description = 1979-05-27"), (), "experiment.description", "string"),
    ("bool_as_string", edit("output", 'figures = "yes"'), (), "output.figures", "true, false"),
    # --set overrides
    ("set_unknown_key", BASE, ("solver.nodez=40",), "solver.nodez", "nodes"),
    ("set_unknown_section", BASE, ("solvr.nodes=40",), "solvr.nodes", "solver"),
    ("set_bad_value", BASE, ("solver.nodes=41",), "solver.nodes", "odd"),
    ("set_no_equals", BASE, ("solver.nodes",), "solver.nodes", "KEY=VALUE"),
    ("set_index_out_of_range", BASE.replace('[rider]\nprofile = "reference"', '[[riders]]\nprofile = "high_lt"'),
     ("riders[3].mass_kg=80",), "riders[3].mass_kg", "no entry 3"),
    ("set_list_without_index", BASE.replace('[rider]\nprofile = "reference"', '[[riders]]\nprofile = "high_lt"'),
     ("riders.mass_kg=80",), "riders.mass_kg", "index"),
]


def _problem_lines(exc: ConfigError) -> list[str]:
    assert exc.problems, "ConfigError without problems"
    for line in exc.problems:
        assert line.count(": ") >= 2, line
        assert "Traceback" not in line
    return exc.problems


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_config(tmp_path, case):
    cid, text, overrides, key, extra = case
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load_experiment(p, overrides)
    lines = _problem_lines(ei.value)
    origin = "--set" if overrides and (cid.startswith("set_")) else str(p)
    hits = [ln for ln in lines if ln.startswith(f"{origin}: {key}: ")]
    assert hits, f"no problem for {origin}: {key}: in\n" + "\n".join(lines)
    assert any(extra in ln for ln in hits), f"{extra!r} not in\n" + "\n".join(hits)


def test_at_least_30_bad_configs():
    assert len({c[0] for c in BAD}) >= 30


def test_missing_file(tmp_path):
    p = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as ei:
        load_experiment(p)
    assert ei.value.problems == [f"{p}: -: no such file (allowed: a readable UTF-8 TOML file)"]


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ConfigError) as ei:
        load_experiment(tmp_path)
    assert ei.value.problems[0].startswith(f"{tmp_path}: -: is a directory")


def test_toml_error_reports_line_and_column(tmp_path):
    p = write(tmp_path, '[experiment]\nname = "x"\n\n[solver]\nnodes = = 4\n')
    with pytest.raises(ConfigError) as ei:
        load_experiment(p)
    (line,) = ei.value.problems
    assert line.startswith(f"{p}: -: TOML syntax error") and "line 5" in line and "column" in line


def test_non_utf8_position(tmp_path):
    p = write(tmp_path, b'[experiment]\nname = "x"\ndescription = "\xff"\n')
    with pytest.raises(ConfigError) as ei:
        load_experiment(p)
    assert "line 3, column 16" in ei.value.problems[0]


def test_all_problems_collected(tmp_path):
    text = (BASE.replace('profile = "reference"', 'profile = "reference"\nheight_m = true\nmass_kg = nan')
            .replace("values = [200.0]", "values = [-1, 200, 99999]") + "\n[solver]\nnodes = 41\nfoo = 1\n")
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load_experiment(p, ["cost.kind=energy"])
    keys = [ln.split(": ")[1] for ln in ei.value.problems]
    for k in ("rider.height_m", "rider.mass_kg", "intensity.values[0]", "intensity.values[2]", "solver.nodes",
              "solver.foo", "cost.kind"):
        assert k in keys, (k, ei.value.problems)
    assert any(ln.startswith("--set: cost.kind: ") for ln in ei.value.problems)
    assert str(ei.value).count("\n") == len(ei.value.problems) - 1


def _unwritable_dir(tmp_path: Path) -> str:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if not os.access(ro, os.W_OK):
        return str(ro / "sub" / "out")
    # running as root: permissions are ignored; /proc/1 is not writable even for root
    if os.path.isdir("/proc/1") and not os.access("/proc/1", os.W_OK):
        return "/proc/1/toolkit_out"
    pytest.skip("no unwritable directory available (running as root without /proc)")


def test_unwritable_output_dir(tmp_path):
    out = _unwritable_dir(tmp_path)
    p = write(tmp_path, BASE.replace('dir = "out"', f'dir = "{out}"'))
    try:
        with pytest.raises(ConfigError) as ei:
            load_experiment(p)
        assert any(ln.startswith(f"{p}: output.dir: ") and "not writable" in ln for ln in ei.value.problems)
        assert not Path(out).exists()
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_output_dir_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    p = write(tmp_path, BASE.replace('dir = "out"', 'dir = "afile/sub"'))
    with pytest.raises(ConfigError) as ei:
        load_experiment(p)
    assert any(ln.startswith(f"{p}: output.dir: ") and "not a directory" in ln for ln in ei.value.problems)


def test_validation_creates_nothing(tmp_path):
    p = write(tmp_path, BASE.replace('dir = "out"', 'dir = "a/b/c"'))
    exp = load_experiment(p)
    assert exp.output.dir == tmp_path / "a" / "b" / "c"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["exp.toml"]


@pytest.mark.parametrize("case", [BAD[0], BAD[2], BAD[3], BAD[13], BAD[-4]], ids=lambda c: c[0])
def test_validate_main_bad(tmp_path, capsys, case):
    cid, text, overrides, key, _ = case
    p = write(tmp_path, text)
    assert validate_main(str(p), overrides) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and all(": " in ln for ln in lines)
    assert any(f": {key}: " in ln for ln in lines)


def test_validate_main_missing_and_dir(tmp_path, capsys):
    assert validate_main(str(tmp_path / "missing.toml"), []) == 2
    assert validate_main(str(tmp_path), None) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2


def test_validate_main_places_rider_on_fit(tmp_path, capsys):
    """A saddle the leg cannot reach is caught by `validate` (check_fit), at the fit's key."""
    p = write(tmp_path, edit("fit", 'saddle_rule = "absolute"\nsaddle_height_m = 1.05'))
    load_experiment(p)  # the schema accepts it...
    assert validate_main(str(p), []) == 2  # ...placing the rider does not
    err = capsys.readouterr().err
    assert f"{p}: fit" in err and "reference" in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------------------------
# Shipped experiments
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,n", [("default", 1), ("ankle_conditions", 9), ("intensity_sweep", 12)])
def test_shipped_experiments(name, n):
    exp = load_experiment(EXPERIMENTS / f"{name}.toml")
    assert exp.name == name
    pts = exp.points()
    assert len(pts) == n == exp.n_points()
    keys = [p.key for p in pts]
    assert len(set(keys)) == len(keys)
    for p in pts:
        assert "/" in p.key and " " not in p.key
        assert p.spec.solver.nodes == 40 and p.spec.cadence_rpm == 90.0
        assert p.labels["rider"] == p.rider.name and p.labels["fit"] == p.fit_name
        assert p.labels["power_W"] == p.spec.power_W


def test_validate_main_shipped(capsys):
    assert validate_main(str(EXPERIMENTS / "default.toml"), []) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK ") and "1 point" in out


def test_default_experiment():
    exp = load_experiment(EXPERIMENTS / "default.toml")
    (p,) = exp.points()
    assert p.key == "rider=reference/fit=default/cond=free/P=200W/cad=90"
    assert p.spec.condition == "free" and p.spec.power_W == 200.0 and p.intensity_label == "200 W"
    assert p.rider.name == "reference" and p.rider.height_m == 1.75 and p.rider.mass_kg == 70.0
    assert exp.result_file == (ROOT / "out" / "default.h5")  # runs never write into the committed results/


def test_ankle_conditions_order():
    pts = load_experiment(EXPERIMENTS / "ankle_conditions.toml").points()
    assert [p.labels["condition_label"] for p in pts] == ["free"] * 3 + ["fixed"] * 3 + ["heel_drop10"] * 3
    assert [p.spec.power_W for p in pts] == [100.0, 200.0, 300.0] * 3
    hd = [p for p in pts if p.spec.condition == "heel_drop"]
    assert all(p.spec.heel_drop_deg == 10.0 for p in hd)


def test_intensity_sweep_riders():
    exp = load_experiment(EXPERIMENTS / "intensity_sweep.toml")
    assert [r.name for r in exp.riders] == ["high_lt", "low_lt"]
    pts = exp.points()
    assert [p.intensity_label for p in pts[:6]] == [f"{v}% VO2max" for v in (50, 60, 70, 80, 90, 95)]
    assert pts[0].key == "rider=high_lt/fit=default/cond=free/I=50pct_vo2max/cad=90"
    # equal VO2max and efficiency: same power; the config warns that the two problems are identical
    assert pts[3].spec.power_W == pytest.approx(pts[9].spec.power_W)
    assert any("riders[1]" in w and "identical" in w for w in exp.warnings)


def test_profiles_file_is_valid():
    problems: list[str] = []
    vals = cfg._load_profiles(problems)
    assert problems == []
    assert {"reference", "high_lt", "low_lt"} <= set(vals)
    raw = tomllib.loads((ROOT / "toolkit" / "study" / "data" / "riders.toml").read_text())
    for name, t in raw.items():
        assert t.get("source"), f"profile {name} has no source"


# ---------------------------------------------------------------------------------------------------------
# Sweep expansion
# ---------------------------------------------------------------------------------------------------------

SWEEP = """
[experiment]
name = "sweep"
[[riders]]
profile = "high_lt"
[[riders]]
name = "big"
profile = "reference"
mass_kg = 85.0
height_m = 1.9
[[fits]]
name = "low"
knee_flexion_at_bdc_deg = 35.0
[[fits]]
name = "high"
knee_flexion_at_bdc_deg = 25.0
[conditions]
ankle = ["free", "heel_drop", "fixed"]
heel_drop_deg = [5.0, 15.0]
fixed_ankle_deg = -10.0
[intensity]
unit = "pct_lt"
values = [100, 60, 80]
cadence_rpm = [60, 90]
[output]
dir = "out"
"""


def test_sweep_product_and_order(tmp_path):
    exp = load_experiment(write(tmp_path, SWEEP))
    pts = exp.points()
    # riders 2 x fits 2 x conditions (free, heel_drop x2, fixed) 4 x cadences 2 x intensities 3
    assert len(pts) == 2 * 2 * 4 * 2 * 3 == exp.n_points()
    assert len({p.key for p in pts}) == len(pts)
    # intensities innermost and ascending
    for i in range(0, len(pts), 3):
        chain = pts[i:i + 3]
        assert [p.labels["intensity_value"] for p in chain] == [60.0, 80.0, 100.0]
        assert len({(p.rider.name, p.fit_name, p.labels["condition_label"], p.spec.cadence_rpm) for p in chain}) == 1
        assert chain[0].spec.power_W < chain[1].spec.power_W < chain[2].spec.power_W
    conds = [p.labels["condition_label"] for p in pts[:24:6]]
    assert conds == ["free", "heel_drop5", "heel_drop15", "fixed"]
    assert pts[0].rider.name == "high_lt" and pts[-1].rider.name == "big" and pts[-1].rider.mass_kg == 85.0
    assert pts[-1].fit.knee_flexion_at_bdc_deg == 25.0
    fixed = [p for p in pts if p.spec.condition == "fixed"]
    assert fixed and all(p.spec.fixed_ankle_deg == -10.0 for p in fixed)
    # the overridden profile keeps the profile's physiology
    assert pts[-1].rider.lactate_threshold_pct_vo2max == 75.0


def test_sweep_at_limit(tmp_path):
    vals = ", ".join(str(100 + i) for i in range(50))
    cads = ", ".join(str(50 + i) for i in range(40))
    text = BASE.replace("values = [200.0]", f"values = [{vals}]").replace("cadence_rpm = [90.0]", f"cadence_rpm = [{cads}]")
    assert len(load_experiment(write(tmp_path, text)).points()) == MAX_POINTS
    with pytest.raises(ConfigError):
        load_experiment(write(tmp_path, text), ["conditions.ankle=['free', 'fixed']"])


def test_defaults_without_sections(tmp_path):
    exp = load_experiment(write(tmp_path, "", name="bare.toml"))
    assert exp.name == "bare"
    (p,) = exp.points()
    assert p.rider.name == "reference" and p.fit_name == "default"
    assert p.spec.condition == "free" and p.spec.power_W == 200.0 and p.spec.cadence_rpm == 90.0
    assert exp.output.dir == tmp_path / "out"


def test_scalars_accepted_for_lists(tmp_path):
    text = BASE.replace('ankle = ["free"]', 'ankle = "heel_drop"\nheel_drop_deg = 12.5') \
        .replace("values = [200.0]", "values = 250").replace("cadence_rpm = [90.0]", "cadence_rpm = 80")
    (p,) = load_experiment(write(tmp_path, text)).points()
    assert p.key == "rider=reference/fit=default/cond=heel_drop12.5/P=250W/cad=80"


def test_warnings_for_unused_condition_settings(tmp_path):
    exp = load_experiment(write(tmp_path, BASE.replace('ankle = ["free"]', 'ankle = ["free"]\nheel_drop_deg = [10]')))
    assert any("conditions.heel_drop_deg" in w and "warning" in w for w in exp.warnings)


def test_to_dict_is_plain(tmp_path):
    import json
    exp = load_experiment(write(tmp_path, SWEEP))
    d = exp.to_dict()
    json.dumps(d)
    assert d["riders"][1]["name"] == "big" and d["fits"][0]["name"] == "low"


# ---------------------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,parts,value", [
    ("solver.nodes=60", [("solver", None), ("nodes", None)], 60),
    ("intensity.values=[150, 250]", [("intensity", None), ("values", None)], [150, 250]),
    ("rider.profile=high_lt", [("rider", None), ("profile", None)], "high_lt"),
    ('rider.profile="low_lt"', [("rider", None), ("profile", None)], "low_lt"),
    ("riders[1].mass_kg=80.5", [("riders", 1), ("mass_kg", None)], 80.5),
    ("cost.weights.VAS=2", [("cost", None), ("weights", None), ("VAS", None)], 2),
    ("output.figures=false", [("output", None), ("figures", None)], False),
    ("cost.weights={VAS = 2, RF = 0.5}", [("cost", None), ("weights", None)], {"VAS": 2, "RF": 0.5}),
    ("experiment.description=a b = c", [("experiment", None), ("description", None)], "a b = c"),
    ("output.dir=/tmp/x", [("output", None), ("dir", None)], "/tmp/x"),
])
def test_parse_override(text, parts, value):
    assert parse_override(text) == (parts, value)


def test_overrides_applied(tmp_path):
    p = write(tmp_path, BASE)
    exp = load_experiment(p, ["solver.nodes=60", "intensity.values=[300, 150]", "rider.profile=high_lt",
                              "cost.weights.VAS=2.0", "conditions.ankle=['free','fixed']"])
    pts = exp.points()
    assert exp.solver.nodes == 60 and exp.cost.weights == {"VAS": 2.0}
    assert [p.spec.power_W for p in pts] == [150.0, 300.0, 150.0, 300.0]
    assert exp.riders[0].name == "high_lt"
    assert exp.config["solver"]["nodes"] == 60 and exp.overrides[0] == "solver.nodes=60"


def test_override_index(tmp_path):
    p = write(tmp_path, SWEEP)
    exp = load_experiment(p, ["riders[1].mass_kg=90"])
    assert exp.riders[1].mass_kg == 90.0


def test_override_not_a_table(tmp_path):
    p = write(tmp_path, BASE.replace("[fit]\n", "") .replace("[experiment]", 'fit = "x"\n[experiment]'))
    with pytest.raises(ConfigError) as ei:
        load_experiment(p, ["fit.crank_length_m=0.17"])
    assert any(ln.startswith("--set: fit.crank_length_m: ") for ln in ei.value.problems)


# ---------------------------------------------------------------------------------------------------------
# Schema table and docs
# ---------------------------------------------------------------------------------------------------------

def test_schema_matches_dataclasses():
    from dataclasses import fields

    from toolkit.model.anthropometry import Rider
    from toolkit.model.bikefit import BikeFit
    from toolkit.ocp.problem import CostSpec, SolverSpec
    names = lambda sec: set(SCHEMA[sec].key_names)  # noqa: E731
    assert {f.name for f in fields(Rider)} - {"name"} <= names("rider")
    assert {f.name for f in fields(BikeFit)} <= names("fit")
    assert {f.name for f in fields(CostSpec)} == names("cost")
    assert {f.name for f in fields(SolverSpec)} == names("solver")
    assert names("riders") == names("rider") and names("fits") == names("fit")
    for sec in SCHEMA.values():
        for k in sec.keys:
            assert k.doc and k.allowed() and k.type_text()


def test_docs_config_md_is_generated():
    committed = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    generated = cfg.config_reference_markdown()
    assert committed == generated, (
        "docs/config.md is out of date: PYTHONPATH=. python -m toolkit.study.config > docs/config.md")
    for sec in SCHEMA.values():
        for k in sec.keys:
            assert f"`{k.name}`" in committed


# ---------------------------------------------------------------------------------------------------------
# One source of truth for ranges (toolkit/model/ranges.py) and the pydantic models
# ---------------------------------------------------------------------------------------------------------

_RANGE_TABLES = {"rider": "RIDER", "riders": "RIDER", "fit": "FIT", "fits": "FIT", "conditions": "PROBLEM",
                 "cost": "COST", "solver": "SOLVER", "problem": "PROBLEM"}


def test_schema_ranges_come_from_the_one_table():
    import pydantic

    from toolkit.model import ranges
    n = 0
    for sec in SCHEMA.values():
        assert issubclass(sec.model, pydantic.BaseModel)
        table = getattr(ranges, _RANGE_TABLES.get(sec.name, "PROBLEM"))
        for k in sec.keys:
            if k.spec.range is not None and k.name in table:
                assert k.spec.range is table[k.name], (sec.name, k.name)
                n += 1
    assert SCHEMA["intensity"].key("cadence_rpm").spec.range is ranges.PROBLEM["cadence_rpm"]
    assert n >= 40


@pytest.mark.parametrize("field,outside", [("fixed_ankle_deg", 31.0), ("heel_drop_deg", 46.0),
                                           ("heel_drop_ramp_deg", -1.0), ("brace_damping_Nms_per_rad", 101.0),
                                           ("ankle_stop_stiffness_Nm_per_rad", 50.0), ("cadence_rpm", 19.0)])
def test_problem_spec_and_config_reject_the_same_values(tmp_path, field, outside):
    from toolkit.model.ranges import PROBLEM
    from toolkit.ocp.problem import ProblemSpec
    allowed = PROBLEM[field].text()
    with pytest.raises(ValueError, match=f"allowed: {allowed}"):
        ProblemSpec(**{field: outside})
    section = "intensity" if field == "cadence_rpm" else "conditions"
    with pytest.raises(ConfigError) as ei:
        load_experiment(write(tmp_path, BASE), [f"{section}.{field}={outside}"])
    assert any(f": {section}.{field}" in ln and f"(allowed: {allowed})" in ln for ln in ei.value.problems)


def test_rider_and_solver_checks_use_the_table():
    from toolkit.model.anthropometry import Rider
    from toolkit.ocp.problem import SolverSpec
    with pytest.raises(ValueError, match=r"rider.mass_kg: 151.0 \(allowed: 30 to 150 kg\)"):
        Rider(mass_kg=151.0)
    with pytest.raises(ValueError, match="solver.multistart"):
        SolverSpec(multistart=0)
    assert SCHEMA["rider"].key("mass_kg").allowed() == "30 to 150 kg"
