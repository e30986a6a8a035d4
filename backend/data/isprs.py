"""ISPRS 2D semantic labelling benchmarks, Vaihingen and Potsdam, in their distributed file layout.

These functions only list a split's tiles as :class:`~geofuse.backend.data.folder.TileFiles`; the
window reading, normalisation and sampling are those of :mod:`geofuse.backend.data.folder`::

    train = RandomCropDataset(vaihingen_tiles(root, "train"), 512, 4000, NormalizationConfig())
    val = GridWindowDataset(vaihingen_tiles(root, "test"), 512, NormalizationConfig())

Labels are the benchmark's colour code, converted strictly (an unknown colour is an error). The eroded
references (``*_noBoundary``) mark boundary pixels black; these become the ignore index, which is the
benchmark's "eroded boundary" evaluation protocol.

Splits are the benchmark's: its 16 (Vaihingen) and 24 (Potsdam) training tiles, the rest for testing,
as used by torchgeo and mmsegmentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from geofuse.backend.classes import ISPRS_CLASSES, ISPRS_ERODED_BOUNDARY_COLOUR
from geofuse.backend.data.folder import TileFiles

VAIHINGEN_SPLITS: dict[str, tuple[int, ...]] = {
    "train": (1, 3, 5, 7, 11, 13, 15, 17, 21, 23, 26, 28, 30, 32, 34, 37),
    "test": (2, 4, 6, 8, 10, 12, 14, 16, 20, 22, 24, 27, 29, 31, 33, 35, 38),
}
"""Vaihingen area numbers per split."""

POTSDAM_SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "2_10", "2_11", "2_12", "3_10", "3_11", "3_12", "4_10", "4_11", "4_12", "5_10", "5_11", "5_12",
        "6_7", "6_8", "6_9", "6_10", "6_11", "6_12", "7_7", "7_8", "7_9", "7_10", "7_11", "7_12",
    ),
    "test": (
        "2_13", "2_14", "3_13", "3_14", "4_13", "4_14", "4_15", "5_13", "5_14", "5_15", "6_13", "6_14",
        "6_15", "7_13",
    ),
}  # fmt: skip
"""Potsdam tile ids ("row_col") per split."""

POTSDAM_OPTICAL = {
    # name: (folder, file suffix, 1-based bands)
    "RGB": ("2_Ortho_RGB", "RGB", (1, 2, 3)),
    "RGBIR": ("4_Ortho_RGBIR", "RGBIR", (1, 2, 3, 4)),
    "IRRG": ("4_Ortho_RGBIR", "RGBIR", (4, 1, 2)),
}
"""Potsdam optical choices; IRRG is read from the RGBIR tiles, matching Vaihingen's band order."""

POTSDAM_ELEVATION = ("dsm", "ndsm")
"""``"dsm"``: ``1_DSM`` (metres); ``"ndsm"``: ``1_DSM_normalisation`` (8-bit lastools nDSM JPEGs)."""


def _check_split(split: str, splits: dict) -> None:
    if split not in splits:
        raise ValueError(f"split must be one of {sorted(splits)}, got {split!r}")


def _require(tiles: list[TileFiles], root: Path, dataset: str) -> list[TileFiles]:
    """Fail with every expected-but-missing path at once, so a user fixes the layout in one go."""
    missing = sorted(
        {
            str(path)
            for tile in tiles
            for path in (tile.optical, tile.elevation, tile.labels)
            if not path.is_file()
        }
    )
    if missing:
        shown = "\n  ".join(missing[:40]) + (
            f"\n  ... and {len(missing) - 40} more" if len(missing) > 40 else ""
        )
        raise FileNotFoundError(
            f"{dataset} under {root}: {len(missing)} expected file(s) missing:\n  {shown}"
        )
    return tiles


def vaihingen_tiles(
    root: str | Path, split: str = "train", eroded: bool = False, areas: Sequence[int] | None = None
) -> list[TileFiles]:
    """List Vaihingen tiles (IRRG orthophoto, matching DSM, colour labels).

    Expected files, for each area N::

        root/top/top_mosaic_09cm_areaN.tif                                   IRRG, uint8
        root/dsm/dsm_09cm_matching_areaN.tif                                 DSM, float32 metres
        root/gts_for_participants/top_mosaic_09cm_areaN.tif                  colour labels
        root/gts_eroded_for_participants/top_mosaic_09cm_areaN_noBoundary.tif   (eroded=True)

    For the test split, put the complete references released after the contest into these folders.

    Args:
        root: The Vaihingen folder.
        split: ``"train"`` or ``"test"``.
        eroded: Use the eroded references (boundaries ignored) instead of the full ones.
        areas: Area numbers to use instead of the whole split.

    Raises:
        ValueError: On an unknown split.
        FileNotFoundError: Listing every expected file that is missing.
    """
    _check_split(split, VAIHINGEN_SPLITS)
    root = Path(root)
    tiles = []
    for area in VAIHINGEN_SPLITS[split] if areas is None else areas:
        if eroded:
            labels = root / "gts_eroded_for_participants" / f"top_mosaic_09cm_area{area}_noBoundary.tif"
        else:
            labels = root / "gts_for_participants" / f"top_mosaic_09cm_area{area}.tif"
        tiles.append(
            TileFiles(
                name=f"vaihingen_area{area}",
                optical=root / "top" / f"top_mosaic_09cm_area{area}.tif",
                elevation=root / "dsm" / f"dsm_09cm_matching_area{area}.tif",
                labels=labels,
                label_colours=True,
                classes=ISPRS_CLASSES,
                ignore_colour=ISPRS_ERODED_BOUNDARY_COLOUR if eroded else None,
            )
        )
    return _require(tiles, root, "ISPRS Vaihingen")


def potsdam_tiles(
    root: str | Path,
    split: str = "train",
    optical: str = "RGB",
    elevation: str = "dsm",
    eroded: bool = False,
    tile_ids: Sequence[str] | None = None,
) -> list[TileFiles]:
    """List Potsdam tiles.

    Expected files, for each tile "a_b" (aa, bb: two-digit forms, e.g. 2_10 → 02_10)::

        root/2_Ortho_RGB/top_potsdam_a_b_RGB.tif                        (optical="RGB")
        root/4_Ortho_RGBIR/top_potsdam_a_b_RGBIR.tif                    (optical="RGBIR" or "IRRG")
        root/1_DSM/dsm_potsdam_aa_bb.tif                                (elevation="dsm")
        root/1_DSM_normalisation/dsm_potsdam_aa_bb_normalized_lastools.jpg   (elevation="ndsm")
        root/5_Labels_all/top_potsdam_a_b_label.tif
        root/5_Labels_all_noBoundary/top_potsdam_a_b_label_noBoundary.tif      (eroded=True)

    With ``elevation="ndsm"`` the input already is height above ground: normalise it with
    ``NormalizationConfig(elevation_mode="absolute", ...)`` and a scale suited to its 8-bit values.

    Args:
        root: The Potsdam folder.
        split: ``"train"`` or ``"test"``.
        optical: One of :data:`POTSDAM_OPTICAL`.
        elevation: One of :data:`POTSDAM_ELEVATION`.
        eroded: Use the eroded references (boundaries ignored).
        tile_ids: Tile ids ("a_b") to use instead of the whole split.

    Raises:
        ValueError: On an unknown split, optical or elevation choice.
        FileNotFoundError: Listing every expected file that is missing.
    """
    _check_split(split, POTSDAM_SPLITS)
    if optical not in POTSDAM_OPTICAL:
        raise ValueError(f"optical must be one of {sorted(POTSDAM_OPTICAL)}, got {optical!r}")
    if elevation not in POTSDAM_ELEVATION:
        raise ValueError(f"elevation must be one of {POTSDAM_ELEVATION}, got {elevation!r}")
    root = Path(root)
    folder, suffix, bands = POTSDAM_OPTICAL[optical]
    tiles = []
    for tile_id in POTSDAM_SPLITS[split] if tile_ids is None else tile_ids:
        padded = "_".join(f"{int(part):02d}" for part in tile_id.split("_"))
        if elevation == "dsm":
            elevation_path = root / "1_DSM" / f"dsm_potsdam_{padded}.tif"
        else:
            elevation_path = root / "1_DSM_normalisation" / f"dsm_potsdam_{padded}_normalized_lastools.jpg"
        if eroded:
            labels = root / "5_Labels_all_noBoundary" / f"top_potsdam_{tile_id}_label_noBoundary.tif"
        else:
            labels = root / "5_Labels_all" / f"top_potsdam_{tile_id}_label.tif"
        tiles.append(
            TileFiles(
                name=f"potsdam_{tile_id}",
                optical=root / folder / f"top_potsdam_{tile_id}_{suffix}.tif",
                elevation=elevation_path,
                labels=labels,
                label_colours=True,
                classes=ISPRS_CLASSES,
                ignore_colour=ISPRS_ERODED_BOUNDARY_COLOUR if eroded else None,
                optical_bands=bands,
            )
        )
    return _require(tiles, root, "ISPRS Potsdam")
