"""Study pages and the results index, from stored results only: comparison figure, OUT/<study>/comparison.md and
OUT/README.md."""
from __future__ import annotations

import json
import math
import os
import textwrap
from pathlib import Path
from typing import Sequence

from . import comparison as C
from .base import StudyData
from .readback import load_study_data, study_rows
from .registry import StudyDef, studies, study, studies_dir

__all__ = ["RUN_INFO", "comparison_figure", "run_info", "render_study_markdown", "render_readme"]

RUN_INFO = "run_info.json"


def _shown(folder: Path) -> str:
    """A study folder as a reader finds it: studies/<name> for a shipped study, else the path given."""
    try:
        return str(Path("studies") / folder.resolve().relative_to(studies_dir().resolve()))
    except ValueError:
        return str(folder)


def comparison_figure(rows: Sequence[C.ComparisonRow], title: str, published: Sequence[C.Published] = ()):
    """One panel per unit: each comparison row's model value (filled: green agrees, red does not, grey n/a),
    the published number (open diamond, when numeric) and the band of values that would agree."""
    from matplotlib.figure import Figure

    rows = [r for r in rows if r.published is not None]
    units = []
    for r in rows:
        if r.unit not in units:
            units.append(r.unit)
    n = max(1, len(rows))
    fig = Figure(figsize=(13, 1.2 + 0.34 * n + 0.6 * len(units)), layout="constrained")
    if not rows:
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no comparisons", ha="center")
        return fig
    axes = fig.subplots(len(units), 1, squeeze=False, height_ratios=[
        max(1, sum(1 for r in rows if r.unit == u)) for u in units])[:, 0]
    pub = C.published_index(published)
    for ax, u in zip(axes, units):
        rs = [r for r in rows if r.unit == u]
        finite = [x for r in rs for x in ((r.model,) if r.model is not None else ())
                  + ((r.published,) if isinstance(r.published, float) else ())]
        for r in rs:
            p = pub.get((r.study, r.quantity))
            if p is not None:
                for lo, hi in C.agree_regions(p.criterion, p.value):
                    finite += [x for x in (lo, hi) if math.isfinite(x)]
        lo_x = min(finite + [0.0])
        hi_x = max(finite + [0.0])
        pad = 0.08 * (hi_x - lo_x or 1.0)
        lo_x, hi_x = lo_x - pad, hi_x + pad
        for i, r in enumerate(rs):
            y = len(rs) - 1 - i
            p = pub.get((r.study, r.quantity))
            if p is not None:
                for a, b in C.agree_regions(p.criterion, p.value):
                    a, b = max(a, lo_x), min(b, hi_x)
                    if a < b:
                        ax.barh(y, b - a, left=a, height=0.6, color="tab:green", alpha=0.15, lw=0)
            if isinstance(r.published, float):
                ax.plot(r.published, y, "D", mfc="none", color="k", ms=7)
            if r.model is not None:
                color = {True: "tab:green", False: "tab:red", None: "0.5"}[r.agrees]
                ax.plot(r.model, y, "^" if r.sensitivity else "o", color=color, ms=7)
            else:
                why = r.reason if len(r.reason) <= 70 else (r.reason.split(":")[0] + "; "
                                                             + r.reason.rsplit(";", 1)[-1].strip())
                ax.text(lo_x, y, "  no model value (" + textwrap.shorten(why, 90, placeholder="...") + ")",
                        va="center", fontsize="x-small", color="0.4", clip_on=True)
        ax.set_yticks(range(len(rs)), [r.quantity + "\n" + textwrap.shorten(r.label, 80, placeholder="...")
                                       for r in reversed(rs)], fontsize="x-small")
        ax.set_xlim(lo_x, hi_x)
        ax.set_ylim(-0.7, len(rs) - 0.3)
        ax.set_xlabel(u if u not in ("", "-") else "ratio", fontsize="small")
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(title + "\nmodel: filled dot (green agrees, red does not; triangle: SENSITIVITY row); published: "
                 "open diamond; green band: values that would agree", fontsize="small")
    return fig


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "(none)\n"
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def run_info(out: str | os.PathLike) -> dict:
    """OUT/run_info.json (run times of the last reproduce runs), or {}."""
    p = Path(out) / RUN_INFO
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def render_study_markdown(name: str | StudyDef, out: str | os.PathLike = "results", data: StudyData | None = None
                          ) -> str:
    """OUT/<name>/comparison.md from the stored results only."""
    st = name if isinstance(name, StudyDef) else study(name)
    name = st.name
    data = data if data is not None else load_study_data(st, out)
    ev = st.evaluate(data)
    rows = C.compare(ev.values, st.published)
    L = [f"# {st.title}", "", f"Question: {st.question}", ""]
    L.append("Generated by `python -m toolkit reproduce " + name + "` from the HDF5 file(s) in this directory; do "
             "not edit by hand.")
    L.append("")
    L.append(f"Study definition: `{_shown(st.directory)}/study.toml`. Experiment file(s), every point of each "
             "solved: " + ", ".join(f"`{v.file}` ({v.label})" for v in st.variants) + ".")
    L.append("")
    L.append("## Model vs published")
    L.append("")
    L.append(C.rows_markdown(rows))
    main = [r for r in rows if not r.sensitivity]
    sens = [r for r in rows if r.sensitivity]
    agree = sum(1 for r in main if r.agrees is True)
    dis = sum(1 for r in main if r.agrees is False)
    na = sum(1 for r in main if r.agrees is None)
    L.append(f"{agree} agree, {dis} disagree, {na} without a model value or published value"
             + (f" (default model). Sensitivity rows (labelled SENSITIVITY: an alternative model setting reported "
                f"beside the default, not counted above): {sum(1 for r in sens if r.agrees is True)} agree, "
                f"{sum(1 for r in sens if r.agrees is False)} disagree" if sens else "")
             + ". Criteria are the toolkit's reading of each claim ([[published]] in study.toml), stated in "
             "every row.")
    L.append("")
    notes = list(st.notes) + list(ev.notes)
    if notes:
        L.append("## Notes")
        L.append("")
        for n in notes:
            L.append(n if n.startswith("- ") else f"- {n}")
        L.append("")
    if data.warnings:
        L.append("## Config warnings (from load_experiment)")
        L.append("")
        for w in sorted(set(data.warnings)):
            L.append(f"- {w}")
        L.append("")
    if ev.extra_md:
        L.append(ev.extra_md)
    spreads = data.extras.get("multistart", {}) if st.solve is None else {}
    if spreads:
        worst = max(spreads.items(), key=lambda kv: max(kv[1]["spread_pp"].values()))
        L.append("## Non-unique optima")
        L.append("")
        L.append(f"Every point was solved from several cold starts plus its sweep neighbour; over the solutions within "
                 f"0.5 % of the best cost the joint shares spread by at most "
                 f"{max(worst[1]['spread_pp'].values()):.2f} pp (at `{worst[0]}`; per point in extras.json). Share "
                 "jumps between neighbouring work rates are flagged in the run summaries (`regime_switch`).")
        L.append("")
    L.append("## Model points")
    L.append("")
    L.append("Shares: % of the total positive joint work (hip + knee + ankle). Powers: mean positive joint power "
             "over the cycle, both legs.")
    L.append("")
    L.append(_md_table(ev.table_header, ev.table_rows))
    pubs = list(st.published)
    if pubs:
        L.append("## Published values used")
        L.append("")
        L.append(_md_table(["claim", "quantity", "value", "unit", "source", "note"],
                           [[p.claim, f"`{p.quantity}`", C.format_value(p.value), p.unit, p.source, p.note]
                            for p in pubs]))
    return "\n".join(L).rstrip() + "\n"


def render_readme(out: str | os.PathLike = "results") -> str:
    """OUT/README.md: the index and the headline table, from the stored results (and run_info.json)."""
    info = run_info(out)
    L = ["# Study reproductions: model vs published", "",
         "Generated by `python -m toolkit reproduce --all` (see docs/studies.md); do not edit by hand. Every number "
         "below is computed from the HDF5 files in the study directories, and `tests/regression/test_studies.py` checks that "
         "this file equals what those files give.", ""]
    runs = info.get("studies", {})
    if info:
        L.append(f"Last full run: `{info.get('command', 'python -m toolkit reproduce')}` with {info.get('jobs', 1)} "
                 f"job(s), {info.get('total_runtime_s', 0):.0f} s wall time; mesh "
                 f"{', '.join(str(n) for n in info.get('nodes', [])) or '?'} nodes.")
        L.append("")
    L.append("| study | claims | question | points | infeasible/failed | run time (s) | details |")
    L.append("|---|---|---|---|---|---|---|")
    all_rows: list[C.ComparisonRow] = []
    for name, st in studies().items():
        sdir = Path(out) / name
        if not any(sdir.glob("*.h5")):
            L.append(f"| {st.title} | {st.claims} | {st.question} | not run | | | |")
            continue
        data = load_study_data(st, out)
        rows = study_rows(data)
        all_rows += rows
        r = runs.get(name, {})
        L.append(f"| {st.title} | {st.claims} | {st.question} | {len(data.records)} | {len(data.failures)} "
                 f"| {r.get('runtime_s', '-')} | [{name}/comparison.md]({name}/comparison.md) |")
    L.append("")
    L.append("What changed in the model and in every study, and why: [CHANGES.md](CHANGES.md). How the default "
             "model compares with measured pedaling (forces, angles, moments, EMG timing, fibre lengths): "
             "[model_check/README.md](model_check/README.md).")
    L.append("")
    L.append("## Headline: model vs published")
    L.append("")
    L.append("'agrees' applies the stated criterion (the toolkit's reading of the claim, fixed in "
             "[[published]] in each studies/<name>/study.toml). Where the model disagrees, the last column says why it might, from "
             "the model's own numbers where possible, and says so where the cause is not established. No model "
             "parameter was adjusted toward a published number. Rows whose model condition starts with SENSITIVITY "
             "come from an alternative model setting (named on the study page), shown beside the default rows, never "
             "instead of them, and not counted in the tallies below.")
    L.append("")
    head = [r for r in all_rows if r.headline]
    L.append("| study | claim | quantity | model condition | model | published | criterion | agrees | why it "
             "might not agree |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for r in head:
        model = C.format_value(r.model, r.unit) if r.model is not None else "- (" + r.reason + ")"
        pub = C.format_value(r.published, r.unit if isinstance(r.published, float) else "")
        L.append("| " + " | ".join(str(c).replace("|", "\\|") for c in (
            r.study, r.claim, f"`{r.quantity}`", r.label, model, pub, r.criterion, C.agreement_text(r.agrees),
            r.why if r.agrees is False else "")) + " |")
    L.append("")
    main = [r for r in all_rows if not r.sensitivity]
    sens = [r for r in all_rows if r.sensitivity]
    agree = sum(1 for r in main if r.agrees is True)
    dis = sum(1 for r in main if r.agrees is False)
    L.append(f"All comparison rows of the default model: {agree} agree, {dis} disagree, "
             f"{sum(1 for r in main if r.agrees is None)} n/a (infeasible points, model-only rows)."
             + (f" Sensitivity rows (not counted there): {sum(1 for r in sens if r.agrees is True)} agree, "
                f"{sum(1 for r in sens if r.agrees is False)} disagree, {sum(1 for r in sens if r.agrees is None)} "
                "n/a." if sens else "")
             + " The study pages list every row, the notes and the model points.")
    L.append("")
    L.append("## Where the model disagrees")
    L.append("")
    L.append("Default model only (sensitivity rows are in the headline and on their study page).")
    L.append("")
    dis_rows = [r for r in main if r.agrees is False]
    if not dis_rows:
        L.append("Nowhere, by the stated criteria.")
    for r in dis_rows:
        L.append(f"- {r.study} / `{r.quantity}` ({r.label}): model {C.format_value(r.model, r.unit)} vs published "
                 f"{C.format_value(r.published, r.unit if isinstance(r.published, float) else '')} ({r.reason})."
                 + (f" Why it may differ: {r.why}." if r.why else ""))
    L.append("")
    L.append("## Files")
    L.append("")
    L.append("Each study directory holds `<experiment>.h5` (one per experiment file; failed or infeasible solves "
             "only under /failures), `comparison.md`, `comparison.png` (model vs published with the agreement "
             "bands) and a few model figures. Inspect a file with `python -m toolkit show FILE.h5`.")
    return "\n".join(L).rstrip() + "\n"


