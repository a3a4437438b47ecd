"""Compiled node functions, cached on disk: the NLP's derivatives in C instead of CasADi's SX virtual machine.

Why: IPOPT spends most of a solve evaluating the constraints, their Jacobian and the Hessian of the Lagrangian.
Those are the node-level SX functions of assembly.py mapped over the mesh; compiled to C they evaluate 5-10x
faster (measured: node Hessian 0.6 ms instead of 6.8 ms for 40 nodes). The node values (objective and
constraint terms) are compiled with their reverse derivative, which nlpsol needs once for the multipliers. Compiling one structure takes tens of seconds,
so it is done once per machine and kept:

- key: SHA-256 of the structure (ankle mode, cost, tendon, load; not the mesh: node functions do not depend on
  it), the package version, the source that defines the node functions (every file under toolkit/model, and
  the transcription, assembly and this module: any edit there gives a new key), the CasADi version, the
  compiler and its flags. Hashing
  the code is cheaper than generating the C source (0.1 s), which is only done on a cache miss.
- where: the user cache directory ($XDG_CACHE_HOME or ~/.cache)/pedaling-toolkit/, overridable with
  PEDALING_TOOLKIT_CACHE.
- concurrency: the library is written under a temporary name and renamed into place (atomic), so concurrent
  writers (sweep workers, parallel CLI calls) never expose a half-written file; an exclusive lock file stops
  them from compiling the same source twice (a lock older than LOCK_STALE_S is taken over).
- when (PEDALING_TOOLKIT_COMPILE): `background` (default) starts a detached, low-priority compiler and uses the
  SX functions until the library exists (later processes and later builds load it); `sync` compiles now and
  waits; `off` never compiles nor loads. Without a C compiler on PATH nothing happens.
The answers do not depend on it: the C code performs the same operations as the SX functions.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import casadi as ca

ENV_MODE = "PEDALING_TOOLKIT_COMPILE"
ENV_DIR = "PEDALING_TOOLKIT_CACHE"
MODES = ("background", "sync", "off")
CFLAGS = ("-O1", "-fPIC", "-shared")
LOCK_STALE_S = 900.0
KEEP_LIBRARIES = 32
#: toolkit/ocp modules that define the node functions (the others do not change the compiled code).
NODE_SOURCES = ("transcription.py", "assembly.py", "compiled.py")
#: Functions compiled together with their first-order reverse derivative.
DIFFERENTIABLE = ("node_y", "node_f")


def cache_dir() -> Path:
    """The directory of compiled libraries (created on demand)."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pedaling-toolkit"


def mode() -> str:
    m = os.environ.get(ENV_MODE, "background").strip().lower()
    return m if m in MODES else "background"


_SOURCE_HASH: str | None = None


def source_hash() -> str:
    """SHA-256 of the files that define the node functions (code and data), computed once a process."""
    global _SOURCE_HASH
    if _SOURCE_HASH is None:
        root = Path(__file__).resolve().parents[1]
        files = [f for f in (root / "model").rglob("*") if f.suffix in (".py", ".json", ".csv", ".toml")]
        files += [root / "ocp" / n for n in NODE_SOURCES]
        h = hashlib.sha256()
        for f in sorted(files):
            if f.is_file():
                h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
        _SOURCE_HASH = h.hexdigest()
    return _SOURCE_HASH


def _source(functions: list[ca.Function]) -> str:
    cg = ca.CodeGenerator("nodes", {"with_header": False})
    for f in functions:
        cg.add(f)
        if f.name() in DIFFERENTIABLE:
            # CasADi finds a loaded function's reverse derivative under this name (adj1_<name>): nlpsol
            # differentiates the objective and constraints once, for the multipliers.
            cg.add(f.reverse(1))
    return cg.dump()


def _key(structure: tuple, compiler: str) -> str:
    from .. import __version__

    h = hashlib.sha256()
    for part in (repr(structure), __version__, source_hash(), ca.__version__, compiler, " ".join(CFLAGS)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _take_lock(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            if time.time() - lock.stat().st_mtime < LOCK_STALE_S:
                return False
            lock.unlink()  # a compiler that died long ago left it: take over
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except OSError:
            return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


def _prune(d: Path, keep: int = KEEP_LIBRARIES) -> None:
    """Bound the cache: every edit of the model or problem code gives new libraries, so only the `keep` most
    recently used are kept, and leftovers of compilers killed long ago go. Removing a library that another
    process has loaded is safe (POSIX keeps an open file until it is unmapped)."""
    now = time.time()
    libs = sorted(d.glob("nodes_*.so"), key=lambda f: f.stat().st_mtime, reverse=True)  # touched when loaded
    old = [f for f in d.glob("nodes_*.*") if f.suffix in (".c", ".tmp") and now - f.stat().st_mtime > LOCK_STALE_S]
    for f in libs[keep:] + old:
        try:
            f.unlink()
        except OSError:
            pass


def _compile_command(compiler: str, src: Path, tmp: Path, lib: Path, lock: Path) -> list[str]:
    """Compile to a temporary name, rename into place (atomic on one file system), drop source and lock."""
    cmd = " ".join([compiler, *CFLAGS, f"'{src}'", "-o", f"'{tmp}'", "-lm"])
    return ["sh", "-c", f"{cmd} && mv -f '{tmp}' '{lib}'; rm -f '{src}' '{tmp}' '{lock}'"]


def load(functions: list[ca.Function], structure: tuple,
         how: str | None = None) -> tuple[dict[str, ca.Function] | None, Path | None]:
    """(compiled versions of `functions` by name, library path); `structure` identifies what the functions
    compute beyond the source code (see the key above). The functions are None when the cached library
    does not exist yet (`sync` compiles it first; `background` starts a compile and returns the path where the
    library will appear); the path is None when nothing is or will be compiled."""
    how = how or mode()
    compiler = shutil.which("gcc") or shutil.which("cc")
    if how == "off" or compiler is None:
        return None, None
    lib = None
    try:
        key = _key(structure, compiler)
        d = cache_dir()
        lib = d / f"nodes_{key}.so"
        if not lib.exists():
            d.mkdir(parents=True, exist_ok=True)
            lock = d / f"nodes_{key}.lock"
            if _take_lock(lock):
                _prune(d)
                tag = f"{key}.{os.getpid()}"
                src, tmp = d / f"nodes_{tag}.c", d / f"nodes_{tag}.so.tmp"
                src.write_text(_source(functions))
                cmd = _compile_command(compiler, src, tmp, lib, lock)
                if how == "sync":
                    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                else:
                    # Detached (own session: it outlives this process) and niced (it must not slow the solves).
                    subprocess.Popen(["nice", "-n", "15", *cmd] if shutil.which("nice") else cmd,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
            elif how == "sync":  # another process is compiling the same source: wait for it
                t0 = time.time()
                while not lib.exists() and lock.exists() and time.time() - t0 < LOCK_STALE_S:
                    time.sleep(0.5)
            if not lib.exists():
                return None, lib
        out = {f.name(): ca.external(f.name(), str(lib)) for f in functions}
        try:
            os.utime(lib)  # "recently used", for _prune
        except OSError:
            pass
        return out, lib
    except (OSError, RuntimeError):  # no cache directory, a broken library: the SX functions serve
        return None, None
