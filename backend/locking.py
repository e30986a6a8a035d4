"""An exclusive, non-blocking lock on an output path, so two segmentations never write the same file.

The lock is an OS file lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) on a hidden
``.<name>.lock`` file beside the output: the kernel drops it when the process dies, so a killed run never
leaves a stale lock behind, only (at worst) an empty lock file that the next run takes over.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputBusyError(RuntimeError):
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


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
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
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
