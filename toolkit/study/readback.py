"""Reading a study's results back: everything stored under OUT/<study>/, interpreted with the experiment config
stored in each result file, and the comparison rows its metrics give. No solving, no writing."""
from __future__ import annotations

import json
import os
from pathlib import Path

from . import comparison as C
from .base import FailureRec, Record, StudyData
from .registry import StudyDef, study
from .store import stored_or_current

__all__ = ["load_study_data", "study_rows"]


def load_study_data(name: str | StudyDef, out: str | os.PathLike = "results") -> StudyData:
    """Everything stored for a study under OUT/<name>/ (no solving). Each experiment is rebuilt from the config
    stored in its result file (`experiment_json`), never from today's experiments/ files (those only for a file
    without one, with a StoredConfigWarning); its warnings and settings come with it; the stored points decide
    what is shown."""
    from ..io.hdf5 import read_failures, read_points

    st = name if isinstance(name, StudyDef) else study(name)
    sdir = Path(out) / st.name
    records, failures, warns, exps = [], [], [], []
    for v in st.variants:
        exp, path = stored_or_current(v, sdir)
        exps.append(exp)
        warns += [w.split(": ", 1)[1] if ": " in w else w for w in exp.warnings]
        if not path.exists():
            continue
        for key, sp in read_points(path).items():
            records.append(Record(exp.name, sp.labels.get("variant", v.label), key, sp.labels, sp.solution))
        for key, fr in read_failures(path).items():
            drop = (fr.setup or {}).get("largest_heel_drop_deg")
            failures.append(FailureRec(exp.name, fr.labels.get("variant", v.label), key, fr.labels, fr.stats.status,
                                       fr.stats.message, None if drop is None else float(drop)))
    extras_path = sdir / "extras.json"
    extras = json.loads(extras_path.read_text(encoding="utf-8")) if extras_path.exists() else {}
    return StudyData(st.name, records, failures, warns, extras, exps, str(out), st)


def study_rows(data: StudyData) -> list[C.ComparisonRow]:
    """The comparison rows of a study's stored data: its metrics' values against its published rows."""
    return C.compare(data.study.evaluate(data).values, data.study.published)
