"""An exclusive, non-blocking lock on an output path, so two segmentations never write the same file.

The lock is an OS file lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) on a hidden
``.<name>.lock`` file beside the output: the kernel drops it when the process dies, so a killed run never
leaves a stale lock behind, only (at worst) its lock file, which the next run takes over. The lock file
holds the holder's journal (:class:`HeldLock`): the exact files a run has created, so the next run that
takes the lock of a killed one can remove its leftovers (``backend/claims.py``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import GeoFuseError

JOURNAL_LIMIT = 1 << 20
"""The most bytes of a lock file read back as a journal (a journal lists a handful of paths)."""


class OutputBusyError(GeoFuseError):
    """Another segmentation holds the lock on this output."""


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def lock_path(output: Path) -> Path:
    """The lock file of ``output``."""
    return output.with_name(f".{output.name}.lock")


@dataclass(frozen=True)
class HeldLock:
    """A lock this process holds: its file and open descriptor, to read and replace the journal in it."""

    path: Path
    fd: int

    def journal(self) -> str:
        """What the lock file holds: a killed holder's journal, or ``""``."""
        os.lseek(self.fd, 0, os.SEEK_SET)
        return os.read(self.fd, JOURNAL_LIMIT).decode("utf-8", errors="replace")

    def record(self, text: str) -> None:
        """Replace the journal with ``text`` (flushed to the file before returning)."""
        data = text.encode("utf-8")
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.write(self.fd, data)
        os.fsync(self.fd)


@contextmanager
def output_lock(output: Path) -> Iterator[HeldLock]:
    """Hold the lock of ``output`` for the ``with`` block; removes the lock file afterwards.

    Raises:
        OutputBusyError: When another process or thread holds it.
    """
    path = lock_path(output)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise OutputBusyError(f"{output} is being written by another segmentation")
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file between our open and our lock: lock the new one
    try:
        yield HeldLock(path, fd)
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
