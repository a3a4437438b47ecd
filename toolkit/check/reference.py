"""Cited reference data for the model check, and the verdict rule.

Files (toolkit/check/data/, each with its sources in its header):
- reference_values.csv: one row per compared quantity: the metric key, the model condition it is compared with,
  the source's own condition, the criterion (kind + value/low/high/tol), unit, citation and how it was derived.
  A row whose quantity contains '{muscle}' is expanded to one row per published EMG on-range
  (toolkit/analysis/data/emg_on_ranges.csv).
- park2022_pedal.csv: measured pedal forces and pedal angle (mean, SD) of Park, Caldwell & Umberger (2022).
- model_changes.toml: named model variants for the side-by-side table (toolkit.check.variants).

Verdicts: 'agrees', 'does not', 'no data' (no reference number, or no model value). The criterion is applied as
written in the row; nothing here knows what the model gives.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, replace
from importlib import resources

import numpy as np

KINDS = ("within", "abs_tol", "rel_tol", "equals", "no_data")
AGREES, DOES_NOT, NO_DATA = "agrees", "does not", "no data"
REQUIRED = ("id", "quantity", "condition", "kind", "unit", "citation_key", "citation", "derivation")


def _read(name: str) -> str:
    return resources.files("toolkit.check.data").joinpath(name).read_text(encoding="utf-8")


def _num(text: str | None) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


@dataclass(frozen=True)
class ReferenceRow:
    """One cited reference quantity and its criterion (see reference_values.csv header)."""

    id: str
    quantity: str
    condition: str
    kind: str
    unit: str
    citation_key: str
    citation: str
    derivation: str
    value: float | str | None = None
    low: float | None = None
    high: float | None = None
    tol: float | None = None
    ref_power_W: str = ""
    ref_cadence_rpm: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"reference_values.csv: {self.id}: kind {self.kind!r} (allowed: {', '.join(KINDS)})")
        if self.kind == "within" and self.low is None and self.high is None:
            raise ValueError(f"reference_values.csv: {self.id}: kind within needs low and/or high")
        if self.kind in ("abs_tol", "rel_tol") and (self.value is None or self.tol is None):
            raise ValueError(f"reference_values.csv: {self.id}: kind {self.kind} needs value and tol")
        if self.kind == "equals" and not self.value:
            raise ValueError(f"reference_values.csv: {self.id}: kind equals needs a value")

    def reference_text(self) -> str:
        """The reference value or range as printed in the report."""
        if self.kind == "no_data":
            return "-"
        if self.kind == "within":
            lo = "" if self.low is None else f"{self.low:g}"
            hi = "" if self.high is None else f"{self.high:g}"
            return f">= {lo}" if self.high is None else (f"<= {hi}" if self.low is None else f"{lo} to {hi}")
        if self.kind == "equals":
            return str(self.value)
        return f"{self.value:g}"

    def criterion_text(self) -> str:
        if self.kind == "no_data":
            return "-"
        if self.kind == "within":
            return f"model in [{'-inf' if self.low is None else f'{self.low:g}'}, " \
                   f"{'inf' if self.high is None else f'{self.high:g}'}]"
        if self.kind == "abs_tol":
            return f"abs(model - {self.value:g}) <= {self.tol:g}"
        if self.kind == "rel_tol":
            return f"abs(model - {self.value:g}) <= {100 * self.tol:g} % of {self.value:g}"
        return f"model = {self.value}"


def verdict(row: ReferenceRow, model_value) -> str:
    """Apply the row's criterion to a model value: 'agrees', 'does not' or 'no data'.

    No data: the row has no reference number, or there is no model value (None or nan: condition not solved).
    A label where a number is needed (e.g. 'never' for an event the model does not show) does not agree."""
    if row.kind == "no_data" or model_value is None:
        return NO_DATA
    if row.kind == "equals":
        return AGREES if str(model_value) == str(row.value) else DOES_NOT
    if isinstance(model_value, str):
        return DOES_NOT
    x = float(model_value)
    if not math.isfinite(x):
        return NO_DATA
    if row.kind == "within":
        ok = (row.low is None or x >= row.low) and (row.high is None or x <= row.high)
    elif row.kind == "abs_tol":
        ok = abs(x - float(row.value)) <= row.tol
    else:
        ok = abs(x - float(row.value)) <= row.tol * abs(float(row.value))
    return AGREES if ok else DOES_NOT


def _parse_rows(text: str) -> list[ReferenceRow]:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    out = []
    for r in csv.DictReader(io.StringIO("\n".join(lines))):
        missing = [k for k in REQUIRED if not (r.get(k) or "").strip()]
        if missing:
            raise ValueError(f"reference_values.csv: {r.get('id') or '?'}: empty {', '.join(missing)}")
        kind = r["kind"].strip()
        value = r["value"].strip() if kind == "equals" else _num(r["value"])
        out.append(ReferenceRow(
            id=r["id"].strip(), quantity=r["quantity"].strip(), condition=r["condition"].strip(), kind=kind,
            unit=r["unit"].strip(), citation_key=r["citation_key"].strip(), citation=r["citation"].strip(),
            derivation=r["derivation"].strip(), value=value, low=_num(r["low"]), high=_num(r["high"]),
            tol=_num(r["tol"]), ref_power_W=(r.get("ref_power_W") or "").strip(),
            ref_cadence_rpm=(r.get("ref_cadence_rpm") or "").strip()))
    ids = [r.id for r in out]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ValueError(f"reference_values.csv: duplicate ids {sorted(dup)}")
    return out


def load_reference_rows(expand_emg: bool = True) -> list[ReferenceRow]:
    """All reference rows; '{muscle}' rows expanded to one row per published EMG on-range."""
    rows = _parse_rows(_read("reference_values.csv"))
    if not expand_emg:
        return rows
    from ..analysis.emg import load_emg_on_ranges

    out = []
    for r in rows:
        if "{muscle}" not in r.quantity:
            out.append(r)
            continue
        counts: dict[str, int] = {}
        for e in load_emg_on_ranges():
            counts[e.model_muscle] = counts.get(e.model_muscle, 0) + 1
            tag = f"{e.model_muscle}_{counts[e.model_muscle]}"
            out.append(replace(
                r, id=f"{r.id}_{tag}", quantity=r.quantity.format(muscle=tag),
                citation=e.source, citation_key=f"emg:{_key(e.source)}",
                derivation=(f"{e.measured_muscle} on {e.onset_deg:g}-{e.offset_deg:g} deg ({e.basis}: {e.wording}); "
                            + r.derivation)))
    return out


def _key(source: str) -> str:
    m = re.match(r"\s*([A-Z][a-z]+)[^0-9]*(\d{4})", source)
    return f"{m.group(1).lower()}{m.group(2)}" if m else "studies_md"


@dataclass(frozen=True)
class ParkData:
    """Park et al. (2022) measured curves on crank angle (deg) with their derived cadence and power."""

    crank_angle_deg: np.ndarray
    fx_mean: np.ndarray
    fx_sd: np.ndarray
    fy_mean: np.ndarray
    fy_sd: np.ndarray
    pedal_angle_mean: np.ndarray
    pedal_angle_sd: np.ndarray
    foot_line_angle: np.ndarray
    cadence_rpm: float
    power_W: float
    crank_length_m: float

    @property
    def tangential(self) -> np.ndarray:
        th = np.radians(self.crank_angle_deg)
        return self.fx_mean * np.cos(th) - self.fy_mean * np.sin(th)

    @property
    def radial(self) -> np.ndarray:
        th = np.radians(self.crank_angle_deg)
        return self.fx_mean * np.sin(th) + self.fy_mean * np.cos(th)

    @property
    def resultant(self) -> np.ndarray:
        return np.hypot(self.fx_mean, self.fy_mean)


def load_park2022() -> ParkData:
    """The extracted Park et al. (2022) curves (park2022_pedal.csv) and the '# derived:' line's numbers."""
    text = _read("park2022_pedal.csv")
    derived = {}
    for ln in text.splitlines():
        if ln.startswith("# derived:"):
            derived = {k: float(v) for k, v in (kv.split("=") for kv in ln.split(":", 1)[1].split())}
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    col = {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
    return ParkData(col["crank_angle_deg"], col["fx_mean_N"], col["fx_sd_N"], col["fy_mean_N"], col["fy_sd_N"],
                    col["pedal_angle_mean_deg"], col["pedal_angle_sd_deg"], col["foot_line_angle_deg"],
                    derived["cadence_rpm"], derived["power_W"], derived["crank_length_m"])
