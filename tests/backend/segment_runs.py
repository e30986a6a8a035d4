"""Running segmentations in the fault, race and fuzz tests, and checking what they leave on disk.

Plain helpers (no fixtures; those are in ``conftest.py``): the tiling of the 128² test scene, the
environment of child processes, a cancel check that holds a run, a run in a thread, and listings and
digests of files to compare before and after a run.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from geofuse.backend.inference import SegmentOptions

TILING = SegmentOptions(device="cpu", tile=32, overlap=8, batch_size=1)
TILES = 25  # a 128² raster in 32-pixel tiles overlapping by 8: 5 × 5
CHILD_ENV = os.environ | {"OMP_NUM_THREADS": "1"}
"""Child processes use one thread each: the machines running the tests are shared."""


def digest(paths: Iterator[Path] | list[Path]) -> dict[Path, str]:
    """SHA-256 of each file, to show that inputs are unchanged after a run."""
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def files(folder: Path) -> list[str]:
    """Every file under ``folder``, relative and sorted: what a run left behind."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


class Paused:
    """A cancel check that holds the run at its ``at``-th tile until released (never cancels)."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0
        self.reached, self.release = threading.Event(), threading.Event()

    def __call__(self) -> bool:
        self.calls += 1
        if self.calls == self.at:
            self.reached.set()
            assert self.release.wait(timeout=60)
        return False


def run_in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list]:
    """Start ``call`` in a thread; the returned list receives its result or the exception it raised."""
    outcome: list = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # reported by the test thread
            outcome.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome
