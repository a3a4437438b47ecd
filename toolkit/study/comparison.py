"""Model-vs-published comparison tables (pure functions: no solving, no files).

Published values live in each study's `[[published]]` tables (studies/<name>/study.toml), one per published
quantity, each with its citation, and the toolkit's agreement *criterion* for it (the criterion is ours, not the paper's; it is stated
next to every comparison so a reader can judge it). A study computes model values (`ModelValue`) from its
solutions; `compare` pairs each with its published row and decides agreement; `rows_markdown` renders the table.

Criteria (the `criterion` column; m = model value, p = published value):

    within:T      |m - p| <= T                      (p a number; e.g. shares within 10 percentage points)
    rel:F         |m - p| <= F % of |p|             (p a number)
    gt:X / lt:X   m > X / m < X                     (p a word such as "increases"; the sign is the claim)
    abs_gt:X      |m| > X                           (p "changes": a change of either sign larger than X)
    ratio:LO:HI   LO <= m <= HI                     (p a ratio, e.g. 1 for "approximately equal")
    trend:T       m is a change across a range: "rise" if m > T, "fall" if m < -T, else "flat";
                  agrees when that word equals p (rise, fall or flat)

A model value may be missing (the point was infeasible or failed); then agreement is "n/a" and the row says why.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

__all__ = [
    "Published", "published_value", "check_published", "Criterion", "ModelValue", "ComparisonRow",
    "published_index", "parse_criterion", "classify_trend", "evaluate", "agree_regions",
    "compare", "rows_markdown", "agreement_text", "format_value", "relative_change_pct", "NO_WHY",
]

TREND_WORDS = ("rise", "fall", "flat")
CRITERION_KINDS = ("within", "rel", "gt", "lt", "abs_gt", "ratio", "trend")


# ----------------------------------------------------------------------------------------------- published data

@dataclass(frozen=True)
class Published:
    """One published quantity. value: a number, or a word for qualitative claims ("rise", "increases", ...)."""

    study: str
    claim: str
    quantity: str
    value: float | str
    unit: str
    criterion: str
    source: str
    note: str = ""

    @property
    def numeric(self) -> float | None:
        return self.value if isinstance(self.value, float) else None


def published_value(value: float | int | str) -> float | str:
    """A published value as stored: a finite number as float, anything else as its stripped text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else str(value)
    try:
        x = float(value)
    except ValueError:
        return value.strip()
    return x if math.isfinite(x) else value.strip()


def check_published(rows: Sequence[Published]) -> None:
    """Raise ValueError naming the row (0-based, as in [[published]]) of an unparseable criterion, a value the
    criterion cannot use, or a duplicate quantity."""
    seen: set[tuple[str, str]] = set()
    for i, p in enumerate(rows):
        try:
            crit = parse_criterion(p.criterion)
        except ValueError as e:
            raise ValueError(f"[{i}] criterion: {e}") from None
        if crit.kind in ("within", "rel") and p.numeric is None:
            raise ValueError(f"[{i}] value: {p.value!r} is not a number (allowed: a number with criterion "
                             f"{crit.kind})")
        if crit.kind == "trend" and p.value not in TREND_WORDS:
            raise ValueError(f"[{i}] value: {p.value!r} (allowed: {', '.join(TREND_WORDS)} with a trend criterion)")
        if (p.study, p.quantity) in seen:
            raise ValueError(f"[{i}] quantity: duplicate {p.study}/{p.quantity}")
        seen.add((p.study, p.quantity))


def published_index(rows: Iterable[Published]) -> dict[tuple[str, str], Published]:
    """(study, quantity) -> Published."""
    return {(p.study, p.quantity): p for p in rows}


# ----------------------------------------------------------------------------------------------- criteria

@dataclass(frozen=True)
class Criterion:
    kind: str
    args: tuple[float, ...]

    def text(self, published: Published | None = None) -> str:
        """Human statement of the criterion ('model within 10 pp of published', ...)."""
        u = f" {published.unit}" if published is not None and published.unit not in ("", "-") else ""
        a = self.args
        if self.kind == "within":
            return f"|model - published| <= {_g(a[0])}{u}"
        if self.kind == "rel":
            return f"|model - published| <= {_g(a[0])} % of published"
        if self.kind == "gt":
            return f"model > {_g(a[0])}{u}"
        if self.kind == "lt":
            return f"model < {_g(a[0])}{u}"
        if self.kind == "abs_gt":
            return f"|model| > {_g(a[0])}{u}"
        if self.kind == "ratio":
            return f"{_g(a[0])} <= model <= {_g(a[1])}"
        if self.kind == "trend":
            return f"rise if change > +{_g(a[0])}{u}, fall if < -{_g(a[0])}{u}, else flat"
        raise AssertionError(self.kind)


def _g(x: float) -> str:
    return f"{x:g}"


def parse_criterion(text: str) -> Criterion:
    """'within:10' -> Criterion('within', (10.0,)). Raises ValueError for an unknown kind or bad arguments."""
    parts = [s.strip() for s in str(text).split(":")]
    kind, raw = parts[0], parts[1:]
    need = {"within": 1, "rel": 1, "gt": 1, "lt": 1, "abs_gt": 1, "ratio": 2, "trend": 1}
    if kind not in need:
        raise ValueError(f"{text!r}: unknown kind {kind!r} (allowed: {', '.join(CRITERION_KINDS)})")
    if len(raw) != need[kind]:
        raise ValueError(f"{text!r}: {kind} takes {need[kind]} number(s) (e.g. {kind}:"
                         + ":".join(["1"] * need[kind]) + ")")
    try:
        args = tuple(float(x) for x in raw)
    except ValueError:
        raise ValueError(f"{text!r}: arguments must be numbers") from None
    if not all(math.isfinite(x) for x in args):
        raise ValueError(f"{text!r}: arguments must be finite")
    if kind in ("within", "rel", "abs_gt", "trend") and args[0] < 0:
        raise ValueError(f"{text!r}: the tolerance must be >= 0")
    if kind == "ratio" and not args[0] < args[1]:
        raise ValueError(f"{text!r}: ratio:LO:HI needs LO < HI")
    return Criterion(kind, args)


def classify_trend(change: float, band: float) -> str:
    """'rise' if change > band, 'fall' if change < -band, else 'flat'."""
    if change > band:
        return "rise"
    if change < -band:
        return "fall"
    return "flat"


def relative_change_pct(first: float, last: float) -> float:
    """(last - first) / |first| in % (nan when first is 0 or not finite)."""
    if not (math.isfinite(first) and math.isfinite(last)) or first == 0:
        return math.nan
    return 100.0 * (last - first) / abs(first)


def evaluate(criterion: Criterion | str, model: float | None, published: float | str) -> tuple[bool | None, str]:
    """(agrees, short reason). agrees is None when there is no (finite) model value."""
    c = parse_criterion(criterion) if isinstance(criterion, str) else criterion
    if model is None or not math.isfinite(model):
        return None, "no model value"
    a = c.args
    if c.kind == "within":
        d = model - float(published)
        return abs(d) <= a[0], f"difference {d:+.3g}"
    if c.kind == "rel":
        p = float(published)
        d = 100.0 * (model - p) / abs(p) if p != 0 else math.inf
        return abs(d) <= a[0], f"difference {d:+.0f} %"
    if c.kind == "gt":
        return model > a[0], f"{model:+.3g} {'>' if model > a[0] else '<='} {_g(a[0])}"
    if c.kind == "lt":
        return model < a[0], f"{model:+.3g} {'<' if model < a[0] else '>='} {_g(a[0])}"
    if c.kind == "abs_gt":
        return abs(model) > a[0], f"|{model:+.3g}| {'>' if abs(model) > a[0] else '<='} {_g(a[0])}"
    if c.kind == "ratio":
        ok = a[0] <= model <= a[1]
        return ok, f"{model:.3g} {'inside' if ok else 'outside'} [{_g(a[0])}, {_g(a[1])}]"
    if c.kind == "trend":
        word = classify_trend(model, a[0])
        return word == published, f"model trend: {word}"
    raise AssertionError(c.kind)


def agree_regions(criterion: Criterion | str, published: float | str) -> list[tuple[float, float]]:
    """The model values that would agree, as closed/open intervals (lo, hi) with +-inf for unbounded ends
    (used to draw the agreement band in figures)."""
    c = parse_criterion(criterion) if isinstance(criterion, str) else criterion
    a, inf = c.args, math.inf
    if c.kind == "within":
        p = float(published)
        return [(p - a[0], p + a[0])]
    if c.kind == "rel":
        p = float(published)
        return [(p - a[0] / 100 * abs(p), p + a[0] / 100 * abs(p))]
    if c.kind == "gt":
        return [(a[0], inf)]
    if c.kind == "lt":
        return [(-inf, a[0])]
    if c.kind == "abs_gt":
        return [(-inf, -a[0]), (a[0], inf)]
    if c.kind == "ratio":
        return [(a[0], a[1])]
    if c.kind == "trend":
        return {"rise": [(a[0], inf)], "fall": [(-inf, -a[0])], "flat": [(-a[0], a[0])]}.get(str(published), [])
    raise AssertionError(c.kind)


# ----------------------------------------------------------------------------------------------- rows

@dataclass(frozen=True)
class ModelValue:
    """One model number for a published quantity. label: which model condition/variant it comes from;
    value None with `missing` saying why (e.g. 'infeasible: largest heel drop 11.2 deg'); detail: how it was
    computed from the solutions; why: what might explain a disagreement (shown only when it disagrees; a
    disagreeing value without one gets NO_WHY); sensitivity: the value comes from a labelled sensitivity
    variant (an alternative model setting reported beside the default, not instead of it; tallied apart)."""

    study: str
    quantity: str
    label: str
    value: float | None
    detail: str = ""
    missing: str = ""
    why: str = ""
    headline: bool = False
    sensitivity: bool = False


@dataclass(frozen=True)
class ComparisonRow:
    study: str
    claim: str
    quantity: str
    label: str
    model: float | None
    published: float | str | None
    unit: str
    criterion: str
    agrees: bool | None
    reason: str
    source: str
    detail: str = ""
    why: str = ""
    headline: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)
    sensitivity: bool = False


NO_WHY = "cause not established"


def compare(values: Sequence[ModelValue], published: Mapping[tuple[str, str], Published] | Iterable[Published]
            ) -> list[ComparisonRow]:
    """One ComparisonRow per ModelValue, in order. A value whose (study, quantity) has no published row is
    kept as a model-only row (published None, agrees None). A disagreeing value without a `why` says NO_WHY
    rather than nothing."""
    index = published if isinstance(published, Mapping) else published_index(published)
    rows = []
    for v in values:
        p = index.get((v.study, v.quantity))
        if p is None:
            rows.append(ComparisonRow(v.study, "-", v.quantity, v.label, v.value, None, "", "", None,
                                      v.missing or "model only (no published value)", "", v.detail, "", v.headline,
                                      sensitivity=v.sensitivity))
            continue
        agrees, reason = evaluate(p.criterion, v.value, p.value)
        if agrees is None and v.missing:
            reason = v.missing
        rows.append(ComparisonRow(v.study, p.claim, v.quantity, v.label, v.value, p.value, p.unit,
                                  parse_criterion(p.criterion).text(p), agrees, reason, p.source, v.detail,
                                  (v.why or NO_WHY) if agrees is False else "", v.headline,
                                  sensitivity=v.sensitivity))
    return rows


def agreement_text(agrees: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[agrees]


def format_value(x: float | str | None, unit: str = "", digits: int = 3) -> str:
    """Numbers with `digits` significant digits (at least one decimal for |x| < 100), words as they are."""
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 100:
        s = f"{x:.0f}"
    elif ax >= 10:
        s = f"{x:.1f}"
    elif ax >= 1 or ax == 0:
        s = f"{x:.2f}"
    else:
        s = f"{x:.{digits}f}"
    return s + (f" {unit}" if unit and unit not in ("-",) else "")


def _cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def rows_markdown(rows: Sequence[ComparisonRow], *, with_source: bool = True, with_detail: bool = True) -> str:
    """Markdown table: claim, quantity, model condition, model value, published, criterion, agrees, notes."""
    head = ["claim", "quantity", "model condition", "model", "published", "criterion", "agrees", "notes"]
    if with_source:
        head.append("source")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        model = format_value(r.model, r.unit if r.published is not None else "") if r.model is not None else "-"
        pub = format_value(r.published, r.unit if isinstance(r.published, float) else "")
        notes = []
        if r.model is None or r.agrees is None:
            notes.append(r.reason)
        else:
            notes.append(r.reason)
        if with_detail and r.detail:
            notes.append(r.detail)
        if r.why:
            notes.append("why it may differ: " + r.why)
        cells = [r.claim, f"`{r.quantity}`", r.label, model, pub, r.criterion or "-", agreement_text(r.agrees),
                 "; ".join(n for n in notes if n)]
        if with_source:
            cells.append(r.source or "-")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
