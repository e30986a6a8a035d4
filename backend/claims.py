"""Outputs claimed up front, and exactly a run's own files removed when it fails or is killed.

A segmentation writes several final files (``backend/outputs.py``): the class raster, its ``.qml`` and
``.aux.xml`` sidecars and perhaps a confidence raster. :class:`OutputClaim` takes the lock of every one of
them before anything is written, so two runs that share any output or sidecar never both go ahead; under those
locks it checks that none exists (unless overwriting) and remembers what each was; it journals every temporary
in the lock files *before* the temporary is created; and at the end it places the temporaries without
replacing anything that appeared at a final path meanwhile (a hard link, which fails when the name is taken,
where the file system has them). A failure, a cancel or a signal removes exactly what the run created: its
journaled temporaries, the finals it placed and the folders it made, never files found by a pattern.

A killed run cannot clean up, but its journal stays in its lock files: the next run that takes one of those
locks (or the QGIS side after its worker was killed: :func:`recover`, through
:func:`geofuse.backend.outputs.leftover_temporaries`) removes the files listed there before
it looks at its outputs. A file is removed only if it still is the one the journal names (same inode).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Sequence
from contextlib import ExitStack, suppress
from pathlib import Path
from types import TracebackType

from .errors import GeoFuseError
from .locking import HeldLock, OutputBusyError, lock_path, output_lock

Entry = tuple[Path, int | None]
"""A journaled file and its inode (None until it exists)."""


class ClaimError(GeoFuseError):
    """An output cannot be claimed or placed; the message says which and why."""


def _state(path: Path) -> tuple[int, int, int, int] | None:
    """What is at ``path`` itself (a link is not followed): device, inode, size, mtime; None if nothing."""
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def _inode(path: Path) -> int | None:
    state = _state(path)
    return state[1] if state is not None else None


def _remove(path: Path, inode: int | None) -> bool:
    """Unlink ``path`` if it is still the file journaled (any file for a name journaled before creation);
    whether it was removed."""
    current = _inode(path)
    if current is not None and (inode is None or current == inode):
        try:
            path.unlink()
        except OSError:
            return False
        return True
    return False


def _entries(value: object) -> list[Entry]:
    """Journal entries ``[[path, inode-or-null], ...]``; anything malformed yields none."""
    if not isinstance(value, list):
        return []
    entries: list[Entry] = []
    for item in value:
        if (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and (item[1] is None or (isinstance(item[1], int) and not isinstance(item[1], bool)))
        ):
            entries.append((Path(item[0]), item[1]))
    return entries


def _recover(text: str, held: set[Path]) -> list[Path]:
    """Remove what the killed run whose journal is ``text`` left behind, and take over its other locks;
    the files removed.

    Only hidden temporaries and, unless the run's last rename happened (it finished but was killed before
    letting go of its locks), the finals it placed, each only while it is the same file (inode)."""
    if not text.strip():
        return []
    try:
        journal = json.loads(text)
    except ValueError:
        return []  # a damaged journal names nothing for sure, so nothing is removed
    if not isinstance(journal, dict):
        return []
    left = [entry for entry in _entries(journal.get("temporaries")) if entry[0].name.startswith(".")]
    placing = _entries(journal.get("placing"))
    finished = bool(placing) and placing[-1][1] is not None and _inode(placing[-1][0]) == placing[-1][1]
    if not finished:
        left += [(path, inode) for path, inode in placing if inode is not None]
    removed = [path for path, inode in left if _remove(path, inode)]
    finals = [path for path, _ in _entries(journal.get("finals"))]
    for final in finals:
        if final not in held and lock_path(final).exists():
            removed += _take_over(final, held | set(finals))
    return removed


def _take_over(final: Path, held: set[Path]) -> list[Path]:
    """Take the free lock of ``final``, recover the journal in it and let go (removing the lock file); the
    files removed."""
    try:
        with output_lock(final) as lock:
            return _recover(lock.journal(), held | {final})
    except (OutputBusyError, OSError):
        return []  # a live run holds it: its files are its own


def recover(outputs: Iterable[str | Path | None]) -> list[Path]:
    """Clean up after runs that were killed while writing these paths, where no live run holds them.

    Removes exactly the files listed in the lock files' journals, then the lock files, and returns the
    files removed. Pass every final path of the run (for a segmentation:
    :func:`geofuse.backend.outputs.segmentation_finals`): a run killed while taking its locks has
    journaled nothing in the last one yet.
    """
    removed: list[Path] = []
    for output in outputs:
        if output is not None and lock_path(Path(output)).exists():
            removed += _take_over(Path(output), set())
    return removed


class OutputClaim:
    """The final paths of one run, locked and checked up front; its temporaries journaled; placed at the end.

    Use as a context manager around the whole run: leaving it with an exception removes the run's own files
    (temporaries, finals it placed, folders it made); leaving it normally removes leftover temporaries.
    Either way the locks are released and their files removed.

    Args:
        finals: Every path the run will place (sidecars included), the main output last.
        overwrite: Whether existing finals may be replaced (each only if unchanged since the claim).
        error: The exception class for refusals (the caller's user-error type).
    """

    def __init__(self, finals: Sequence[Path], overwrite: bool, error: type[Exception] = ClaimError) -> None:
        self.finals = list(dict.fromkeys(Path(final) for final in finals))
        self.overwrite = overwrite
        self.error = error
        self._stack = ExitStack()
        self._locks: list[HeldLock] = []
        self._folders: list[Path] = []
        self._temporaries: list[list] = []
        self._placing: list[Entry] = []
        self._placed: list[Path] = []
        self._before: dict[Path, tuple[int, int, int, int] | None] = {}

    def __enter__(self) -> OutputClaim:
        """Claim every final path (see the class docstring); on any failure release what was claimed."""
        try:
            for final in self.finals:
                self._make_folders(final)
            for final in sorted(self.finals, key=str):
                try:
                    lock = self._stack.enter_context(output_lock(final))
                except OutputBusyError as busy:
                    raise self.error(str(busy)) from busy
                except OSError as failed:
                    raise self.error(
                        f"cannot write {self.finals[-1]}: {failed.strerror or failed}"
                    ) from failed
                _recover(lock.journal(), set(self.finals))
                self._locks.append(lock)
                self._record()  # every lock held names all finals, so whichever is found leads to the rest
            for final in self.finals:
                if final.is_dir():
                    raise self.error(f"{final} is a folder; name a file to write")
                before = _state(final)
                if before is not None and not self.overwrite:
                    raise self.error(f"{final} exists; pass overwrite (--overwrite) to replace it")
                self._before[final] = before
            self._record()
        except BaseException:
            self._abandon()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Release the claims; placed outputs stay only when the block ended without an exception."""
        if kind is None:
            for path, inode in self._temporaries:
                _remove(path, inode)
            self._stack.close()
        else:
            self._abandon()

    def temporary(self, final: Path) -> Path:
        """A fresh hidden name beside ``final`` (``.<stem>.<random>.tmp<suffix>``), journaled before the
        caller creates it (the caller's writer creates it, so the usual permissions apply)."""
        while True:
            candidate = final.with_name(f".{final.stem}.{secrets.token_hex(4)}.tmp{final.suffix}")
            if not os.path.lexists(candidate):
                break
        self.journal(candidate)
        return candidate

    def journal(self, *paths: Path) -> None:
        """Journal further files the run may create (GDAL's sidecars of a temporary), before they exist."""
        self._temporaries += [[Path(path), None] for path in paths]
        self._record()

    def created(self) -> None:
        """Note the inodes of the journaled files that now exist, so only they are ever removed."""
        for entry in self._temporaries:
            if entry[1] is None:
                entry[1] = _inode(entry[0])
        self._record()

    def place(self, moves: Sequence[tuple[Path, Path]]) -> None:
        """Rename each temporary onto its final, in order (the main output last).

        Raises:
            The claim's error, naming a final that appeared or changed since the claim: it is kept, and
            nothing of this run is placed (what was placed before the check is removed by the exit).
        """
        for _, final in moves:
            self._check_unchanged(final)
        self._placing = [(final, _inode(temporary)) for temporary, final in moves]
        self._record()
        for temporary, final in moves:
            if self._before[final] is None:
                self._link_new(temporary, final)
            else:
                self._check_unchanged(final)
                os.replace(temporary, final)
            self._placed.append(final)

    def _check_unchanged(self, final: Path) -> None:
        if _state(final) != self._before[final]:
            raise self.error(
                f"{final} was created or changed by something else during the run; it was kept and this "
                "run's result was discarded"
            )

    def _link_new(self, temporary: Path, final: Path) -> None:
        """Move ``temporary`` to the free name ``final`` without ever replacing a file that took the name."""
        try:
            os.link(temporary, final)
        except FileExistsError:
            self._check_unchanged(final)
            raise
        except OSError:  # no hard links on this file system: check, then rename
            self._check_unchanged(final)
            os.replace(temporary, final)
            return
        os.unlink(temporary)

    def _make_folders(self, final: Path) -> None:
        missing: list[Path] = []
        folder = final.parent
        while not os.path.lexists(folder) and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                continue  # made by someone else meanwhile: not ours to remove
            except OSError as failed:
                raise self.error(f"cannot write {self.finals[-1]}: {failed.strerror or failed}") from failed
            self._folders.append(folder)

    def _record(self) -> None:
        text = json.dumps(
            {
                "pid": os.getpid(),
                "finals": [[str(final), None] for final in self.finals],
                "temporaries": [[str(path), inode] for path, inode in self._temporaries],
                "placing": [[str(final), inode] for final, inode in self._placing],
            }
        )
        for lock in self._locks:
            lock.record(text)

    def _abandon(self) -> None:
        """Remove this run's files (never anything else), release the locks, remove the folders it made."""
        for path, inode in self._temporaries:
            _remove(path, inode)
        placed = dict(self._placing)
        for final in self._placed:
            _remove(final, placed.get(final))
        self._stack.close()
        for folder in reversed(self._folders):
            with suppress(OSError):  # not empty: something else was put there
                folder.rmdir()
