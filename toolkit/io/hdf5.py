"""Results in HDF5: one file per experiment, one group per solved point, written atomically.

Schema version 1 (SCHEMA_VERSION; also described in docs/results_schema.md)
---------------------------------------------------------------------------

    /                                   attrs: schema = "pedaling-toolkit results", schema_version = 1,
                                               created_utc, modified_utc, toolkit_version, git_commit,
                                               git_dirty (1/0, -1 unknown), provenance_json (provenance.Provenance)
    /points/                            successful solves only, in insertion order
    /points/<name>/                     one solved point; <name> = encode_key(key)
        attrs:  key                     the original point key (may contain '/', '=', ...)
                schema_version, created_utc, toolkit_version, git_commit ("" when unknown), git_dirty,
                provenance_json (commit, dirty flag, library versions, host, CPU of the writer)
                spec_json               ProblemSpec as JSON (nested CostSpec/SolverSpec; tuples as lists)
                setup_json              setup provenance dict (rider, fit, segments, muscles, leg_params...),
                                        tagged JSON: {"__tuple__": [...]}, {"__float__": "nan"} keep it exact
                stats_json              SolverStats as JSON (non-finite floats as "NaN"/"Infinity")
                labels_json             user labels of the point (e.g. condition, rider, intensity), JSON object
                summary_json            toolkit.analysis.power.CycleSummary as JSON (works and shares of one leg)
                condition, power_W, cadence_rpm, nodes, success, status, iterations, solve_time_s,
                objective, max_violation, energy_balance_residual, share_hip, share_knee, share_ankle
                                        plain copies for quick looks with h5dump/h5ls, MATLAB, pandas
        arrays/<array>                  float64 datasets, exactly Solution.arrays (node values of one leg over one
                                        cycle at crank angles arrays/theta): attr units (ARRAY_UNITS), attr rows
                                        (row names of 2-D arrays: hip,knee,ankle / the nine muscles / x,y)
        decision                        the NLP decision vector (scaled, unitless) for warm starts, if present
        derived/<name>                  convenience arrays recomputed by the analysis (not read back):
                                        joint_power (3,N) W, fibre_power (9,N) W, pedal_tangential_force (N,) N,
                                        pedal_radial_force (N,) N, crank_torque_both_legs (N,) N m
    /failures/<name>/                   failed or infeasible solves (never results): attrs key, created_utc,
                                        toolkit_version, git_commit, spec_json, stats_json, labels_json,
                                        setup_json (when given)

Keys: any non-empty string; the group name percent-encodes every character other than letters, digits and
`_ - . = , + @ : ;` (so '/' becomes %2F), and the original key is kept in the `key` attribute: the key is the
identity, the name only a safe spelling.

Writes are atomic and cost O(1) in the number of stored points: new points, failure records and the experiment
config are appended in place through a write-ahead journal (journal.py: HDF5 writes into memory pages over
the unchanged file; the dirty pages go to a checksummed journal that is fsynced and renamed into place before
they are applied, so a crash leaves either the old file or a complete journal that readers lay over the file
and the next writer applies). A new file, or the replacement of a stored point (kept in its place), is built
whole and renamed over the old one. HDF5 itself never writes to the disk, so a full disk is a plain OSError
with the file unchanged. One writer at a time (the runner holds a lock); readers take a shared lock.

Reading: `read_solution` returns a Solution equal to the one written (spec, stats, setup and arrays).
Readers raise ResultFileError (a ValueError) with a one-line reason for a missing, unreadable or foreign file.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote

import numpy as np

from ..model.leg import JOINTS
from ..model.muscles import MUSCLE_NAMES
from ..ocp.problem import ProblemSpec
from ..ocp.solution import ARRAY_UNITS, Solution, SolverStats
from . import journal, provenance
from .reader import (SCHEMA, SCHEMA_VERSION, ResultFileError, _attr_str, _check_root, _h5py,  # noqa: F401
                     _members, _open_error, _read_arrays, _Reader)

_SAFE = "_-.=,+@:;"
ROW_NAMES = {"q": JOINTS, "qdot": JOINTS, "qddot": JOINTS, "moment": JOINTS, "pedal_force": ("x", "y")}
MUSCLE_ARRAYS = ("force", "fiber_length", "fiber_velocity", "active", "passive", "mtu_length", "activation",
                 "excitation")


class NotAResultError(ValueError):
    """Raised when a failed (sealed) solve is written as a result."""


# ----------------------------------------------------------------------------------------------- keys


def encode_key(key: str) -> str:
    """Safe HDF5 group name for a point key (reversible percent-encoding; '/' -> %2F)."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"point key: {key!r} (allowed: a non-empty string)")
    name = quote(key, safe=_SAFE)
    if set(name) == {"."}:  # '.' and '..' are not usable as link names
        name = name.replace(".", "%2E")
    return name


# ----------------------------------------------------------------------------------------------- JSON
# (the codecs live in codec.py; re-exported here, where they have always been importable from)
from .codec import (_dumps, _plain, _tag, _untag, from_plain, setup_from_json, setup_to_json,  # noqa: E402,F401
                    spec_from_json, spec_to_json, stats_from_json, stats_to_json)


# ----------------------------------------------------------------------------------------------- files


def _stamp_root(f) -> None:
    prov = provenance.current()
    f.attrs["modified_utc"] = provenance.utc_now()
    f.attrs["toolkit_version"] = prov.toolkit_version
    f.attrs["git_commit"] = prov.git_commit
    f.attrs["git_dirty"] = -1 if prov.git_dirty is None else int(prov.git_dirty)
    f.attrs["provenance_json"] = prov.to_json()


def _new_file(ov) -> Any:
    """A fresh result file (root attributes and the two groups) on the overlay `ov`."""
    f = _h5py().File(ov, "w", libver=("v108", "latest"), track_order=True)
    f.attrs["schema"] = SCHEMA
    f.attrs["schema_version"] = SCHEMA_VERSION
    f.attrs["created_utc"] = provenance.utc_now()
    f.create_group("points", track_order=True)
    f.create_group("failures", track_order=True)
    return f


def _publish(path: Path, ov: journal.OverlayFile, mode: int = 0o644) -> None:
    """Write the overlay's whole content as `path`: temporary file, fsync, rename, fsync the directory."""
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            ov.copy_to(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    journal._fsync_dir(directory)


class _Rebuild(Exception):
    """Raised inside an update that needs the whole file rewritten (a stored point is replaced)."""


@contextmanager
def _update(path):
    """Change a result file in place in O(1): yields the open h5py file (an overlay over the file on disk, see
    journal.py); on a normal exit the changes are committed through the journal, on an exception dropped.
    A missing file is created (written whole beside it and renamed into place)."""
    path = Path(path)
    journal.recover(path)
    exists = path.exists()
    if exists:
        with _Reader(path):  # one-line errors for a missing, foreign or damaged file; never overwritten
            pass
    with journal.OverlayFile(path if exists else None) as ov:
        f = _h5py().File(ov, "r+", libver=("v108", "latest")) if exists else _new_file(ov)
        try:
            yield f
            _stamp_root(f)
        finally:
            f.close()
        if exists:
            journal.commit(path, ov)
        else:
            _publish(path, ov)


Writer = Callable[[Any], None]


def _rewrite(path, points: Mapping[str, Writer] | None = None, failures: Mapping[str, Writer] | None = None,
             drop_failures: Iterable[str] = (), experiment_json: str | None = None) -> None:
    """Write a new version of `path`: every kept point/failure copied, `points`/`failures` (name -> function
    filling a fresh group) written in place of (or after) existing ones, `drop_failures` removed, the
    experiment config (root attribute `experiment_json`) kept or replaced. Atomic; O(stored points): used to
    create a file, to replace a stored point in its place, and to compact."""
    path = Path(path)
    points = dict(points or {})
    failures = dict(failures or {})
    drop = set(drop_failures)
    journal.recover(path)
    with journal.OverlayFile(None) as ov:
        with _new_file(ov) as dst:
            dst_points, dst_fail = dst["points"], dst["failures"]
            if path.exists():
                with _Reader(path) as src:
                    dst.attrs["created_utc"] = src.attrs.get("created_utc", dst.attrs["created_utc"])
                    if "experiment_json" in src.attrs:
                        dst.attrs["experiment_json"] = src.attrs["experiment_json"]
                    _merge(src.get("points"), dst_points, points)
                    _merge(src.get("failures"), dst_fail, failures, drop)
            else:
                _merge(None, dst_points, points)
                _merge(None, dst_fail, failures, drop)
            if experiment_json is not None:
                dst.attrs["experiment_json"] = experiment_json
            _stamp_root(dst)
        mode = (path.stat().st_mode & 0o777) if path.exists() else 0o644
        _publish(path, ov, mode)


def _merge(src_group, dst_group, writers: dict[str, Writer], drop: set[str] = frozenset()) -> None:
    """Copy src_group's members in order into dst_group, replacing those with a writer; append new ones."""
    pending = dict(writers)
    if src_group is not None:
        for name in src_group:
            if name in drop and name not in pending:
                continue
            if name in pending:
                pending.pop(name)(dst_group.create_group(name, track_order=True))
            else:
                src_group.copy(src_group[name], dst_group, name=name)
    for name, fn in pending.items():
        fn(dst_group.create_group(name, track_order=True))


def _stamp(g, key: str) -> None:
    g.attrs["key"] = key
    g.attrs["schema_version"] = SCHEMA_VERSION
    prov = provenance.current()
    g.attrs["created_utc"] = provenance.utc_now()
    g.attrs["toolkit_version"] = prov.toolkit_version
    g.attrs["git_commit"] = prov.git_commit
    g.attrs["git_dirty"] = -1 if prov.git_dirty is None else int(prov.git_dirty)
    g.attrs["provenance_json"] = prov.to_json()


def _row_names(name: str, arr: np.ndarray) -> tuple[str, ...] | None:
    if arr.ndim != 2:
        return None
    rows = ROW_NAMES.get(name) or (MUSCLE_NAMES if name in MUSCLE_ARRAYS else None)
    if rows is None and arr.shape[0] == len(MUSCLE_NAMES):
        rows = MUSCLE_NAMES
    return tuple(rows) if rows is not None and len(rows) == arr.shape[0] else None


def _write_dataset(group, name: str, arr, units: str, rows=None) -> None:
    arr = np.asarray(arr)
    ds = group.create_dataset(name, data=arr)
    ds.attrs["units"] = units
    rows = rows if rows is not None else _row_names(name, arr)
    if rows is not None:
        ds.attrs["rows"] = ",".join(rows)


def _write_arrays(group, arrays: Mapping[str, np.ndarray]) -> None:
    g = group.create_group("arrays", track_order=True)
    for name, arr in arrays.items():
        _write_dataset(g, name, arr, ARRAY_UNITS.get(name, "unknown"))


def _write_derived(group, sol: Solution) -> None:
    from ..analysis.muscle_power import fibre_power
    from ..analysis.pedal import both_legs_crank_torque, radial_force, tangential_force
    from ..analysis.power import joint_power

    g = group.create_group("derived", track_order=True)
    _write_dataset(g, "joint_power", joint_power(sol), "W", JOINTS)
    _write_dataset(g, "fibre_power", fibre_power(sol), "W", MUSCLE_NAMES)
    _write_dataset(g, "pedal_tangential_force", tangential_force(sol), "N")
    _write_dataset(g, "pedal_radial_force", radial_force(sol), "N")
    _write_dataset(g, "crank_torque_both_legs", both_legs_crank_torque(sol), "N m")
    from ..analysis.metabolic import metabolic_summary

    ms = metabolic_summary(sol)  # whole body, both legs, incl. basal (docs/energetics.md)
    g.attrs["metabolic_power_W"] = float(ms["metabolic_power_W"])
    g.attrs["gross_efficiency"] = float(ms["gross_efficiency"])
    _write_dataset(g, "metabolic_power_by_muscle", np.array([ms["metabolic_power_by_muscle_W"][m]
                                                             for m in MUSCLE_NAMES]), "W", MUSCLE_NAMES)


def _check_result(key: str, sol: Solution) -> None:
    if not isinstance(sol, Solution):
        raise TypeError(f"point {key!r}: expected a Solution, got {type(sol).__name__}")
    if sol.sealed or not sol.stats.success:
        raise NotAResultError(
            f"point {key!r}: the solve did not succeed ({sol.stats.summary()}); a failed solve is never written "
            "as a result (record it with write_failure)")
    if "theta" not in sol.arrays:
        raise NotAResultError(f"point {key!r}: the solution has no arrays")


def _point_writer(key: str, sol: Solution, labels: Mapping[str, Any] | None) -> Writer:
    from ..analysis.power import cycle_summary

    summary = cycle_summary(sol)  # computed before the file is touched: a bad solution fails early

    def write(g) -> None:
        _stamp(g, key)
        spec, st = sol.spec, sol.stats
        g.attrs["spec_json"] = spec_to_json(spec)
        g.attrs["setup_json"] = setup_to_json(sol.setup)
        g.attrs["stats_json"] = stats_to_json(st)
        g.attrs["labels_json"] = _dumps(_plain(dict(labels or {})))
        g.attrs["summary_json"] = _dumps(_plain(summary))
        g.attrs["condition"] = spec.condition
        g.attrs["power_W"] = float(spec.power_W)
        g.attrs["cadence_rpm"] = float(spec.cadence_rpm)
        g.attrs["nodes"] = int(sol.nodes)
        g.attrs["success"] = bool(st.success)
        g.attrs["status"] = st.status
        g.attrs["iterations"] = int(st.iterations)
        g.attrs["solve_time_s"] = float(st.solve_time_s)
        g.attrs["objective"] = float(st.objective)
        g.attrs["max_violation"] = float(st.max_violation)
        g.attrs["energy_balance_residual"] = float(summary.energy_balance_residual)
        for j in JOINTS:
            g.attrs[f"share_{j}"] = float(summary.joint_work_share[j])
        _write_arrays(g, sol.arrays)
        if sol.decision is not None:
            _write_dataset(g, "decision", np.asarray(sol.decision, dtype=float), "1")
        _write_derived(g, sol)

    return write


def write_solution(path, key: str, sol: Solution, labels: Mapping[str, Any] | None = None) -> None:
    """Add or replace one solved point (atomically). A failure recorded under the same key is removed."""
    write_solutions(path, [(key, sol, labels)])


def write_solutions(path, items: Iterable) -> None:
    """Add or replace several points in one atomic rewrite. items: (key, sol) or (key, sol, labels) tuples,
    or a mapping key -> Solution."""
    if isinstance(items, Mapping):
        items = list(items.items())
    writers: dict[str, Writer] = {}
    keys = set()
    for item in items:
        key, sol, labels = (tuple(item) + (None,))[:3]
        _check_result(key, sol)
        name = encode_key(key)
        if key in keys:
            raise ValueError(f"point {key!r} given twice")
        keys.add(key)
        writers[name] = _point_writer(key, sol, labels)
    if not writers:
        return
    try:
        with _update(path) as f:  # O(1): new points are appended in place (journaled)
            points, fails = f.require_group("points"), f.require_group("failures")
            if any(name in points for name in writers):
                raise _Rebuild
            for name, fn in writers.items():
                if name in fails:
                    del fails[name]
                fn(points.create_group(name, track_order=True))
    except _Rebuild:  # a stored point is replaced: rewrite the file to keep it in its place
        _rewrite(path, points=writers, drop_failures=writers.keys())


def write_failure(path, key: str, stats: SolverStats, spec: ProblemSpec, labels: Mapping[str, Any] | None = None,
                  setup: Mapping[str, Any] | None = None) -> None:
    """Record a failed or infeasible solve in /failures (never as a result). A result already stored under the
    same key is kept; the failure is reported next to it."""
    name = encode_key(key)

    def write(g) -> None:
        _stamp(g, key)
        g.attrs["spec_json"] = spec_to_json(spec)
        g.attrs["stats_json"] = stats_to_json(stats)
        g.attrs["labels_json"] = _dumps(_plain(dict(labels or {})))
        g.attrs["condition"] = spec.condition
        g.attrs["power_W"] = float(spec.power_W)
        g.attrs["status"] = stats.status
        g.attrs["message"] = stats.message
        if setup is not None:
            g.attrs["setup_json"] = setup_to_json(setup)

    with _update(path) as f:
        fails = f.require_group("failures")
        if name in fails:
            del fails[name]
        write(fails.create_group(name, track_order=True))


# ----------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class StoredPoint:
    """One stored point with everything around it."""

    key: str
    solution: Solution
    labels: dict[str, Any]
    summary: dict[str, Any]
    created_utc: str
    toolkit_version: str
    git_commit: str | None


@dataclass(frozen=True)
class FailureRecord:
    """A failed solve recorded in /failures."""

    key: str
    spec: ProblemSpec
    stats: SolverStats
    labels: dict[str, Any] = field(default_factory=dict)
    setup: dict[str, Any] | None = None
    created_utc: str = ""


def _find(group, key: str, what: str):
    if group is not None:
        name = encode_key(key)
        if name in group and _attr_str(group[name], "key") == key:
            return group[name]
        for n in group:  # tolerate names written by another encoder: the key attribute is the identity
            if _attr_str(group[n], "key") == key:
                return group[n]
    have = [_attr_str(group[n], "key") for n in group] if group is not None else []
    raise KeyError(f"no {what} {key!r} in this file (stored: {', '.join(have) if have else 'none'})")


def _read_group_solution(g) -> Solution:
    try:
        spec = spec_from_json(_attr_str(g, "spec_json"))
        stats = stats_from_json(_attr_str(g, "stats_json"))
        setup = setup_from_json(_attr_str(g, "setup_json"))
    except (json.JSONDecodeError, TypeError, KeyError) as e:
        raise ResultFileError(f"point {_attr_str(g, 'key')!r}: unreadable metadata ({e})") from None
    arrays, decision = _read_arrays(g)
    return Solution(spec, stats, setup, arrays, decision=decision, sealed=False)


def write_experiment(path, config: Mapping[str, Any]) -> None:
    """Store the resolved experiment config (JSON, root attribute `experiment_json`); kept by later writes."""
    text = _dumps(_plain(dict(config)))
    with _update(path) as f:
        f.attrs["experiment_json"] = text


def read_experiment(path) -> dict[str, Any] | None:
    """The experiment config stored by `write_experiment`, or None."""
    with _Reader(Path(path)) as f:
        text = f.attrs.get("experiment_json")
    return None if text is None else json.loads(text if isinstance(text, str) else text.decode())


def list_points(path) -> list[str]:
    """Keys of the stored points, in insertion order."""
    with _Reader(path) as f:
        g = _members(f, "points")
        return [_attr_str(g[n], "key") for n in g] if g is not None else []


def read_solution(path, key: str) -> Solution:
    """The stored Solution of one point (equal to the one written)."""
    with _Reader(path) as f:
        return _read_group_solution(_find(_members(f, "points"), key, "point"))


def read_point(path, key: str) -> StoredPoint:
    """One point with its labels, cycle summary and provenance."""
    with _Reader(path) as f:
        return _stored(_find(_members(f, "points"), key, "point"))


def _stored(g) -> StoredPoint:
    return StoredPoint(
        key=_attr_str(g, "key"), solution=_read_group_solution(g),
        labels=json.loads(_attr_str(g, "labels_json", "{}")),
        summary=json.loads(_attr_str(g, "summary_json", "{}")),
        created_utc=_attr_str(g, "created_utc"), toolkit_version=_attr_str(g, "toolkit_version"),
        git_commit=_attr_str(g, "git_commit") or None)


def read_all(path) -> dict[str, Solution]:
    """Every stored point: key -> Solution, in insertion order."""
    with _Reader(path) as f:
        g = _members(f, "points")
        return {_attr_str(g[n], "key"): _read_group_solution(g[n]) for n in g} if g is not None else {}


def read_points(path) -> dict[str, StoredPoint]:
    """Every stored point with labels, summary and provenance: key -> StoredPoint."""
    with _Reader(path) as f:
        g = _members(f, "points")
        return {_attr_str(g[n], "key"): _stored(g[n]) for n in g} if g is not None else {}


def read_failures(path) -> dict[str, FailureRecord]:
    """Failed solves recorded in /failures: key -> FailureRecord."""
    with _Reader(path) as f:
        g = _members(f, "failures")
        out = {}
        for n in (g if g is not None else []):
            a = g[n]
            setup = setup_from_json(_attr_str(a, "setup_json")) if "setup_json" in a.attrs else None
            out[_attr_str(a, "key")] = FailureRecord(
                key=_attr_str(a, "key"), spec=spec_from_json(_attr_str(a, "spec_json")),
                stats=stats_from_json(_attr_str(a, "stats_json")),
                labels=json.loads(_attr_str(a, "labels_json", "{}")), setup=setup,
                created_utc=_attr_str(a, "created_utc"))
        return out


def file_info(path) -> dict[str, Any]:
    """Root attributes of a result file (schema, version, times, toolkit version, git commit)."""
    with _Reader(path) as f:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}


def open_result(path) -> _Reader:
    """`with open_result(path) as f:` the result file as a read-only h5py.File (checked root, shared lock, any
    leftover journal laid over it); ResultFileError with a one-line reason otherwise."""
    return _Reader(path)


def recover(path) -> None:
    """Apply (or drop, when incomplete) a journal left by a writer that was killed; call before moving or
    copying a result file with other tools."""
    journal.recover(path)
