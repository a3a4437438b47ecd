"""The summary table of a result file: NAME_summary.md and NAME_summary.csv (one row per stored point or failure)."""
from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

from ..io import hdf5
from .config import Experiment, Point

SUMMARY_COLUMNS = ("key", "rider", "fit", "condition", "intensity", "power_W", "cadence_rpm", "status",
                   "hip_share_pct", "knee_share_pct", "ankle_share_pct", "energy_balance_residual", "iterations",
                   "solve_time_s", "mean_crank_power_W", "regime_switch", "message")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# ----------------------------------------------------------------------------------------------------------
# Summary table
# ----------------------------------------------------------------------------------------------------------

def _num(x: Any, spec: str) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return ""
    return format(x, spec) if math.isfinite(x) else str(x)


def summary_rows(result: Path, points: Sequence[Point] = (), stored=None, failures=None) -> list[dict[str, str]]:
    """One row per point in the result file (results and failures): the experiment's points in sweep order,
    then any other key stored in the file. Values are strings (shares in %, of positive joint work)."""
    stored = hdf5.read_points(result) if stored is None else stored
    failures = hdf5.read_failures(result) if failures is None else failures
    by_key = {p.key: p for p in points}
    keys = [p.key for p in points if p.key in stored or p.key in failures]
    keys += [k for k in list(stored) + list(failures) if k not in by_key and k not in keys]
    rows = []
    for key in keys:
        p = by_key.get(key)
        if key in stored:
            sp = stored[key]
            spec, st, sm, lab = sp.solution.spec, sp.solution.stats, sp.summary, sp.labels
            sh = sm.get("joint_work_share", {}) or {}
            row = {"status": st.status, "hip_share_pct": _num(100 * sh.get("hip", math.nan), ".1f"),
                   "knee_share_pct": _num(100 * sh.get("knee", math.nan), ".1f"),
                   "ankle_share_pct": _num(100 * sh.get("ankle", math.nan), ".1f"),
                   "energy_balance_residual": _num(sm.get("energy_balance_residual"), ".2e"),
                   "iterations": str(st.iterations), "solve_time_s": _num(st.solve_time_s, ".2f"),
                   "mean_crank_power_W": _num(sm.get("mean_crank_power_W"), ".1f"), "message": ""}
        else:
            fr = failures[key]
            spec, st, lab = fr.spec, fr.stats, fr.labels
            row = {"status": st.status, "hip_share_pct": "", "knee_share_pct": "", "ankle_share_pct": "",
                   "energy_balance_residual": "", "iterations": str(st.iterations),
                   "solve_time_s": _num(st.solve_time_s, ".2f"), "mean_crank_power_W": "",
                   "message": " ".join(str(st.message or st.status or "failed").split())}
        lab = dict(p.labels) if p is not None else dict(lab or {})
        row.update(key=key, rider=str(lab.get("rider", "")), fit=str(lab.get("fit", "")),
                   condition=str(lab.get("condition_label", lab.get("condition", spec.condition))),
                   intensity=str(lab.get("intensity", f"{spec.power_W:g} W")),
                   power_W=_num(spec.power_W, ".1f"), cadence_rpm=_num(spec.cadence_rpm, "g"))
        rows.append({c: row.get(c, "") for c in SUMMARY_COLUMNS})
    _flag_regime_switches(rows)
    return rows


def _flag_regime_switches(rows: list[dict[str, str]]) -> None:
    """Mark share jumps between neighbouring work rates of one chain (rider, fit, condition, cadence)."""
    from ..analysis.summary import regime_switches

    chains: dict[tuple, list[dict[str, str]]] = {}
    for r in rows:
        if r["hip_share_pct"]:
            chains.setdefault((r["rider"], r["fit"], r["condition"], r["cadence_rpm"]), []).append(r)
    for chain in chains.values():
        chain.sort(key=lambda r: float(r["power_W"]))
        flags = regime_switches([{j: float(r[f"{j}_share_pct"]) / 100 for j in ("hip", "knee", "ankle")}
                                 for r in chain])
        for r, f in zip(chain, flags):
            r["regime_switch"] = f


def _md_cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def write_summary(result: Path, experiment: Experiment | None = None, stored=None, failures=None
                  ) -> list[Path]:
    """Write NAME_summary.md and NAME_summary.csv next to the result file; return their paths."""
    result = Path(result)
    points = experiment.points() if experiment is not None else []
    rows = summary_rows(result, points, stored, failures)
    n_ok = sum(1 for r in rows if not r["message"] and r["hip_share_pct"] != "")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    csv_path = result.with_name(f"{result.stem}_summary.csv")
    _atomic_text(csv_path, buf.getvalue())

    L = [f"# {experiment.name if experiment else result.stem}: summary", ""]
    if experiment is not None and experiment.description:
        L += [experiment.description, ""]
    L += [f"- results: `{result.name}` ({n_ok} point(s) stored, {len(rows) - n_ok} failure(s))"]
    if experiment is not None and experiment.source:
        L += [f"- config: `{experiment.source}`" + (f" with --set {' '.join(experiment.overrides)}"
                                                    if experiment.overrides else "")]
        missing = [p.key for p in points if p.key not in {r['key'] for r in rows}]
        if missing:
            L += [f"- not run yet: {len(missing)} point(s) (`run --resume` solves them)"]
    L += ["- shares: % of the total positive joint work of hip, knee and ankle over one crank cycle; energy "
          "residual: (joint work - crank work) / crank work", ""]
    head = ["key", "rider", "fit", "condition", "intensity", "power (W)", "cadence (rpm)", "status", "hip %",
            "knee %", "ankle %", "energy residual", "iterations", "solve (s)"]
    cols = ["key", "rider", "fit", "condition", "intensity", "power_W", "cadence_rpm", "status", "hip_share_pct",
            "knee_share_pct", "ankle_share_pct", "energy_balance_residual", "iterations", "solve_time_s"]
    L += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        L.append("| " + " | ".join(_md_cell(f"`{r[c]}`" if c == "key" else r[c]) for c in cols) + " |")
    fails = [r for r in rows if r["message"]]
    if fails:
        L += ["", "## Failed points (not stored as results)", ""]
        L += [f"- `{r['key']}`: {r['status']}: {_md_cell(r['message'])}" for r in fails]
    md_path = result.with_name(f"{result.stem}_summary.md")
    _atomic_text(md_path, "\n".join(L) + "\n")
    return [md_path, csv_path]
