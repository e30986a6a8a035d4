"""The tiles of an ISPRS training run and the facts its model card records about them.

Training uses the training part of the chosen split (``data.split``) minus a few validation tiles
(``data.val_tiles``, default :data:`~geofuse.backend.data.isprs.DEFAULT_VAL_TILES`): the test part is
never seen before ``geofuse evaluate``. The card's ground sampling distance and the elevation
normalisation come from the benchmark, not from the files' geotransforms (Vaihingen's carry none);
settings that contradict the benchmark are used as given, with a warning.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geofuse.backend.data.archives import FoundFile, list_files
from geofuse.backend.data.isprs import (
    DEFAULT_VAL_TILES,
    GSD_M,
    IsprsSelection,
    elevation_defaults,
    normalise_tile_id,
    select_tiles,
    split_tiles,
)


@dataclass(frozen=True)
class IsprsRunData:
    """Training and validation tiles of a run, the dataset listing, and the card's facts."""

    train: IsprsSelection
    val: IsprsSelection | None
    files: list[FoundFile]
    gsd_m: float
    optical_bands: tuple[str, ...]
    summary: dict[str, Any]


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def contradictions(
    dataset: str,
    elevation: str,
    gsd_m: float,
    optical_bands: Sequence[str],
    bands: Sequence[str],
    normalization: Mapping[str, Any],
) -> list[str]:
    """Settings that contradict what the benchmark says about its data (one sentence each)."""
    found = []
    if gsd_m and not math.isclose(gsd_m, GSD_M[dataset], rel_tol=0.01):
        found.append(f"data.gsd_m = {gsd_m} contradicts the benchmark's {GSD_M[dataset]} m")
    if optical_bands and tuple(optical_bands) != tuple(bands):
        found.append(f"data.optical_bands = {list(optical_bands)} contradicts the files' bands {list(bands)}")
    implied = elevation_defaults(dataset, elevation)
    for key, value in implied.items():
        if key in normalization and normalization[key] != value:
            found.append(
                f"data.normalization.{key} = {normalization[key]!r} contradicts Potsdam's 8-bit nDSM "
                f"({key} = {value!r})"
            )
    if not implied and normalization.get("elevation_mode") == "absolute":
        found.append(
            "data.normalization.elevation_mode = 'absolute' on a DSM of absolute heights (hundreds of "
            "metres): the ground is not removed"
        )
    return found


def isprs_run_data(
    dataset: str,
    root: str | Path,
    *,
    split: str = "benchmark",
    val_tiles: Sequence[str | int] | None = None,
    eroded: bool = False,
    optical: str = "RGB",
    elevation: str = "dsm",
    gsd_m: float = 0.0,
    optical_bands: Sequence[str] = (),
    normalization: Mapping[str, Any] | None = None,
) -> IsprsRunData:
    """Select a run's tiles (training part minus validation tiles) and gather the card's facts.

    Args:
        dataset: ``"vaihingen"`` or ``"potsdam"``.
        root: The benchmark, in any layout :mod:`~geofuse.backend.data.isprs` reads.
        split: ``"benchmark"`` or ``"fusion-papers"``.
        val_tiles: Validation tiles, taken out of the training part; None: the default few; empty: none.
        eroded: Validate on the eroded references.
        optical: Potsdam's optical choice.
        elevation: Potsdam's elevation choice.
        gsd_m: An override of the benchmark's ground sampling distance (0: none).
        optical_bands: An override of the band names (empty: none).
        normalization: The run's ``[data.normalization]`` overrides (checked against the benchmark).

    Raises:
        ValueError: On an unknown split or choice, or validation tiles outside the training part.
        FileNotFoundError: Naming what is missing, its archive and what was found instead.
    """
    training_part = split_tiles(dataset, split, "train")
    chosen_val = DEFAULT_VAL_TILES[dataset] if val_tiles is None else val_tiles
    val_ids = tuple(dict.fromkeys(normalise_tile_id(dataset, tile) for tile in chosen_val))
    outside = [tile for tile in val_ids if tile not in training_part]
    if outside:
        raise ValueError(
            f"data.val_tiles {outside} are not training tiles of the {split!r} split (validation never uses "
            f"the test split); choose among {list(training_part)}"
        )
    train_ids = tuple(tile for tile in training_part if tile not in val_ids)
    if not train_ids:
        raise ValueError("data.val_tiles leaves no training tiles")
    files = list_files(root)
    choices = {"optical": optical, "elevation": elevation, "files": files}
    train = select_tiles(dataset, root, train_ids, **choices)
    val = select_tiles(dataset, root, val_ids, eroded=eroded, **choices) if val_ids else None
    for problem in contradictions(
        dataset, train.elevation, gsd_m, optical_bands, train.optical_bands, normalization or {}
    ):
        _warn(f"{problem}; using the setting as given")
    summary = {
        "root": str(root),
        "split": split,
        "train_tiles": list(train_ids),
        "val_tiles": list(val_ids),
        "test_tiles": list(split_tiles(dataset, split, "test")),
        "optical": "IRRG" if dataset == "vaihingen" else optical,
        "optical_source": train.optical_source,
        "elevation": train.elevation,
        "elevation_source": train.elevation_source,
        "labels_source": train.labels_source,
        "val_protocol": "eroded" if eroded else "full",
        "gsd_source": "data.gsd_m" if gsd_m else "benchmark",
    }
    bands = tuple(optical_bands) or train.optical_bands
    return IsprsRunData(train, val, files, gsd_m or GSD_M[dataset], bands, summary)
