"""Crash-safe, O(1) updates of one file in place: a page overlay and a write-ahead (redo) journal.

Why: rewriting the whole result file for every stored point costs O(stored points) per point (1.5 s at 400
points). Appending into the HDF5 file in place is O(1), but HDF5 has no journal of its own: a crash half way
through its metadata writes leaves a corrupt file. So HDF5 never writes to the disk here:

1. `OverlayFile` is the file object h5py opens (its "fileobj" driver). Reads come from the file on disk;
   writes go to in-memory copies of the 4 kB pages they touch. The file on disk is not changed.
2. `commit` writes the dirty pages, the new size, the file's identity (device, inode) and a SHA-256 of it all
   to a journal `.NAME.journal` (temporary file, fsync, rename: the journal exists complete or not at all),
   then applies the pages to the file under an exclusive lock, fsyncs it and deletes the journal.
3. A crash before the rename loses only this transaction (the file is untouched); a crash during the apply
   leaves a complete journal, which the next writer applies again (`recover`; applying is idempotent) and
   which readers lay over the file meanwhile (`pending` + `OverlayFile`), so nobody sees a half-applied file.
4. Readers take a shared lock (`shared_lock`) while they read, the apply an exclusive one: a reader never
   sees a file being applied to. When a reader keeps the file open (h5py holds a shared lock for as long as a
   file is open, e.g. in a notebook), the apply does not wait for it: after 2 s the new content is written
   whole beside the file and renamed over it (O(file size), the reader keeps its consistent old view).

Disk full: the space the file grows by is reserved (posix_fallocate) before the first byte is applied; if
that fails, the journal is dropped and the file is exactly as before. Every error is an OSError.
"""
from __future__ import annotations

import errno
import hashlib
import io
import os
import struct
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PAGE = 4096
MAGIC = b"PTK-JOURNAL-1\n"
_HEAD = struct.Struct("<QQQQQI")  # dev, ino, base_size (bytes of the old file kept), new_size, page size, n pages
_LOCK_WAIT_S = 60.0   # readers wait this long for an apply (which takes milliseconds)
_APPLY_WAIT_S = 2.0   # an apply waits this long for readers, then writes the whole file beside and renames it

try:  # pragma: no cover - always there on Linux/macOS
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks
    fcntl = None


def journal_path(path) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.journal")


class OverlayFile(io.RawIOBase):
    """A file object over `base` (a path, or None for an empty file) whose writes stay in memory pages.

    pages: initial dirty pages (index -> PAGE bytes), size: initial logical size, base_limit: bytes of the
    base file at or beyond this offset read as zeros (the file was truncated below them)."""

    def __init__(self, base=None, pages=None, size=None, base_limit=None) -> None:
        super().__init__()
        self._fd = os.open(base, os.O_RDONLY) if base is not None else None
        st = os.fstat(self._fd) if self._fd is not None else None
        self.identity = (st.st_dev, st.st_ino) if st else (0, 0)
        disk = st.st_size if st else 0
        self.base_limit = disk if base_limit is None else min(base_limit, disk)
        self.size = self.base_limit if size is None else size
        self.pages: dict[int, bytearray] = {i: bytearray(p) for i, p in (pages or {}).items()}
        self._pos = 0

    # file protocol used by h5py's fileobj driver
    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = offset if whence == 0 else (self._pos + offset if whence == 1 else self.size + offset)
        return self._pos

    def _page(self, i: int) -> bytes:
        p = self.pages.get(i)
        if p is not None:
            return p
        start = i * PAGE
        n = min(PAGE, self.base_limit - start)
        data = os.pread(self._fd, n, start) if (n > 0 and self._fd is not None) else b""
        return data + bytes(PAGE - len(data))

    def readinto(self, b) -> int:
        mv = memoryview(b).cast("B")
        n = max(0, min(len(mv), self.size - self._pos))
        done = 0
        while done < n:
            i, off = divmod(self._pos + done, PAGE)
            k = min(PAGE - off, n - done)
            mv[done:done + k] = self._page(i)[off:off + k]
            done += k
        self._pos += n
        return n

    def write(self, b) -> int:
        mv = memoryview(b).cast("B")
        done = 0
        while done < len(mv):
            i, off = divmod(self._pos + done, PAGE)
            k = min(PAGE - off, len(mv) - done)
            page = self.pages.get(i)
            if page is None:
                page = self.pages[i] = bytearray(self._page(i))
            page[off:off + k] = mv[done:done + k]
            done += k
        self._pos += done
        self.size = max(self.size, self._pos)
        return done

    def truncate(self, size=None) -> int:
        size = self._pos if size is None else size
        if size < self.size:  # bytes beyond must read as zeros if the file grows again
            self.base_limit = min(self.base_limit, size)
            for i in [i for i in self.pages if i * PAGE >= size]:
                del self.pages[i]
            i, off = divmod(size, PAGE)
            if off and i in self.pages:
                self.pages[i][off:] = bytes(PAGE - off)
        self.size = size
        return size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        super().close()

    def getvalue(self) -> bytes:
        """The whole logical content."""
        self.seek(0)
        buf = bytearray(self.size)
        self.readinto(buf)
        return bytes(buf)

    def copy_to(self, fh, chunk: int = 1 << 20) -> None:
        """Write the whole logical content to the binary file `fh`, a chunk at a time."""
        self.seek(0)
        buf = bytearray(chunk)
        while n := self.readinto(buf):
            fh.write(memoryview(buf)[:n])


@dataclass(frozen=True)
class Journal:
    identity: tuple[int, int]
    base_limit: int
    new_size: int
    pages: dict[int, bytes]


def _encode(j: Journal) -> bytes:
    head = MAGIC + _HEAD.pack(j.identity[0], j.identity[1], j.base_limit, j.new_size, PAGE, len(j.pages))
    body = b"".join(struct.pack("<Q", i) + bytes(p) for i, p in sorted(j.pages.items()))
    return head + body + hashlib.sha256(head + body).digest()


def _decode(data: bytes) -> Journal | None:
    """The journal in `data`, or None when it is incomplete or damaged."""
    n0 = len(MAGIC) + _HEAD.size
    if len(data) < n0 + 32 or not data.startswith(MAGIC):
        return None
    dev, ino, base_limit, new_size, page, n = _HEAD.unpack(data[len(MAGIC):n0])
    if page != PAGE or len(data) != n0 + n * (8 + PAGE) + 32:
        return None
    if hashlib.sha256(data[:-32]).digest() != data[-32:]:
        return None
    pages = {}
    for k in range(n):
        o = n0 + k * (8 + PAGE)
        pages[struct.unpack("<Q", data[o:o + 8])[0]] = data[o + 8:o + 8 + PAGE]
    return Journal((dev, ino), base_limit, new_size, pages)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _flock(fd: int, kind: int, what: Path, wait_s: float = _LOCK_WAIT_S) -> None:
    if fcntl is None:  # pragma: no cover
        return
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise BlockingIOError(errno.EWOULDBLOCK, f"{what} stayed locked by another process for "
                                                         f"{wait_s:.0f} s") from None
            time.sleep(0.01)


@contextmanager
def shared_lock(path):
    """Hold a shared lock on `path` (readers) so that no journal is applied to it meanwhile."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        _flock(fd, fcntl.LOCK_SH if fcntl else 0, Path(path))
        yield
    finally:
        os.close(fd)


def pending(path) -> Journal | None:
    """A complete journal of `path` that has not been (completely) applied yet, else None."""
    jp = journal_path(path)
    try:
        j = _decode(jp.read_bytes())
        st = os.stat(path)
    except OSError:
        return None
    if j is None or j.identity != (st.st_dev, st.st_ino):
        return None
    return j


def overlay(path, j: Journal | None) -> OverlayFile:
    """A read view of `path` with journal `j` laid over it (j None: the file as it is)."""
    if j is None:
        return OverlayFile(path)
    return OverlayFile(path, j.pages, j.new_size, j.base_limit)


def recover(path) -> None:
    """Writers call this first: apply a complete leftover journal of `path`, drop an incomplete or stale one."""
    jp = journal_path(path)
    if not jp.exists():
        return
    j = pending(path)
    if j is None:
        try:
            jp.unlink()
        except FileNotFoundError:
            pass
        return
    _apply(Path(path), jp, j, first=False)


def commit(path, ov: OverlayFile) -> None:
    """Make the changes made through `ov` (opened over the existing file `path`) durable and apply them."""
    path = Path(path)
    j = Journal(ov.identity, ov.base_limit, ov.size,
                {i: bytes(p) for i, p in ov.pages.items() if i * PAGE < ov.size})
    jp = journal_path(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{jp.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_encode(j))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, jp)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)
    _apply(path, jp, j, first=True)


def _replace_whole(path: Path, jp: Path, j: Journal, mode: int) -> None:
    """Apply a journal without touching the open file: write the new content beside it and rename it over
    (used while another process holds the file open for reading, e.g. h5py in a notebook)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh, overlay(path, j) as ov:
            ov.copy_to(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # from here on the journal is stale (another inode) and ignored
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    jp.unlink()
    _fsync_dir(path.parent)


def _apply(path: Path, jp: Path, j: Journal, first: bool) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        try:
            _flock(fd, fcntl.LOCK_EX if fcntl else 0, path, _APPLY_WAIT_S)
        except BlockingIOError:  # readers keep the file open: leave their inode alone
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == j.identity:
                try:
                    _replace_whole(path, jp, j, st.st_mode & 0o777)
                except OSError:
                    if first:  # the file was not changed: drop the transaction
                        jp.unlink()
                    raise
            return
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != j.identity:  # the file was replaced: the journal is not for it
            jp.unlink()
            raise OSError(errno.ESTALE, f"{path} was replaced while it was being written; the last write was "
                                        "dropped")
        if j.new_size > st.st_size:  # reserve the space first: a full disk fails here, before any change
            try:
                if hasattr(os, "posix_fallocate"):  # not on macOS: there a full disk fails in pwrite (replayed)
                    os.posix_fallocate(fd, st.st_size, j.new_size - st.st_size)
            except OSError as e:
                if e.errno in (errno.EINVAL, errno.EOPNOTSUPP):  # the file system cannot reserve: just write
                    pass
                else:
                    os.ftruncate(fd, st.st_size)
                    if first:  # nothing was changed: drop the transaction, the file stays as it was
                        jp.unlink()
                    raise
        if j.base_limit < st.st_size:
            os.ftruncate(fd, j.base_limit)
        for i, page in sorted(j.pages.items()):
            os.pwrite(fd, page[:max(0, min(PAGE, j.new_size - i * PAGE))], i * PAGE)
        os.ftruncate(fd, j.new_size)
        os.fsync(fd)
        jp.unlink()
        _fsync_dir(path.parent)
    finally:
        os.close(fd)
