"""One writer per folder: an advisory lock (flock) on FOLDER/.lock, held while a run or a pipeline
stage writes there. The kernel drops it when the holder exits, killed or not, so a crashed run
never leaves a stale lock. Only process 0 of a multi-process run takes it (every process of that
run writes the same folder)."""

import contextlib
import errno
import fcntl
import os
import sys
import time

import jax

LOCK_FILE = ".lock"

_held: dict[str, tuple[int, int]] = {}  # path -> (fd, depth): re-entrant within a process


class FolderLocked(RuntimeError):
    """Another process is writing the folder."""


@contextlib.contextmanager
def folder_lock(folder: str, hint: str = "give this run another folder"):
    """Holds FOLDER/.lock for the block; raises FolderLocked, naming the holder, when another
    process holds it."""
    if jax.process_index() != 0:
        yield
        return
    path = os.path.join(os.path.abspath(folder), LOCK_FILE)
    if path in _held:
        fd, depth = _held[path]
        _held[path] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _held[path]
            _held[path] = (fd, depth - 1)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "unknown process"
        os.close(fd)
        if e.errno in (errno.EAGAIN, errno.EACCES):
            raise FolderLocked(f"{os.path.dirname(path)} is in use by another fbjax process "
                               f"({holder}); refusing to write there at the same time. Wait for "
                               f"it to finish, or {hint}") from None
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}: "
                  f"{' '.join(sys.argv)[:300]}\n".encode(), 0)
    _held[path] = (fd, 1)
    try:
        yield
    finally:
        fd, depth = _held[path]
        if depth == 1:
            del _held[path]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        else:
            _held[path] = (fd, depth - 1)
