"""Files and folders written whole or not at all: the one place the project writes its outputs.

Every writer writes beside its target (``<name>.tmp``), flushes and ``fsync``s, then puts it in place
with one ``os.replace`` (a single ``rename(2)``, atomic on POSIX file systems) and ``fsync``s the parent
folder so the new name survives a crash. An interrupted write leaves the old file (or none), never half
a file; this is what lets an interrupted run resume (:mod:`itdeploy_lite.run_folder`).

    from itdeploy_lite import atomic
    atomic.write_json(run_dir / "config.json", {"seed": 0})
    atomic.write_jsonl(gen_dir / "traces.jsonl", records)
    atomic.replace_folder(gen_dir / "adapter", lambda tmp: model.save_pretrained(tmp))
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import json
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable, Iterator


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def open_atomic(path: str | Path, mode: str = "w") -> Iterator:
    """Open ``<path>.tmp`` for writing; on a clean exit flush, ``fsync`` and ``os.replace`` it onto
    ``path`` (parent folders are created). On an exception the temporary file is removed and ``path``
    is left as it was.

    Args:
        path: the target file.
        mode: ``"w"`` (text, UTF-8) or ``"wb"``.

    Raises:
        ValueError: a mode that does not write from the start (``"a"``, ``"r+"``, ...).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"open_atomic writes a whole file: mode 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    f = tmp.open(mode, encoding=None if "b" in mode else "utf-8")
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
    except BaseException:
        f.close()
        tmp.unlink(missing_ok=True)
        raise
    f.close()
    os.replace(tmp, path)
    _fsync_folder(path.parent)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically. Returns ``path``."""
    with open_atomic(path) as f:
        f.write(text)
    return Path(path)


def write_json(path: str | Path, obj, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically. Returns ``path``."""
    return write_text(path, json.dumps(obj, indent=indent) + ("\n" if indent is not None else ""))


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> Path:
    """Write ``rows`` as JSON lines (one object per line) to ``path`` atomically. Returns ``path``."""
    with open_atomic(path) as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return Path(path)


def append_json_line(path: str | Path, obj) -> Path:
    """Append ``obj`` as one JSON line to ``path`` and fsync it: a journal that survives a crash.

    The one exception to "files are replaced whole", for a stage that saves its work as it goes (the
    deploy stage's ``traces.partial.jsonl``). A line torn by a crash (no final newline) is cut off first,
    so the new line never joins it. Returns ``path``.
    """
    path = Path(path)
    with open(path, "a+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(0)
            data = f.read()
            if not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
        f.seek(0, os.SEEK_END)
        f.write((json.dumps(obj) + "\n").encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    return path


def read_json_lines(path: str | Path) -> list:
    """The complete lines of a journal written by :func:`append_json_line` (``[]`` if it does not exist);
    a last line torn by a crash (no final newline) is left out.

    Raises:
        ValueError: a complete line is not JSON (``path:line`` in the message).
    """
    path = Path(path)
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")[:-1]  # the part after the last newline is empty or torn
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not a JSON line ({error.msg})") from None
    return rows


_RENAME_EXCHANGE = 2  # linux/fs.h


@functools.lru_cache(maxsize=1)
def _renameat2():
    """libc's ``renameat2``, looked up once (``find_library`` runs ``ldconfig``); None where it is missing."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one ``renameat2(RENAME_EXCHANGE)`` (Linux >= 3.15); False where unsupported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                os.fsync(f.fileno())
        _fsync_folder(Path(root))


def replace_folder(dest: str | Path, fill: Callable[[Path], object]) -> Path:
    """Write a folder atomically: ``fill(tmp)`` writes ``<dest>.tmp`` (a stale one is removed first), its
    files are ``fsync``ed, then it takes ``dest``'s place in one step.

    A new ``dest`` is one ``os.replace``. An existing ``dest`` is swapped with the new folder by one
    ``renameat2(RENAME_EXCHANGE)`` (Linux), so at every instant ``dest`` is the old folder or the new
    one, whole; the old one is then removed. Where that call is missing (not Linux), the old folder is
    first renamed aside (``<dest>.old``), leaving an instant without ``dest``; a stage that is redone
    after a crash rewrites it.

    Returns:
        ``dest`` as a :class:`~pathlib.Path`.

    Raises:
        Whatever ``fill`` raises (``dest`` is then untouched and ``<dest>.tmp`` removed).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        fill(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_tree(tmp)
    if not dest.exists():
        os.replace(tmp, dest)
    elif _exchange(tmp, dest):
        shutil.rmtree(tmp)  # now the old folder
    else:
        old = dest.with_name(dest.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old)
    _fsync_folder(dest.parent)
    return dest
