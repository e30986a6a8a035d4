"""From a dataset kind to its tiles: the one dispatch over synthetic, folder, vaihingen, potsdam and polygons.

Training asks for its training and validation tiles (:func:`prepare_data`, polygons through
:func:`prepare_polygon_data`), evaluation for the tiles to score (:func:`dataset_tiles`); both write
synthetic scenes through :func:`ensure_synthetic_folder`, so a folder that already holds exactly the wanted
scenes is reused, and both read folders and the ISPRS layouts through the same listings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geofuse.backend.checkpoint import ModelCard
from geofuse.backend.classes import ISPRS_CLASSES, ClassInfo
from geofuse.backend.data.check import check_before_training
from geofuse.backend.data.facts import DataFacts
from geofuse.backend.data.folder import RandomCropDataset, TileFiles, folder_tiles, inspect_tile, open_raster
from geofuse.backend.data.isprs import GSD_M, select_tiles, split_tiles
from geofuse.backend.data.isprs_run import IsprsRunData, isprs_run_data
from geofuse.backend.data.normalize import NormalizationConfig
from geofuse.backend.data.polygons import (
    PolygonCropDataset,
    PolygonLabels,
    PolygonSource,
    load_polygon_labels,
)
from geofuse.backend.data.synthetic import GENERATOR_VERSION, write_synthetic_folder
from geofuse.backend.distributed import Distributed

if TYPE_CHECKING:  # the config module imports DATA_KINDS from here
    from geofuse.backend.train_config import DataSettings, TrainConfig

TILE_KINDS = ("synthetic", "folder", "vaihingen", "potsdam")
"""Kinds that are lists of (optical, elevation, label) tiles: what training and evaluation both read."""
DATA_KINDS = (*TILE_KINDS, "polygons")
"""Every ``data.kind`` of a training config."""


@dataclass
class DataSplits:
    """Training and validation tiles plus what the card needs to know about them."""

    train: list[TileFiles]
    val: list[TileFiles]
    classes: tuple[ClassInfo, ...]
    optical_bands: tuple[str, ...]
    gsd_m: float
    summary: dict[str, Any]
    polygons: PolygonLabels | None = None
    """For ``data.kind = "polygons"``: the training polygons (``train`` is then empty)."""
    notes: list[str] = field(default_factory=list)
    """Warnings for the user (skipped polygons, a resolution far from the base model's)."""


def ensure_synthetic_folder(
    root: str | Path, count: int, seed: int, size: int = 512, gsd: float = 0.1, domain: str = "home"
) -> Path:
    """Write ``count`` synthetic scenes to ``root`` unless it already holds exactly these (its manifest
    says so), so repeated runs reuse the data."""
    root = Path(root)
    manifest = root / "synthetic.json"
    wanted = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "count": count,
        "height": size,
        "width": size,
        "gsd": gsd,
        **({"domain": domain} if domain != "home" else {}),
    }
    if not (manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")) == wanted):
        write_synthetic_folder(root, count, seed, size, size, gsd, domain)
    return root


def _default_bands(count: int) -> tuple[str, ...]:
    return ("R", "G", "B") if count == 3 else tuple(f"B{index + 1}" for index in range(count))


def prepare_data(
    config: TrainConfig, world: Distributed | None = None, base: ModelCard | None = None
) -> DataSplits:
    """List (and for synthetic data, generate on rank 0) the training and validation tiles, and check
    their labels (and archives) when ``data.check`` is on.

    Args:
        config: The run.
        world: This process's place in the run.
        base: The card of ``train.init``, whose classes and bands training polygons are matched to.

    Raises:
        FileNotFoundError, ValueError: From the dataset listings, naming what is missing or wrong.
        DataCheckError: Listing every bad archive and label value.
    """
    world = world or Distributed()
    settings, output = config.data, config.train.output
    if settings.kind == "polygons":
        return prepare_polygon_data(config, base)
    summary: dict[str, Any] = {"kind": settings.kind}
    isprs = None
    if settings.kind == "synthetic":
        train, val = _synthetic_splits(settings, output, world, summary)
    elif settings.kind == "folder":
        train = folder_tiles(settings.root)
        val = folder_tiles(settings.val_root) if settings.val_root else []
        summary.update(root=str(settings.root), val_root=str(settings.val_root))
        summary["check"] = check_before_training(
            train + val, [], output, settings.check, world.is_main, world.enabled
        )
    else:
        isprs = _isprs_run(settings)
        train, val = isprs.train.tiles, isprs.val.tiles if isprs.val else []
        summary.update(isprs.summary)
        summary["check"] = check_before_training(
            train + val, isprs.files, output, settings.check, world.is_main, world.enabled
        )
    bands, gsd = _bands_and_gsd(settings, train[0], isprs)
    return DataSplits(train, val, train[0].classes, bands, gsd, summary)


def _synthetic_splits(
    settings: DataSettings, output: str, world: Distributed, summary: dict[str, Any]
) -> tuple[list[TileFiles], list[TileFiles]]:
    """Rank 0 writes (or reuses) ``<root>/train`` and ``<root>/val``; every rank lists them."""
    root = Path(settings.root or Path(output) / "data")
    train_root, val_root = root / "train", root / "val"
    if world.is_main:
        for folder, count, seed in (
            (train_root, settings.synthetic_train_scenes, settings.synthetic_seed),
            (val_root, settings.synthetic_val_scenes, settings.synthetic_seed + 1),
        ):
            ensure_synthetic_folder(folder, count, seed, settings.synthetic_size, settings.synthetic_gsd)
    world.barrier()
    summary.update(
        generator_version=GENERATOR_VERSION,
        generator_seed=settings.synthetic_seed,
        val_generator_seed=settings.synthetic_seed + 1,
        train_scenes=settings.synthetic_train_scenes,
        val_scenes=settings.synthetic_val_scenes,
        scene_size=settings.synthetic_size,
    )
    return folder_tiles(train_root), folder_tiles(val_root)


def _isprs_run(settings: DataSettings) -> IsprsRunData:
    return isprs_run_data(
        settings.kind,
        settings.root,
        split=settings.split,
        val_tiles=settings.val_tiles,
        eroded=settings.eroded,
        optical=settings.potsdam_optical,
        elevation=settings.potsdam_elevation,
        gsd_m=settings.gsd_m,
        optical_bands=settings.optical_bands,
        normalization=settings.normalization,
    )


def _bands_and_gsd(
    settings: DataSettings, first: TileFiles, isprs: IsprsRunData | None
) -> tuple[tuple[str, ...], float]:
    """The card's optical band names and ground sampling distance, checked against the first tile.

    Raises:
        ValueError: If the band names do not match the optical rasters' band count.
    """
    with open_raster(first.optical) as dataset:
        count = len(first.optical_bands) if first.optical_bands else dataset.count
        gsd = settings.gsd_m or abs(dataset.transform.a)
    if isprs is not None:
        bands, gsd = isprs.optical_bands, isprs.gsd_m
    elif settings.optical_bands:
        bands = tuple(settings.optical_bands)
    else:
        bands = _default_bands(count)
    if len(bands) != count:
        raise ValueError(f"data.optical_bands names {len(bands)} bands, the optical rasters have {count}")
    return bands, float(gsd)


def prepare_polygon_data(config: TrainConfig, base: ModelCard | None) -> DataSplits:
    """Read the training polygons against the optical raster and the base model's classes and bands.

    Raises:
        PolygonError: For unusable polygons (see :func:`load_polygon_labels`).
        FileNotFoundError: If a raster is missing.
    """
    settings = config.data
    for path in (settings.optical, settings.elevation):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path} does not exist")
    source = PolygonSource(settings.polygons, settings.class_field, settings.polygon_layer)
    labels = load_polygon_labels(source, settings.optical, base.classes if base else ISPRS_CLASSES)
    with open_raster(settings.optical) as optical:
        count, crs, resolution = optical.count, optical.crs, abs(optical.transform.a)
    if base is not None:
        names = base.optical_bands
    elif settings.optical_bands:
        names = tuple(settings.optical_bands)
    else:
        names = _default_bands(len(settings.bands) or min(count, 3))
    bands = tuple(settings.bands) or tuple(range(1, len(names) + 1))
    if len(bands) != len(names):
        raise ValueError(
            f"data.bands selects {len(bands)} bands; the model needs {len(names)} ({'/'.join(names)})"
        )
    if count < max(bands):
        raise ValueError(
            f"{settings.optical} has {count} band(s); the model needs bands {list(bands)} ({'/'.join(names)})"
        )
    gsd = settings.gsd_m or (resolution if crs is not None and crs.is_projected else 0.0)
    notes = list(labels.warnings)
    if base is not None and gsd and not 2 / 3 <= gsd / base.gsd_m <= 3 / 2:
        notes.append(
            f"{settings.optical} has {gsd:g} m pixels, the base model was trained at {base.gsd_m:g} m; "
            "fine-tuning can adapt to this, but resampling the imagery closer to the model's resolution helps"
        )
    summary = {
        "kind": "polygons",
        "optical": Path(settings.optical).name,
        "elevation": Path(settings.elevation).name,
        "bands": list(bands),
        "polygons": labels.summary,
    }
    return DataSplits(
        [], [], labels.classes, names, float(gsd or (base.gsd_m if base else 0.1)), summary, labels, notes
    )


def training_crops(
    data: DataSplits,
    settings: DataSettings,
    crop_size: int,
    length: int,
    normalization: NormalizationConfig,
    seed: int,
) -> RandomCropDataset | PolygonCropDataset:
    """An epoch's ``length`` random training crops: class-balanced around the labelled pixels of training
    polygons, else anywhere in the training tiles; crop ``i`` of epoch ``e`` depends on ``(seed, e, i)`` only.
    """
    if data.polygons is not None:
        return PolygonCropDataset(
            settings.optical,
            settings.elevation,
            data.polygons,
            crop_size,
            length,
            normalization,
            data.summary["bands"],
            seed=seed,
        )
    return RandomCropDataset(data.train, crop_size, length, normalization, seed=seed)


def dataset_tiles(
    kind: str,
    root: str | Path,
    *,
    split: str = "benchmark",
    part: str = "test",
    tiles: Sequence[str] | None = None,
    potsdam_optical: str = "RGB",
    potsdam_elevation: str = "dsm",
    synthetic_seed: int = 1000,
    synthetic_count: int = 4,
    synthetic_size: int = 512,
    synthetic_gsd: float = 0.1,
) -> tuple[list[TileFiles], DataFacts]:
    """The tiles to evaluate (a folder dataset, an ISPRS split, or held-out synthetic scenes) and their facts.

    Args:
        kind: ``folder``, ``vaihingen``, ``potsdam`` or ``synthetic``.
        root: The dataset folder; for ``synthetic``, where the scenes are written (reused when the folder
            already holds exactly these scenes).
        split: ISPRS split, ``benchmark`` or ``fusion-papers``.
        part: Its part, ``test`` or ``train``.
        tiles: ISPRS tile ids to use instead of the part.
        potsdam_optical: Potsdam optical choice.
        potsdam_elevation: Potsdam elevation choice.
        synthetic_seed: Generator seed of the synthetic scenes (pick one no training run used).
        synthetic_count: Number of synthetic scenes.
        synthetic_size: Side of the synthetic scenes in pixels.
        synthetic_gsd: Their ground sampling distance.

    Raises:
        ValueError: On an unknown kind; FileNotFoundError from the listings.
    """
    if kind in GSD_M:
        ids = split_tiles(kind, split, part) if tiles is None else tiles
        selection = select_tiles(kind, root, ids, optical=potsdam_optical, elevation=potsdam_elevation)
        facts = DataFacts(
            kind,
            str(root),
            selection.tile_ids,
            len(selection.optical_bands),
            selection.optical_bands,
            selection.elevation,
            GSD_M[kind],
            split,
            part if tiles is None else None,
            selection.optical_source,
            selection.elevation_source,
            selection.labels_source,
        )
        return selection.tiles, facts
    if kind == "folder":
        found = folder_tiles(root)
    elif kind == "synthetic":
        found = folder_tiles(
            ensure_synthetic_folder(root, synthetic_count, synthetic_seed, synthetic_size, synthetic_gsd)
        )
    else:
        raise ValueError(f"unknown dataset kind {kind!r}; expected folder, vaihingen, potsdam or synthetic")
    info = inspect_tile(found[0])
    with open_raster(found[0].optical) as dataset:
        projected = dataset.crs is not None and dataset.crs.is_projected
        gsd = abs(dataset.transform.a) if projected else None
    return found, DataFacts(kind, str(root), tuple(t.name for t in found), len(info.optical_bands), gsd_m=gsd)
