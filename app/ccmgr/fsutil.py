"""Crash-safe file writes: temp file in the same directory, fsync, rename, fsync the directory."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator


def atomic_write(path: str, data: bytes, mode: int = 0o600, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data``; a reader or a crash sees the old or the new file, never half.

    The new file keeps the owner of the file it replaces (or of the directory, for a new
    file), so root running ccmgradm does not take the config away from the service user.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = os.stat(directory)  # a new file belongs to whoever owns the directory
    owner = (st.st_uid, st.st_gid)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        if os.geteuid() == 0:
            os.fchown(fd, *owner)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(directory)


def fsync_dir(directory: str) -> None:
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def give_to_dir_owner(path: str) -> None:
    """Root creating a file or directory in the service's basedir hands it to the service
    user, so the daemon (running as that user) can still open it afterwards."""
    if os.geteuid() != 0:
        return
    st = os.stat(os.path.dirname(os.path.abspath(path)))
    with contextlib.suppress(FileNotFoundError):
        os.chown(path, st.st_uid, st.st_gid)


def private_dir(path: str) -> None:
    """Create a 0700 directory owned like its parent (idempotent)."""
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        give_to_dir_owner(path)


@contextlib.contextmanager
def locked(lock_path: str) -> Iterator[None]:
    """An exclusive advisory lock shared by the daemon's workers and ccmgradm."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    if os.geteuid() == 0:
        give_to_dir_owner(lock_path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def remove_stale_temps(path: str) -> None:
    """Temp files left by a writer killed mid-write (the lock is held by the caller)."""
    directory, base = os.path.split(os.path.abspath(path))
    for name in os.listdir(directory):
        if name.startswith(f".{base}.") and name.endswith(".tmp"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(directory, name))


def file_signature(path: str) -> tuple[int, int, int] | None:
    """Cheap change detector: inode, size and mtime change with every atomic replace."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
