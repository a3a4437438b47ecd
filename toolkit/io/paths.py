"""Where files can be written: a one-line reason for a directory that cannot be created or written, checked
before any work starts (a NUL byte, a name longer than the file system allows, a file in the way, a read-only
or pseudo file system such as /proc). Creates nothing (the write test makes and removes an empty directory)."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

NAME_MAX = 255     # bytes per path component (Linux, macOS)
PATH_MAX = 4095    # bytes per path


def _name_max(existing: Path) -> int:
    try:
        return int(os.pathconf(existing, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def path_text_problem(path) -> str | None:
    """What is wrong with the spelling of `path` (NUL byte, too long), else None."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if "\0" in text:
        return "contains a NUL byte"
    if not text.strip():
        return "is empty"
    try:
        raw = os.fsencode(os.path.abspath(text))
    except (UnicodeEncodeError, ValueError) as e:
        return f"cannot be encoded for the file system ({e})"
    if len(raw) > PATH_MAX:
        return f"is {len(raw)} bytes long (at most {PATH_MAX})"
    for part in Path(os.path.abspath(text)).parts:
        n = len(os.fsencode(part))
        if n > NAME_MAX:
            return f"has a component of {n} bytes ({part[:20]}...; at most {NAME_MAX} per name)"
    return None


def existing_ancestor(path) -> tuple[Path, str | None]:
    """(the deepest existing ancestor of `path`, or `path` itself; what is wrong on the way or None)."""
    p = Path(os.path.abspath(os.fspath(path)))
    while True:
        try:
            st = os.stat(p)
        except (FileNotFoundError, NotADirectoryError):
            if p == p.parent:
                return p, "no part of it exists"
            p = p.parent
            continue
        except OSError as e:
            return p, f"{p} cannot be accessed ({e.strerror or e})"
        if not stat.S_ISDIR(st.st_mode):
            return p, f"{p} exists and is not a directory"
        return p, None


def directory_problem(path) -> str | None:
    """None when `path` is, or can be created as, a writable directory; else what is wrong (one line)."""
    why = path_text_problem(path)
    if why:
        return why
    p, why = existing_ancestor(path)
    if why:
        return why
    limit = _name_max(p)
    for part in Path(os.path.abspath(os.fspath(path))).parts:
        if len(os.fsencode(part)) > limit:
            return f"has a name longer than {limit} bytes, the limit of this file system"
    if not os.access(p, os.W_OK | os.X_OK):
        return f"{p} is not writable"
    try:  # permissions are not the whole story (root, read-only and pseudo file systems such as /proc)
        os.rmdir(tempfile.mkdtemp(prefix=".write-test-", dir=p))
    except OSError as e:
        return f"{p} is not writable ({e.strerror or e})"
    return None


def shown(path, limit: int = 120) -> str:
    """`path` for a one-line message: control characters escaped (a NUL byte as \\x00), long paths shortened."""
    text = os.fspath(path)
    text = os.fsdecode(text) if isinstance(text, bytes) else text
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else f"{text[:limit // 2 - 2]}...{text[-(limit // 2 - 1):]}"
