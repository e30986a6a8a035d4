"""Every file under a dataset root, in folders and in zip archives (nested ones included), unextracted.

Benchmarks ship as zips, some of them zips of zips (ISPRS Potsdam). Rather than asking users to unpack
them in one particular way, :func:`list_files` walks the root's folders and looks inside every ``.zip``
it meets (and inside the zips in those, up to ``max_depth``), so a product is found by its file name
wherever it is. Archive members are read in place through GDAL's ``/vsizip/`` (nested:
``/vsizip/{/vsizip/{outer.zip}/inner.zip}/member``): nothing is extracted to disk.

Zip listings use Python's :mod:`zipfile` (only the central directories are read). An inner zip is a
stream that can only be read forwards, which :mod:`zipfile` would rewind (decompress again) for each of
its seeks; :class:`_Tail` reads it once and keeps its last bytes, where the central directory lies.

A :class:`FoundFile` remembers its *chain* (the file on disk, then a member name per archive level), from
which both its GDAL path and a byte stream (for checksums) follow.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ZIP_SUFFIX = ".zip"
TAIL_BYTES = 4 << 20
"""Bytes kept from the end of an inner zip: its central directory (a few kB for a benchmark's archive)."""
CHUNK_BYTES = 1 << 20
SKIPPED_PARTS = ("__MACOSX",)
"""Folder names whose content is never data (resource forks added by macOS archivers)."""


@dataclass(frozen=True)
class FoundFile:
    """A file on disk or inside (nested) zip archives.

    Attributes:
        chain: The file on disk, then its member name in each enclosing archive, outermost first.
        folders: Names of the folders leading to the file, below the root and inside the archives (zip
            names not included), so a product can be recognised by its folder as well as its name.
    """

    chain: tuple[str, ...]
    folders: tuple[str, ...]

    @property
    def name(self) -> str:
        """The file's own name."""
        return self.chain[-1].rsplit("/", 1)[-1]

    @property
    def archives(self) -> tuple[str, ...]:
        """Names of the enclosing archives, outermost first (empty for a plain file)."""
        return tuple(part.rsplit("/", 1)[-1] for part in self.chain[:-1])

    @property
    def gdal_path(self) -> str:
        """A path that rasterio/GDAL open directly (``/vsizip/`` syntax inside archives)."""
        path = self.chain[0]
        for member in self.chain[1:]:
            path = f"/vsizip/{{{path}}}/{member}"
        return path

    def where(self) -> str:
        """Human-readable location: ``Potsdam.zip › 1_DSM.zip › 1_DSM/dsm_potsdam_02_10.tif``."""
        if len(self.chain) == 1:
            return self.chain[0]
        return " › ".join((self.chain[0], *self.chain[1:]))


def _is_zip(name: str) -> bool:
    return name.lower().endswith(ZIP_SUFFIX)


def _skipped(parts: tuple[str, ...], name: str) -> bool:
    return name.startswith("._") or any(part in SKIPPED_PARTS for part in parts)


class _Tail(io.RawIOBase):
    """The last bytes of a forward-only stream of known size, seekable within them.

    Reads or seeks before the kept part raise :class:`OSError` (the caller then falls back to the stream).
    """

    def __init__(self, stream: IO[bytes], size: int, keep: int | None = None) -> None:
        super().__init__()
        keep = TAIL_BYTES if keep is None else keep
        kept = bytearray()
        while chunk := stream.read(CHUNK_BYTES):
            kept += chunk
            if len(kept) > 2 * keep:
                del kept[: len(kept) - keep]
        self.data, self.start, self.size, self.position = bytes(kept[-keep:]), max(size - keep, 0), size, size

    def readable(self) -> bool:
        """Always."""
        return True

    def seekable(self) -> bool:
        """Within the kept bytes."""
        return True

    def tell(self) -> int:
        """The position in the whole stream."""
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move within the kept bytes."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        if base + offset < self.start:
            raise OSError("position before the kept tail of the stream")
        self.position = base + offset
        return self.position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Copy kept bytes from the current position."""
        first = self.position - self.start
        data = self.data[first : first + len(buffer)]
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


@contextmanager
def _inner_zip(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[zipfile.ZipFile]:
    """An inner zip for listing: from its tail (one pass), else from the stream (a directory that large)."""
    with archive.open(info) as stream:
        tail = _Tail(stream, info.file_size)
    try:
        inner = zipfile.ZipFile(io.BufferedReader(tail))
    except (OSError, zipfile.BadZipFile):
        with archive.open(info) as stream, zipfile.ZipFile(stream) as inner:
            yield inner
        return
    with inner:
        yield inner


def _members(
    archive: zipfile.ZipFile, chain: tuple[str, ...], folders: tuple[str, ...], depth: int, max_depth: int
) -> Iterator[FoundFile]:
    for info in archive.infolist():
        if info.is_dir():
            continue
        *inner_folders, name = info.filename.split("/")
        parts = (*folders, *inner_folders)
        if _skipped(parts, name):
            continue
        found = FoundFile((*chain, info.filename), parts)
        yield found
        if _is_zip(name) and depth < max_depth:
            with _inner_zip(archive, info) as inner:
                yield from _members(inner, found.chain, parts, depth + 1, max_depth)


def list_files(root: str | Path, max_depth: int = 2) -> list[FoundFile]:
    """Every file under ``root`` (a folder or a zip), including zip members down to ``max_depth`` levels.

    The zips themselves are listed too (their MD5 can be checked). Unreadable zips raise, naming the file.

    Raises:
        FileNotFoundError: If ``root`` does not exist.
        ValueError: If a zip cannot be read (truncated download, not a zip).
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist")
    if root.is_file():
        paths = [(root.resolve(), ())]
    else:
        paths = []
        for folder, subfolders, names in os.walk(root):
            subfolders.sort()
            relative = Path(folder).relative_to(root).parts
            paths += [(Path(folder).resolve() / name, relative) for name in sorted(names)]
    found = []
    for path, folders in paths:
        if _skipped(folders, path.name):
            continue
        entry = FoundFile((str(path),), folders)
        found.append(entry)
        if _is_zip(path.name) and max_depth > 0:
            try:
                with zipfile.ZipFile(path) as archive:
                    found += _members(archive, entry.chain, folders, 1, max_depth)
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise ValueError(f"{entry.where()} is not a readable zip archive ({error})") from None
    return found


def disk_path(path: str | Path) -> str:
    """The file on disk behind a path: itself, or for a ``/vsizip/{...}`` path the outermost archive."""
    text = str(path)
    prefix = "/vsizip/{"
    if not text.startswith(prefix):
        return text
    while text.startswith(prefix):
        text = text[len(prefix) :]
    return text.split("}", 1)[0]


@contextmanager
def open_bytes(found: FoundFile) -> Iterator[IO[bytes]]:
    """A binary stream of the file's own bytes (for a zip member: decompressed from its archives)."""
    with ExitStack() as stack:
        stream: IO[bytes] = stack.enter_context(open(found.chain[0], "rb"))
        for member in found.chain[1:]:
            archive = stack.enter_context(zipfile.ZipFile(stream))
            stream = stack.enter_context(archive.open(member))
        yield stream
