"""``data.check``: archive checksums and every label pixel, verified once before the first training step.

A label colour outside the class table used to surface only when its window was read, killing a run at its
first validation (or mid-epoch) with everything since the last checkpoint lost. :func:`check_data` reads
every label raster once, in strips, and reports *all* bad tiles and values at once with pixel counts;
it also compares the MD5 of each official archive found (zip files on disk or zips inside zips) with its
published sum. A passed check is recorded in ``<output>/data_check.json`` with the sizes and modification
times of the files it read, so a resumed run (or a rerun on unchanged data) does not read them again.

Published sums (:data:`ARCHIVE_MD5`) are those torchgeo ships; torchgeo's sum for Potsdam's
``5_Labels_all.zip`` is truncated (22 hex digits), so that archive is not checked.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch.distributed as dist
from rasterio.windows import Window

from geofuse.backend.classes import IGNORE_INDEX
from geofuse.backend.data.archives import FoundFile, disk_path, open_bytes
from geofuse.backend.data.folder import TileFiles, open_raster

from ..errors import GeoFuseError

ARCHIVE_MD5 = {
    "ISPRS_semantic_labeling_Vaihingen.zip": "462b8dca7b6fa9eaf729840f0cdfc7f3",
    "ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE.zip": "4802dd6326e2727a352fb735be450277",
    "4_Ortho_RGBIR.zip": "c4a8f7d8c7196dd4eba4addd0aae10c1",
}
"""MD5 of the official archives, by file name."""

CHECK_NAME = "data_check.json"
STRIP_ROWS = 512
CHUNK_BYTES = 1 << 20
SHOWN_VALUES = 8


@dataclass
class DataCheckResult:
    """What a check found: ``problems`` (one line each) and a plain summary for the model card."""

    problems: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def raise_if_failed(self) -> None:
        """Raise one :class:`DataCheckError` listing every problem.

        Raises:
            DataCheckError: If there are problems.
        """
        if self.problems:
            raise DataCheckError(
                f"data check failed, nothing was trained ({len(self.problems)} problem(s)):\n  "
                + "\n  ".join(self.problems)
                + "\nFix the files (or the class table); data.check = false skips this check."
            )


class DataCheckError(GeoFuseError):
    """The data failed ``data.check``; the message lists every problem found."""


def _colour_codes(data: np.ndarray) -> np.ndarray:
    """(3, h, w) uint8 colours → one uint32 code per pixel (r << 16 | g << 8 | b)."""
    rgb = data.astype(np.uint32)
    return (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]


def _value_text(code: int, colours: bool) -> str:
    return str((code >> 16, (code >> 8) & 255, code & 255)) if colours else str(code)


def label_problems(tile: TileFiles) -> str | None:
    """Every label value of a tile that is not in its class table, with pixel counts (None if clean).

    Colour labels may hold the class colours and the tile's ignore colour; index labels the class
    indices, the ignore index and the raster's nodata value.
    """
    counts: Counter[int] = Counter()
    with open_raster(tile.labels) as dataset:
        if tile.label_colours:
            allowed = [info.colour for info in tile.classes]
            allowed += [tile.ignore_colour] if tile.ignore_colour is not None else []
            known = _colour_codes(np.array(allowed, np.uint8).T[:, :, None]).ravel()
        else:
            known = np.array([*range(len(tile.classes)), IGNORE_INDEX], np.int64)
            if dataset.nodata is not None:
                known = np.append(known, int(dataset.nodata))
        for row in range(0, dataset.height, STRIP_ROWS):
            window = Window(0, row, dataset.width, min(STRIP_ROWS, dataset.height - row))
            if tile.label_colours:
                values = _colour_codes(dataset.read((1, 2, 3), window=window))
            else:
                values = dataset.read(1, window=window).astype(np.int64)
            bad = values[~np.isin(values, known)]
            if bad.size:
                unique, number = np.unique(bad, return_counts=True)
                counts.update(dict(zip(unique.tolist(), number.tolist(), strict=True)))
    if not counts:
        return None
    kind = "colour" if tile.label_colours else "value"
    shown = ", ".join(
        f"{_value_text(code, tile.label_colours)} × {pixels} px"
        for code, pixels in counts.most_common(SHOWN_VALUES)
    )
    more = f" and {len(counts) - SHOWN_VALUES} more" if len(counts) > SHOWN_VALUES else ""
    return (
        f"tile {tile.name!r} labels {tile.labels}: {len(counts)} {kind}(s) outside the class table "
        f"({sum(counts.values())} px): {shown}{more}"
    )


def file_md5(found: FoundFile) -> str:
    """MD5 of a file's bytes (a zip member's decompressed bytes)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open_bytes(found) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def archive_problems(files: Sequence[FoundFile], sums: dict[str, str]) -> tuple[list[str], list[str]]:
    """Compare every official archive found with its published MD5.

    Returns:
        ``(problems, verified archive locations)``.
    """
    problems, verified = [], []
    for found in files:
        expected = sums.get(found.name)
        if expected is None:
            continue
        got = file_md5(found)
        if got == expected:
            verified.append(found.where())
        else:
            problems.append(
                f"{found.where()}: MD5 {got} differs from the published {expected} "
                "(an incomplete or damaged download: download it again)"
            )
    return problems, verified


def _fingerprint(tiles: Sequence[TileFiles], files: Sequence[FoundFile]) -> list[list[Any]]:
    """(disk file, size, mtime) of every label source and archive a check reads."""
    paths = {disk_path(tile.labels) for tile in tiles}
    paths |= {found.chain[0] for found in files if found.name.lower().endswith(".zip")}
    stats = []
    for path in sorted(paths):
        stat = Path(path).stat()
        stats.append([path, stat.st_size, stat.st_mtime_ns])
    return stats


def check_data(
    tiles: Sequence[TileFiles],
    files: Sequence[FoundFile] = (),
    record: str | Path | None = None,
    sums: dict[str, str] | None = None,
) -> DataCheckResult:
    """Check archives and every label pixel, unless ``record`` says these very files passed before.

    Args:
        tiles: Tiles whose labels are read whole.
        files: A dataset listing (:func:`~geofuse.backend.data.archives.list_files`) whose official
            archives are checksummed.
        record: Where a passed check is recorded (and looked up); None: always check, record nothing.
        sums: MD5 by archive name (default :data:`ARCHIVE_MD5`).

    Returns:
        The problems (empty when the data passed) and a summary for the model card.
    """
    sums = ARCHIVE_MD5 if sums is None else sums
    fingerprint = _fingerprint(tiles, files)
    record = Path(record) if record is not None else None
    if record is not None and record.is_file():
        saved = json.loads(record.read_text(encoding="utf-8"))
        if saved.get("files") == fingerprint:
            return DataCheckResult(summary={**saved["summary"], "reused": True})
    problems, verified = archive_problems(files, sums)
    problems += [problem for problem in map(label_problems, tiles) if problem is not None]
    summary = {"labels_checked": len(tiles), "archives_verified": verified, "reused": False}
    if record is not None and not problems:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"files": fingerprint, "summary": summary}, indent=1), encoding="utf-8")
    return DataCheckResult(problems, summary)


def check_before_training(
    tiles: Sequence[TileFiles],
    files: Sequence[FoundFile],
    output: str | Path,
    enabled: bool,
    is_main: bool = True,
    distributed: bool = False,
) -> dict[str, Any] | None:
    """``data.check`` of a training run: rank 0 checks (recording a pass in ``output``), every rank gets
    the verdict, so all stop before step 1 on bad data.

    Returns:
        The check's summary for the model card, None when ``enabled`` is false.

    Raises:
        DataCheckError: Listing every problem found.
    """
    if not enabled:
        return None
    record = Path(output) / CHECK_NAME
    result = [check_data(tiles, files, record) if is_main else DataCheckResult()]
    if distributed:
        dist.broadcast_object_list(result, src=0)
    result[0].raise_if_failed()
    return result[0].summary
