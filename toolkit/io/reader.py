"""Opening result files for reading: root checks, shared lock, leftover journal, and checked point arrays.
(Part of toolkit.io.hdf5, which re-exports everything here.)"""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import numpy as np

from . import journal

SCHEMA = "pedaling-toolkit results"
SCHEMA_VERSION = 1


class ResultFileError(ValueError):
    """A result file that cannot be used: missing, not HDF5, not a toolkit result file, or a newer schema."""


def _h5py():
    import h5py

    return h5py


def _attr_str(g, name: str, default: str = "") -> str:
    v = g.attrs.get(name, default)
    return v.decode() if isinstance(v, bytes) else str(v)


def _check_root(f, path: Path) -> None:
    schema = f.attrs.get("schema")
    if isinstance(schema, bytes):
        schema = schema.decode("utf-8", "replace")
    if not isinstance(schema, str) or schema != SCHEMA:
        shown = schema if isinstance(schema, (str, type(None))) else f"a {type(schema).__name__}"
        raise ResultFileError(f"not a pedaling-toolkit result file (schema attribute {shown!r})")
    ver = f.attrs.get("schema_version", None)
    if isinstance(ver, np.ndarray) and ver.shape in ((), (1,)):
        ver = ver.reshape(()).item()
    if isinstance(ver, np.generic):
        ver = ver.item()
    if not isinstance(ver, int) or isinstance(ver, bool):
        raise ResultFileError(f"invalid schema_version {ver!r} (allowed: an integer 1 to {SCHEMA_VERSION})")
    if ver > SCHEMA_VERSION:
        raise ResultFileError(f"written with results schema version {ver}; this toolkit reads up to "
                              f"{SCHEMA_VERSION} (update the toolkit)")
    if ver < 1:
        raise ResultFileError(f"invalid schema_version {ver} (allowed: an integer 1 to {SCHEMA_VERSION})")


def _open_error(e: Exception) -> ResultFileError:
    return ResultFileError(f"cannot be read as HDF5 ({(str(e).splitlines() or [type(e).__name__])[0]})")


class _Reader:
    """Context manager opening a result file read-only, with one-line errors. Holds a shared lock meanwhile
    (no journal is applied while it reads) and lays a complete leftover journal over the file (journal.py)."""

    def __init__(self, path):
        self.path = Path(path)
        self.f = None
        self._stack = ExitStack()

    def __enter__(self):
        try:
            exists, is_file = self.path.exists(), self.path.is_file()
        except (OSError, ValueError) as e:  # a name too long, a NUL byte, no permission
            raise ResultFileError(f"cannot be accessed ({getattr(e, 'strerror', None) or e})") from None
        if not exists:
            raise ResultFileError("file not found")
        if not is_file:
            raise ResultFileError("not a file")
        h5py = _h5py()
        try:
            self._stack.enter_context(journal.shared_lock(self.path))
            j = journal.pending(self.path)
            if j is None:
                self.f = h5py.File(self.path, "r")
            else:
                ov = self._stack.enter_context(journal.overlay(self.path, j))
                self.f = h5py.File(ov, "r")
        except (OSError, ValueError) as e:
            self._stack.close()
            raise _open_error(e) from None
        try:
            _check_root(self.f, self.path)
        except BaseException:
            self.__exit__()
            raise
        return self.f

    def __exit__(self, *exc):
        try:
            if self.f is not None:
                self.f.close()
        finally:
            self.f = None
            self._stack.close()


def _members(f, name: str):
    """The /points or /failures group of an open file, None when absent; ResultFileError when not a group."""
    g = f.get(name)
    if g is not None and not isinstance(g, _h5py().Group):
        raise ResultFileError(f"/{name} is not a group")
    return g


def _attr_str(g, name: str, default: str = "") -> str:
    v = g.attrs.get(name, default)
    return v.decode() if isinstance(v, bytes) else str(v)


def _read_arrays(g) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The arrays (and decision vector) of a point group, checked: a group of numeric datasets with theta."""
    h5py = _h5py()
    key = _attr_str(g, "key")
    a = g.get("arrays")
    if not isinstance(a, h5py.Group):
        raise ResultFileError(f"point {key!r}: 'arrays' is {'missing' if a is None else 'not a group'}")
    arrays = {}
    for name, ds in a.items():
        if not isinstance(ds, h5py.Dataset) or ds.dtype.kind not in "fiub":
            raise ResultFileError(f"point {key!r}: arrays/{name} is not a numeric dataset")
        arrays[name] = np.array(ds[()])
    theta = arrays.get("theta")
    if theta is None or theta.ndim != 1 or theta.size < 2:
        raise ResultFileError(f"point {key!r}: arrays/theta (the crank angles of the nodes) is "
                              f"{'missing' if theta is None else 'not a 1-D array of nodes'}")
    for name, arr in arrays.items():
        if arr.ndim == 0 or arr.shape[-1] != theta.size:
            raise ResultFileError(f"point {key!r}: arrays/{name} has shape {arr.shape}, not (..., {theta.size})")
    d = g.get("decision")
    if d is not None and not (isinstance(d, h5py.Dataset) and d.dtype.kind in "fiu"):
        raise ResultFileError(f"point {key!r}: 'decision' is not a numeric dataset")
    return arrays, (np.array(d[()]) if d is not None else None)
