"""Provenance of results: package version, git commit and dirty flag of the source tree, library versions,
host and CPU (a typed record, `Provenance`, from `current()`), UTC timestamps."""
from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import subprocess
from dataclasses import asdict, dataclass, fields
from pathlib import Path

DIST_NAME = "pedaling-toolkit"


def package_version() -> str:
    """toolkit.__version__ if defined, else the installed distribution's version, else '0+unknown'."""
    try:
        from toolkit import __version__  # type: ignore[attr-defined]

        return str(__version__)
    except ImportError:
        pass
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(DIST_NAME)
        except PackageNotFoundError:
            return "0+unknown"
    except Exception:  # pragma: no cover - importlib.metadata broken
        return "0+unknown"


def _source_dir() -> Path:
    import toolkit

    return Path(toolkit.__file__).resolve().parent.parent


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit (HEAD) of the git work tree the package is imported from, or None (not a git checkout, git
    missing, or any error). Read-only: runs `git rev-parse HEAD` once per process."""
    src = _source_dir()
    if not any((d / ".git").exists() for d in (src, *src.parents)):
        return None
    try:
        r = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    out = r.stdout.strip()
    return out if r.returncode == 0 and out else None


def utc_now() -> str:
    """Current time, ISO 8601 in UTC with seconds (e.g. 2025-01-31T12:00:00+00:00)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


# ----------------------------------------------------------------------------------------------- the record


@functools.lru_cache(maxsize=1)
def git_dirty() -> bool | None:
    """True when the work tree of git_commit() has uncommitted changes to tracked files (so the commit alone
    does not identify the code), False when clean, None when unknown (no git checkout, git missing, error)."""
    if git_commit() is None:
        return None
    try:
        r = subprocess.run(["git", "-C", str(_source_dir()), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(r.stdout.strip()) if r.returncode == 0 else None


def _module_version(name: str) -> str:
    try:
        mod = __import__(name)
    except Exception:  # noqa: BLE001 - not installed or broken: unknown
        return ""
    return str(getattr(mod, "__version__", "") or "")


def _ipopt_version() -> str:
    """Version of the IPOPT library bundled with casadi (from its file name, e.g. libipopt.so.3.14.19)."""
    import glob
    import re

    try:
        import casadi

        d = Path(casadi.__file__).parent
    except Exception:  # noqa: BLE001
        return ""
    for p in sorted(glob.glob(str(d / "*ipopt*"))):
        m = re.search(r"(?:^|[/\\])(?:lib)?ipopt[.-](?:so[.])?(\d+\.\d+\.\d+)", p) or \
            re.search(r"(?:^|[/\\])libipopt\.(\d+\.\d+\.\d+)\.dylib", p)
        if m:
            return m.group(1)
    return ""


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


@dataclass(frozen=True)
class Provenance:
    """What produced a result: code (toolkit version, git commit and whether the work tree was dirty), the
    numerical libraries, and the machine. Stored in result files as the JSON attribute `provenance_json`."""

    toolkit_version: str
    git_commit: str            # "" when unknown
    git_dirty: bool | None     # uncommitted changes to tracked files; None when unknown
    python: str
    numpy: str
    scipy: str
    casadi: str
    ipopt: str
    h5py: str
    hdf5: str
    host: str
    platform: str
    cpu: str
    cpu_count: int

    @property
    def code_identified(self) -> bool:
        """True when git_commit alone identifies the code that ran (a known commit, clean work tree)."""
        return bool(self.git_commit) and self.git_dirty is False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> "Provenance":
        """Rebuild from JSON; unknown fields are ignored and missing ones are empty (older/newer files)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("provenance: not a JSON object")
        kw = {}
        for f in fields(cls):
            v = data.get(f.name)
            if f.name == "git_dirty":
                kw[f.name] = v if isinstance(v, bool) else None
            elif f.name == "cpu_count":
                kw[f.name] = int(v) if isinstance(v, int) and not isinstance(v, bool) else 0
            else:
                kw[f.name] = v if isinstance(v, str) else ""
        return cls(**kw)

    def line(self) -> str:
        dirty = {True: " (dirty work tree)", False: "", None: " (work tree state unknown)"}[self.git_dirty]
        commit = (self.git_commit[:12] + dirty) if self.git_commit else "unknown commit"
        return (f"toolkit {self.toolkit_version}, git {commit}; casadi {self.casadi or '?'}, ipopt "
                f"{self.ipopt or '?'}, numpy {self.numpy or '?'}, h5py {self.h5py or '?'}; {self.host}, "
                f"{self.cpu or '?'} x{self.cpu_count}")


@functools.lru_cache(maxsize=1)
def _environment() -> dict:
    import platform
    import socket
    import sys

    try:
        import h5py

        h5py_version, hdf5_version = h5py.__version__, h5py.version.hdf5_version
    except Exception:  # noqa: BLE001
        h5py_version = hdf5_version = ""
    return dict(python=platform.python_version(), numpy=_module_version("numpy"), scipy=_module_version("scipy"),
                casadi=_module_version("casadi"), ipopt=_ipopt_version(), h5py=h5py_version, hdf5=hdf5_version,
                host=socket.gethostname(), platform=f"{sys.platform} {platform.machine()} {platform.release()}",
                cpu=_cpu(), cpu_count=os.cpu_count() or 0)


def current() -> Provenance:
    """The provenance of this process (git and library look-ups are done once per process)."""
    return Provenance(toolkit_version=package_version(), git_commit=git_commit() or "", git_dirty=git_dirty(),
                      **_environment())
