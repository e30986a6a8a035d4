"""ISPRS 2D semantic labelling benchmarks, Vaihingen and Potsdam, read from whatever the download became.

Each product (orthophoto, DSM, labels, ...) is found by its *file name* anywhere under the root, in
folders or inside the official zips (nested ones included, read in place through ``/vsizip/``; see
:mod:`geofuse.backend.data.archives`). So all of these train with no rearranging:

- the downloaded zips themselves (``data.root`` = their folder, or one zip);
- the zips unzipped in place (Vaihingen's complete ground truth and Potsdam's labels land flat);
- a desktop tool's one-folder-per-zip extraction (``2_Ortho_RGB/2_Ortho_RGB/...``);
- the hand-arranged layout (``top/``, ``dsm/``, ``gts_for_participants/``; ``2_Ortho_RGB/``, ...).

The one name two products share, Vaihingen's ``top_mosaic_09cm_areaN.tif``, is the orthophoto in a
folder named ``top`` and the colour labels anywhere else.

These functions only list a split's tiles as :class:`~geofuse.backend.data.folder.TileFiles`; the
window reading, normalisation and sampling are those of :mod:`geofuse.backend.data.folder`. Labels are
the benchmark's colour code, converted strictly; the eroded references (``*_noBoundary``) mark boundary
pixels black, which becomes the ignore index (the benchmark's "eroded boundary" protocol).

Splits (:data:`SPLITS`): ``"benchmark"``, the contest's 16 + 17 Vaihingen areas and 24 + 14 Potsdam tiles
(as torchgeo and mmsegmentation use them), and ``"fusion-papers"``, the split of the DSM-fusion papers
(SSRS, FTransUNet, MFNet): Vaihingen 12 training / 4 test areas, Potsdam 18 / 6 tiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from geofuse.backend.classes import ISPRS_CLASSES, ISPRS_ERODED_BOUNDARY_COLOUR
from geofuse.backend.data.archives import FoundFile, list_files
from geofuse.backend.data.folder import TileFiles

DATASETS = ("vaihingen", "potsdam")
TITLES = {"vaihingen": "ISPRS Vaihingen", "potsdam": "ISPRS Potsdam"}

_VAIHINGEN_BENCHMARK_TRAIN = (1, 3, 5, 7, 11, 13, 15, 17, 21, 23, 26, 28, 30, 32, 34, 37)
_POTSDAM_BENCHMARK_TRAIN = (
    "2_10", "2_11", "2_12", "3_10", "3_11", "3_12", "4_10", "4_11", "4_12", "5_10", "5_11", "5_12",
    "6_7", "6_8", "6_9", "6_10", "6_11", "6_12", "7_7", "7_8", "7_9", "7_10", "7_11", "7_12",
)  # fmt: skip
_POTSDAM_BENCHMARK_TEST = (
    "2_13", "2_14", "3_13", "3_14", "4_13", "4_14", "4_15", "5_13", "5_14", "5_15", "6_13", "6_14", "6_15",
    "7_13",
)  # fmt: skip
_POTSDAM_FUSION_TEST = ("4_10", "5_11", "2_11", "3_10", "6_11", "7_12")

SPLITS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "vaihingen": {
        "benchmark": {
            "train": tuple(map(str, _VAIHINGEN_BENCHMARK_TRAIN)),
            "test": tuple(map(str, (2, 4, 6, 8, 10, 12, 14, 16, 20, 22, 24, 27, 29, 31, 33, 35, 38))),
        },
        "fusion-papers": {
            "train": tuple(map(str, (1, 3, 23, 26, 7, 11, 13, 28, 17, 32, 34, 37))),
            "test": ("5", "21", "15", "30"),
        },
    },
    "potsdam": {
        "benchmark": {
            "train": _POTSDAM_BENCHMARK_TRAIN,
            "test": _POTSDAM_BENCHMARK_TEST,
        },
        "fusion-papers": {
            "train": tuple(t for t in _POTSDAM_BENCHMARK_TRAIN if t not in _POTSDAM_FUSION_TEST),
            "test": _POTSDAM_FUSION_TEST,
        },
    },
}
"""Tile ids per dataset, split and part: Vaihingen area numbers ("7"), Potsdam "row_col" ("2_10")."""

DEFAULT_VAL_TILES = {"vaihingen": ("7", "34"), "potsdam": ("2_12", "6_8")}
"""Validation tiles held out of the training tiles when ``data.val_tiles`` is not given (in both splits'
training parts)."""

GSD_M = {"vaihingen": 0.09, "potsdam": 0.05}
"""The benchmarks' ground sampling distances (Vaihingen tiles carry no usable georeferencing)."""

POTSDAM_OPTICAL = ("RGB", "RGBIR", "IRRG")
POTSDAM_ELEVATION = ("dsm", "ndsm")
"""``"dsm"``: ``1_DSM`` (float32 metres); ``"ndsm"``: ``1_DSM_normalisation`` (8-bit lastools JPEGs)."""

BAND_NAMES = {"RGB": ("R", "G", "B"), "RGBIR": ("R", "G", "B", "IR"), "IRRG": ("IR", "R", "G")}


@dataclass(frozen=True)
class Product:
    """One kind of file of a benchmark.

    Attributes:
        key: Short name (``"top"``, ``"dsm"``, ``"IRRG"``, ...).
        archive: The official zip that holds it (named in messages).
        pattern: File-name pattern; its groups give the tile id.
        example: The file name with a placeholder, for messages.
        in_folder: The product lies in a folder of this name (True) or never does (False); None: anywhere.
        folder: That folder's name.
        setting: The config value that selects this product, for "found instead" hints.
    """

    key: str
    archive: str
    pattern: str
    example: str
    folder: str = ""
    in_folder: bool | None = None
    setting: str = ""

    def tile_id(self, found: FoundFile) -> str | None:
        """The tile id of a file of this product, or None if it is not one."""
        match = re.fullmatch(self.pattern, found.name, re.IGNORECASE)
        if match is None:
            return None
        parent = found.folders[-1].lower() if found.folders else ""
        if self.in_folder is not None and (parent == self.folder) != self.in_folder:
            return None
        return "_".join(str(int(group)) for group in match.groups())


_VAIHINGEN_ZIP = "ISPRS_semantic_labeling_Vaihingen.zip"
PRODUCTS: dict[str, dict[str, Product]] = {
    "vaihingen": {
        product.key: product
        for product in (
            Product(
                "top", _VAIHINGEN_ZIP, r"top_mosaic_09cm_area(\d+)\.tif", "top/top_mosaic_09cm_areaN.tif",
                "top", True,
            ),
            Product(
                "dsm", _VAIHINGEN_ZIP, r"dsm_09cm_matching_area(\d+)\.tif", "dsm_09cm_matching_areaN.tif"
            ),
            Product(
                "labels", "ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE.zip",
                r"top_mosaic_09cm_area(\d+)\.tif", "top_mosaic_09cm_areaN.tif (outside top/)", "top", False,
                "data.eroded = false",
            ),
            Product(
                "eroded", "ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE.zip",
                r"top_mosaic_09cm_area(\d+)_noBoundary\.tif", "top_mosaic_09cm_areaN_noBoundary.tif",
                setting="data.eroded = true",
            ),
        )
    },
    "potsdam": {
        product.key: product
        for product in (
            Product(
                "RGB", "2_Ortho_RGB.zip", r"top_potsdam_(\d+)_(\d+)_RGB\.tif", "top_potsdam_a_b_RGB.tif",
                setting='data.potsdam_optical = "RGB"',
            ),
            Product(
                "IRRG", "3_Ortho_IRRG.zip", r"top_potsdam_(\d+)_(\d+)_IRRG\.tif", "top_potsdam_a_b_IRRG.tif",
                setting='data.potsdam_optical = "IRRG"',
            ),
            Product(
                "RGBIR", "4_Ortho_RGBIR.zip", r"top_potsdam_(\d+)_(\d+)_RGBIR\.tif",
                "top_potsdam_a_b_RGBIR.tif", setting='data.potsdam_optical = "RGBIR" or "IRRG"',
            ),
            Product(
                "dsm", "1_DSM.zip", r"dsm_potsdam_(\d+)_(\d+)\.tif", "dsm_potsdam_aa_bb.tif",
                setting='data.potsdam_elevation = "dsm"',
            ),
            Product(
                "ndsm", "1_DSM_normalisation.zip", r"dsm_potsdam_(\d+)_(\d+)_normalized_lastools\.jpg",
                "dsm_potsdam_aa_bb_normalized_lastools.jpg", setting='data.potsdam_elevation = "ndsm"',
            ),
            Product(
                "labels", "5_Labels_all.zip", r"top_potsdam_(\d+)_(\d+)_label\.tif",
                "top_potsdam_a_b_label.tif", setting="data.eroded = false",
            ),
            Product(
                "eroded", "5_Labels_all_noBoundary.zip", r"top_potsdam_(\d+)_(\d+)_label_noBoundary\.tif",
                "top_potsdam_a_b_label_noBoundary.tif", setting="data.eroded = true",
            ),
        )
    },
}  # fmt: skip
"""Each benchmark's products, by key."""

ROLES = {
    "vaihingen": {"optical": ("top",), "elevation": ("dsm",), "labels": ("labels", "eroded")},
    "potsdam": {
        "optical": ("RGB", "IRRG", "RGBIR"),
        "elevation": ("dsm", "ndsm"),
        "labels": ("labels", "eroded"),
    },
}
"""Which products can fill each role of a tile (for the "found instead" part of messages)."""


@dataclass(frozen=True)
class IsprsSelection:
    """The tiles of one part of a split and where their files came from (recorded on cards and reports).

    Attributes:
        tiles: The tiles, in the order asked for.
        tile_ids: Their ids.
        optical_source, elevation_source, labels_source: The products used (their official archive's
            stem, e.g. ``"3_Ortho_IRRG"``; for IRRG from RGBIR, ``"4_Ortho_RGBIR (bands 4, 1, 2)"``).
        optical_bands: Names of the optical bands, in order.
        elevation: ``"dsm"`` (metres) or ``"ndsm"`` (already height above ground).
    """

    tiles: list[TileFiles]
    tile_ids: tuple[str, ...]
    optical_source: str
    elevation_source: str
    labels_source: str
    optical_bands: tuple[str, ...]
    elevation: str


def normalise_tile_id(dataset: str, tile: str | int) -> str:
    """``7``, ``"area7"`` → ``"7"`` (Vaihingen); ``"02_10"`` → ``"2_10"`` (Potsdam).

    Raises:
        ValueError: If the id has the wrong form for the dataset.
    """
    text = str(tile).strip().lower().removeprefix("area").removeprefix("top_potsdam_")
    parts = text.split("_")
    expected = 1 if dataset == "vaihingen" else 2
    if len(parts) != expected or not all(part.isdigit() for part in parts):
        form = "an area number such as 7" if dataset == "vaihingen" else 'a "row_col" id such as "2_10"'
        raise ValueError(f"{TITLES[dataset]} tile {tile!r} is not {form}")
    return "_".join(str(int(part)) for part in parts)


def split_tiles(dataset: str, split: str, part: str) -> tuple[str, ...]:
    """The tile ids of ``part`` (``"train"`` or ``"test"``) of ``split``.

    Raises:
        ValueError: On an unknown dataset, split or part.
    """
    if dataset not in SPLITS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if split not in SPLITS[dataset]:
        raise ValueError(f"data.split must be one of {sorted(SPLITS[dataset])}, got {split!r}")
    if part not in SPLITS[dataset][split]:
        raise ValueError(f"split part must be one of {sorted(SPLITS[dataset][split])}, got {part!r}")
    return SPLITS[dataset][split][part]


def index_products(dataset: str, files: Iterable[FoundFile]) -> dict[str, dict[str, FoundFile]]:
    """Product key → tile id → file; where one file is found several times (a zip and its unpacked
    copy), the least nested copy wins (plain files read fastest)."""
    index: dict[str, dict[str, FoundFile]] = {key: {} for key in PRODUCTS[dataset]}
    for found in sorted(files, key=lambda f: (len(f.chain), f.chain)):
        for key, product in PRODUCTS[dataset].items():
            tile_id = product.tile_id(found)
            if tile_id is not None:
                index[key].setdefault(tile_id, found)
    return index


def _ids_text(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:12])
    return shown + (f" and {len(ids) - 12} more" if len(ids) > 12 else "")


def _missing_message(
    dataset: str,
    root: Path,
    role: str,
    wanted: Sequence[str],
    tile_ids: Sequence[str],
    index: dict[str, dict[str, FoundFile]],
    files: Sequence[FoundFile],
) -> str:
    """Which archive(s) the missing files come from, how many were found, and what was found instead."""
    products = PRODUCTS[dataset]
    lines = [f"{TITLES[dataset]} under {root}: the {role} of {len(tile_ids)} tile(s) cannot be found:"]
    for key in wanted:
        product = products[key]
        missing = [tile for tile in tile_ids if tile not in index[key]]
        lines.append(
            f"  {product.archive} ({product.example}): found {len(tile_ids) - len(missing)} of "
            f"{len(tile_ids)}; missing {_ids_text(missing)}"
        )
    others = [key for key in ROLES[dataset][role] if key not in wanted and index[key]]
    if others:
        lines.append("  found instead:")
        for key in others:
            product = products[key]
            lines.append(
                f"    {product.archive}: {len(index[key])} tile(s) ({_ids_text(sorted(index[key]))})"
                + (f", used with {product.setting}" if product.setting else "")
            )
    else:
        archives = sorted({f.name for f in files if f.name.lower().endswith(".zip")})
        lines.append(
            f"  found instead: {len(files)} file(s), no other {role} product"
            + (f"; archives: {', '.join(archives)}" if archives else "")
        )
    lines.append(
        "Put the archive(s) named above anywhere under data.root: as downloaded (zips, read in place), "
        "unzipped, or extracted into folders; file names are what counts."
    )
    return "\n".join(lines)


def select_tiles(
    dataset: str,
    root: str | Path,
    tile_ids: Sequence[str | int],
    *,
    optical: str = "RGB",
    elevation: str = "dsm",
    eroded: bool = False,
    files: Sequence[FoundFile] | None = None,
) -> IsprsSelection:
    """Find the files of these tiles under ``root``.

    Args:
        dataset: ``"vaihingen"`` or ``"potsdam"``.
        root: A folder (or one zip) holding the benchmark in any of the layouts of the module docstring.
        tile_ids: The tiles (see :func:`normalise_tile_id`).
        optical: Potsdam: ``"RGB"``, ``"RGBIR"`` or ``"IRRG"`` (``3_Ortho_IRRG``, else the RGBIR tiles'
            bands 4, 1, 2). Vaihingen is always IRRG.
        elevation: Potsdam: ``"dsm"`` or ``"ndsm"``. Vaihingen is always its DSM.
        eroded: Use the eroded references (boundaries ignored).
        files: A listing of ``root`` already made (:func:`list_files`), to avoid walking the zips again.

    Raises:
        ValueError: On an unknown choice or tile id.
        FileNotFoundError: Naming, per missing role, the archive, what was found and what instead.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if dataset == "potsdam" and optical not in POTSDAM_OPTICAL:
        raise ValueError(f"potsdam optical must be one of {POTSDAM_OPTICAL}, got {optical!r}")
    if dataset == "potsdam" and elevation not in POTSDAM_ELEVATION:
        raise ValueError(f"potsdam elevation must be one of {POTSDAM_ELEVATION}, got {elevation!r}")
    ids = tuple(normalise_tile_id(dataset, tile) for tile in tile_ids)
    root = Path(root)
    files = list_files(root) if files is None else list(files)
    index = index_products(dataset, files)
    if dataset == "vaihingen":
        choices = {"optical": ("top",), "elevation": ("dsm",)}
        optical, elevation = "IRRG", "dsm"
    else:
        choices = {
            "optical": ("IRRG", "RGBIR") if optical == "IRRG" else (optical,),
            "elevation": (elevation,),
        }
    choices["labels"] = ("eroded",) if eroded else ("labels",)
    chosen: dict[str, str] = {}
    for role, wanted in choices.items():
        complete = [key for key in wanted if all(tile in index[key] for tile in ids)]
        if not complete:
            raise FileNotFoundError(_missing_message(dataset, root, role, wanted, ids, index, files))
        chosen[role] = complete[0]
    bands = (4, 1, 2) if chosen["optical"] == "RGBIR" and optical == "IRRG" else None
    tiles = [
        TileFiles(
            name=f"{dataset}_{'area' if dataset == 'vaihingen' else ''}{tile}",
            optical=Path(index[chosen["optical"]][tile].gdal_path),
            elevation=Path(index[chosen["elevation"]][tile].gdal_path),
            labels=Path(index[chosen["labels"]][tile].gdal_path),
            label_colours=True,
            classes=ISPRS_CLASSES,
            ignore_colour=ISPRS_ERODED_BOUNDARY_COLOUR if eroded else None,
            optical_bands=bands,
        )
        for tile in ids
    ]
    products = PRODUCTS[dataset]

    def source(key: str) -> str:
        return products[key].archive.removesuffix(".zip")

    optical_source = source(chosen["optical"]) + (" (bands 4, 1, 2)" if bands else "")
    return IsprsSelection(
        tiles,
        ids,
        optical_source,
        source(chosen["elevation"]),
        source(chosen["labels"]),
        BAND_NAMES[optical],
        elevation,
    )


def vaihingen_tiles(
    root: str | Path,
    part: str = "train",
    eroded: bool = False,
    areas: Sequence[int | str] | None = None,
    split: str = "benchmark",
) -> list[TileFiles]:
    """List Vaihingen tiles (IRRG orthophoto, matching DSM, colour labels) of one part of a split.

    Args:
        root: Where the benchmark is, in any layout of the module docstring.
        part: ``"train"`` or ``"test"``.
        eroded: Use the eroded references (boundaries ignored) instead of the full ones.
        areas: Area numbers to use instead of the whole part.
        split: ``"benchmark"`` or ``"fusion-papers"``.

    Raises:
        ValueError: On an unknown split or part.
        FileNotFoundError: Naming what is missing, its archive, and what was found instead.
    """
    ids = split_tiles("vaihingen", split, part) if areas is None else areas
    return select_tiles("vaihingen", root, ids, eroded=eroded).tiles


def potsdam_tiles(
    root: str | Path,
    part: str = "train",
    optical: str = "RGB",
    elevation: str = "dsm",
    eroded: bool = False,
    tile_ids: Sequence[str] | None = None,
    split: str = "benchmark",
) -> list[TileFiles]:
    """List Potsdam tiles of one part of a split.

    With ``elevation="ndsm"`` the input already is height above ground, as 8-bit values: normalise it with
    :func:`elevation_defaults` (``elevation_mode="absolute"``, 255 → 1.0).

    Args:
        root: Where the benchmark is, in any layout of the module docstring.
        part: ``"train"`` or ``"test"``.
        optical: One of :data:`POTSDAM_OPTICAL`.
        elevation: One of :data:`POTSDAM_ELEVATION`.
        eroded: Use the eroded references (boundaries ignored).
        tile_ids: Tile ids ("a_b") to use instead of the whole part.
        split: ``"benchmark"`` or ``"fusion-papers"``.

    Raises:
        ValueError: On an unknown split, part, optical or elevation choice.
        FileNotFoundError: Naming what is missing, its archive, and what was found instead.
    """
    ids = split_tiles("potsdam", split, part) if tile_ids is None else tile_ids
    return select_tiles("potsdam", root, ids, optical=optical, elevation=elevation, eroded=eroded).tiles


NDSM_NORMALIZATION = {"elevation_mode": "absolute", "elevation_scale_m": 255.0}
"""Potsdam's nDSM JPEGs already are height above ground, as 8-bit values: used as they are, 255 → 1.0."""


def elevation_defaults(dataset: str, elevation: str) -> dict[str, object]:
    """The normalisation fields a benchmark's elevation product implies (only Potsdam's nDSM has any)."""
    return dict(NDSM_NORMALIZATION) if dataset == "potsdam" and elevation == "ndsm" else {}
