"""Atomic writes: write to a temporary name beside the target, then rename.

A crash or Ctrl-C mid-write leaves the previous file (or nothing) under the
user's name, never a half-written one.  Temporary names are unique per
process and call (``.NAME.HOST-PID.RANDOM.partial``), so concurrent writers
never clobber each other's partial files; the last rename wins.  A process
killed mid-write cannot remove its temporary file: the next write to the same
name removes those left by dead processes of the same host.  Directory stores
(Zarr) are swapped in with one atomic exchange where Linux offers it
(``renameat2(RENAME_EXCHANGE)``), else with two renames.  Files end with the
permissions of any new file of the user (their umask), and locks leave no file behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_target",
    "file_lock",
    "user_file_mode",
]


@contextlib.contextmanager
def file_lock(target: str | os.PathLike, *, shared: bool = False) -> Iterator[None]:
    """Hold an advisory lock for writing or reading ``target`` (a lock on its folder; no lock file).

    Used where one logical file is several files (a saved model's JSON + npz): writers
    hold it exclusively while they write and rename, readers shared while they read, so two
    processes saving to the same name never leave a mixed pair.  The lock is ``flock`` on
    the folder itself, so nothing is left in the user's output folder; writers of other
    names in the same folder wait for each other only for the moments of a save.  A no-op
    where ``fcntl`` is missing (Windows).

    Args:
        target: the file the lock protects.
        shared: a reader's (shared) lock instead of a writer's (exclusive) one.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    folder = Path(target).parent
    if not shared:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        if not shared:
            raise
        yield  # an unreadable folder: nobody can be writing there through pysciml
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


_umask_lock = threading.Lock()


def user_file_mode() -> int:
    """The mode a new file of this process gets (``0o666`` less the umask), e.g. ``0o644``.

    Read from ``/proc/self/status`` where Linux offers it; elsewhere ``os.umask`` is set and
    restored under a lock (it is process-wide).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def check_target(target, *, argument: str = "path", directory: bool = False) -> Path:
    """Check that ``target`` can be written (before any work is done) and return it as a Path.

    Args:
        target: the file (or directory store) a writer will create or replace.
        argument: the caller's name for it, used in the error message.
        directory: the writer produces a directory (a Zarr store).

    Raises:
        InputError: not a path, an existing entry of the other kind, or a parent that is a file.
    """

    if isinstance(target, bool) or not isinstance(target, (str, os.PathLike)) or os.fspath(target) in ("", b""):
        raise InputError(f"must be a file path (a str or pathlib.Path), got {target!r}.", argument=argument)
    path = Path(os.fsdecode(os.fspath(target)))
    if path.exists():
        if directory and not path.is_dir():
            raise InputError(
                f"{path} exists and is a file, not a directory store; remove it or choose another path.",
                argument=argument,
            )
        if not directory and path.is_dir():
            raise InputError(
                f"{path} is a directory; give a file name inside it (e.g. {path / 'result'}).", argument=argument
            )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(
                    f"{parent} is a file, so {path} cannot be created inside it; choose another path.",
                    argument=argument,
                )
            break
    return path


def _tag() -> str:
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:24] or "host"
    return f"{host}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _remove_stale(target: Path) -> None:
    """Remove temporary files of earlier writes to ``target`` by dead processes of this host
    (an old directory store left between two renames is put back if ``target`` is missing)."""
    if os.name != "posix":  # os.kill(pid, 0) is not a liveness probe elsewhere
        return
    host = _tag().rsplit("-", 1)[0]
    prefix = f".{target.name}."
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or not name.endswith((".partial", ".old")):
            continue
        tag = name[len(prefix) :].split(".", 1)[0]
        h, _, pid = tag.rpartition("-")
        if h != host or not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            if name.endswith(".old") and not target.exists():
                os.replace(entry, target)
            elif entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, directory: bool = False, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    A file gets the permissions of an ordinary new file (``0o666`` less the user's umask,
    e.g. ``0o644``), not the private ``0o600`` of the temporary file, so results can be
    shared as the user's other files are.

    Args:
        target: final file (or directory, e.g. a Zarr store) name.
        directory: the writer produces a directory (Zarr, created by the writer with the
            user's umask); the old one is replaced after the new one is complete.
        mode: permissions of the file instead (e.g. ``0o600`` for private caches).

    User-facing writers check ``target`` first with :func:`check_target`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{_tag()}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    if directory:
        tmp_path.unlink()
    try:
        yield tmp_path
        if directory:
            if target.exists() and _exchange(tmp_path, target):
                shutil.rmtree(tmp_path, ignore_errors=True)  # it now holds the old store
            elif target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.{_tag()}.", suffix=".old", dir=target.parent))
                old.rmdir()
                os.replace(target, old)
                os.replace(tmp_path, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp_path, target)
        else:
            os.chmod(tmp_path, user_file_mode() if mode is None else mode)  # not mkstemp's 0o600
            with open(tmp_path, "rb+") as fh:  # make the bytes durable before the rename
                os.fsync(fh.fileno())
            os.replace(tmp_path, target)
    except BaseException:
        if tmp_path.is_dir():
            shutil.rmtree(tmp_path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``target`` atomically (``mode``: permissions; default the user's umask)."""
    with atomic_path(target, mode=mode) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))
