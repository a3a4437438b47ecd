"""The one writer of experiment result files, shared by `run` (toolkit.study.runner) and `reproduce`
(toolkit.study.reproduce), and the reading of the experiment config stored in them.

- `begin_result(path, experiment)` stores the resolved experiment config (root attribute `experiment_json`,
  `Experiment.to_dict()`) before any point; every later write keeps it.
- `store_batch(path, batch, points)` writes finished points (`PointResult`s): the successful ones together in
  one atomic append (`hdf5.write_solutions`; one by one if that fails for one of them, which is then recorded as
  a failure with status "Not_Stored"), then each failed one in /failures (`hdf5.write_failure`, never as a
  result; with the problem as the solver posed it when a solve was made, else the point's). Every write is
  atomic (toolkit.io.hdf5).
- `stored_experiment(path)` rebuilds the Experiment from the config stored in a result file (via
  `load_experiment(name, data=...)`), so stored results are interpreted with the settings they were solved
  with, not with today's experiment files; None when the file has no stored config (older results).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Sequence

import warnings

from ..io import hdf5
from .registry import Variant
from .config import ConfigError, Experiment, Point, load_experiment
from .config.build import CONDITION_PARAMETERS
from .executors import PointResult

__all__ = ["begin_result", "store_batch", "result_of", "stored_experiment", "loadable_config", "stored_or_current",
           "StoredConfigWarning"]


def begin_result(path, experiment: Experiment) -> None:
    """Store the resolved experiment config in the result file (created when missing), as `run` does."""
    hdf5.write_experiment(path, experiment.to_dict())


def result_of(key: str, sol, start: str = "") -> PointResult:
    """A solver Solution as the PointResult the writer takes."""
    return PointResult(key, sol.stats, sol, start)


def store_batch(path, batch: Sequence[PointResult], points: Mapping[str, Point],
                labels: Mapping[str, Any] | None = None) -> list[PointResult]:
    """Write finished points into the result file now (see the module docstring). points: key -> Point (its
    labels and problem are stored); labels: extra labels added to every point's. Returns the batch, with the
    stats of a point that could not be stored changed to a failure ("Not_Stored"). OSError (disk full, I/O)
    propagates: the file keeps every point stored before."""
    path = Path(path)

    def labels_of(key: str) -> dict[str, Any]:
        return dict(points[key].labels, **(labels or {}))

    ok = [r for r in batch if r.ok]
    if len(ok) > 1:
        try:
            hdf5.write_solutions(path, [(r.key, r.solution, labels_of(r.key)) for r in ok])
            ok = []
        except OSError:
            raise  # the file is intact (atomic writes); a rerun with --resume continues
        except Exception:  # noqa: BLE001 - find the point that cannot be stored, one by one
            pass
    for r in ok:
        try:
            hdf5.write_solution(path, r.key, r.solution, labels_of(r.key))
        except OSError:
            raise
        except Exception as e:  # noqa: BLE001 - the solution could not be analysed/stored: a failure
            r.stats = dataclasses.replace(r.stats, success=False, status="Not_Stored",
                                          message=f"{type(e).__name__}: {e}")
    for r in batch:
        if not r.ok:  # the problem as solved (e.g. with a heel drop's resolved reference profile) when there is one
            sol = r.solution
            hdf5.write_failure(path, r.key, r.stats, points[r.key].spec if sol is None else sol.spec,
                               labels_of(r.key), None if sol is None else sol.setup)
    return list(batch)


# ----------------------------------------------------------------------------------------------------------
# The stored config
# ----------------------------------------------------------------------------------------------------------

def loadable_config(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The stored `Experiment.to_dict()` as a config `load_experiment(data=...)` accepts: unset (None) values
    and empty lists dropped, the record-only fields (experiment.source, overrides: already applied) removed,
    and the parameters of ankle conditions the experiment does not use left out (they were defaults)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if v is not None and v != []}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    raw = strip(dict(stored))
    raw.pop("overrides", None)
    if isinstance(raw.get("experiment"), dict):
        raw["experiment"].pop("source", None)
    cond = raw.get("conditions")
    if isinstance(cond, dict):
        ankle = cond.get("ankle", ())
        ankle = [ankle] if isinstance(ankle, str) else list(ankle)
        for k, c in CONDITION_PARAMETERS.items():
            if c not in ankle:
                cond.pop(k, None)
    return raw


def stored_experiment(path) -> Experiment | None:
    """The Experiment a result file was solved with, rebuilt from its stored config; None without one.
    Raises ConfigError when the stored config no longer validates (e.g. a key since removed)."""
    stored = hdf5.read_experiment(path)
    if not stored:
        return None
    raw = loadable_config(stored)
    name = (raw.get("experiment") or {}).get("name") or Path(path).stem
    return load_experiment(name, data=raw)


class StoredConfigWarning(UserWarning):
    """A result file without its stored experiment config (older results): read with today's experiment file."""


def stored_or_current(v: Variant, sdir: Path) -> tuple[Experiment, Path]:
    """The experiment a variant's result file was solved with (its stored config), and the file. A file without
    a stored config (older results), or one that no longer validates, falls back to today's experiment file,
    with a StoredConfigWarning; a study not run yet (nothing stored) has only today's file."""
    path = sdir / f"{Path(v.file).stem}.h5"
    current = None
    if not path.exists():  # an experiment named other than its file
        current = load_experiment(v.path)
        path = sdir / f"{current.name}.h5"
    if path.exists():
        why = "has no stored experiment config (older results)"
        try:
            exp = stored_experiment(path)
        except ConfigError as e:
            exp, why = None, f"has a stored experiment config that no longer validates ({e.problems[0]})"
        if exp is not None:
            return exp, path
        warnings.warn(f"{path}: {why}: its points are interpreted with today's {v.path}",
                      StoredConfigWarning, stacklevel=3)
    return (current if current is not None else load_experiment(v.path)), path
