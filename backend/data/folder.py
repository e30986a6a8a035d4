"""Tiles of (optical, elevation, labels) GeoTIFFs, read window by window; the generic folder layout.

Folder layout (file names match across the three folders; ``.tif`` or ``.tiff``)::

    root/
      optical/    area_a.tif  area_b.tif ...   any number of bands, any integer or float type
      elevation/  area_a.tif  area_b.tif ...   one band, metres (DSM, or nDSM with elevation_mode="absolute")
      labels/     area_a.tif  area_b.tif ...   1 band: class indices (255, or a nodata value that is
                                                 no class index, = ignore);
                                                 3 or 4 bands: colours of the class table (RGB[A])
      classes.csv                              optional class table (index,name,r,g,b); default ISPRS

The three rasters of a tile must share one pixel grid (labels exactly; the elevation may be up to 1 % or
a few pixels smaller, as some ISPRS DSMs are, the missing border being nodata). Nothing reads a whole tile
per sample: :class:`RandomCropDataset` (training) and :class:`GridWindowDataset` (validation) read one
window with rasterio and normalise it with :mod:`geofuse.backend.data.normalize`, exactly as inference
does. The ISPRS loaders only list their tiles in their own layout and reuse these datasets.
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import torch
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window
from torch import Tensor
from torch.utils.data import Dataset

from geofuse.backend.classes import (
    IGNORE_INDEX,
    ISPRS_CLASSES,
    ClassInfo,
    Colour,
    check_indices,
    colours_to_indices,
    read_class_table,
    validate_classes,
)
from geofuse.backend.data.normalize import (
    NormalizationConfig,
    normalize_elevation,
    normalize_optical,
    valid_pixels,
)

Sample = dict[str, Tensor]
FOLDERS = ("optical", "elevation", "labels")
CLASS_TABLE_NAME = "classes.csv"
RASTER_SUFFIXES = (".tif", ".tiff")
OPEN_RASTERS = 48
"""Most rasters inside zips a dataset keeps open per process (3 per tile)."""


@dataclass(frozen=True)
class TileFiles:
    """The files of one tile and how to read them.

    Attributes:
        name: Short identifier, used in error messages.
        optical: Optical raster.
        elevation: Elevation raster on the same pixel grid.
        labels: Label raster on the same pixel grid.
        label_colours: True if labels are colour-coded (first three bands RGB), False for class indices.
        classes: The class table.
        ignore_colour: For colour labels, a colour read as the ignore index (eroded ISPRS boundaries).
        optical_bands: 1-based bands of ``optical`` to read, in order (None: all).
    """

    name: str
    optical: Path
    elevation: Path
    labels: Path
    label_colours: bool = False
    classes: tuple[ClassInfo, ...] = ISPRS_CLASSES
    ignore_colour: Colour | None = None
    optical_bands: tuple[int, ...] | None = None


@dataclass(frozen=True)
class TileInfo:
    """What :func:`inspect_tile` learnt from a tile's headers: size, bands to read and nodata values."""

    height: int
    width: int
    optical_bands: tuple[int, ...]
    optical_nodata: float | None
    elevation_nodata: float | None
    label_nodata: float | None


def is_virtual(path: str | Path) -> bool:
    """True for a GDAL virtual path (``/vsizip/...``: a member of a zip), which only GDAL can open."""
    return str(path).startswith("/vsi")


@contextmanager
def open_raster(path: Path) -> Iterator[rasterio.DatasetReader]:
    """Open a raster for reading; plain images (Potsdam's nDSM JPEGs) have no georeferencing to check."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        dataset = rasterio.open(path)
    with dataset:
        yield dataset


class OpenRasters:
    """Rasters inside zips, kept open between the windows one process reads from them.

    GDAL keeps its place in a zip's deflate stream (its seek snapshots) only while a raster stays open;
    reopening a ``/vsizip/`` raster for every window decompresses from the start again. Kept open, random
    windows read 3.6× (zip) and 5.6× (zip in a zip) faster (``bench/bench_isprs_reading.py``, 3000² px,
    256² windows). Plain files are opened per window as before. Handles are per process: a copy made for a
    ``DataLoader`` worker (pickled or forked) starts empty.
    """

    def __init__(self, limit: int = 48) -> None:
        """Keep at most ``limit`` rasters open (the least recently used is closed; 0: none)."""
        self.limit = limit
        self._open: OrderedDict[str, rasterio.DatasetReader] = OrderedDict()
        self._pid = os.getpid()

    def __getstate__(self) -> dict[str, int]:
        """Only the limit travels to another process."""
        return {"limit": self.limit}

    def __setstate__(self, state: dict[str, int]) -> None:
        """Start with no open rasters."""
        self.__init__(state["limit"])

    @contextmanager
    def open(self, path: Path) -> Iterator[rasterio.DatasetReader]:
        """The raster at ``path``, open (kept open if it is inside a zip)."""
        if not is_virtual(path):
            with open_raster(path) as dataset:
                yield dataset
            return
        if os.getpid() != self._pid:  # forked: the parent's handles are not ours to use
            self._open, self._pid = OrderedDict(), os.getpid()
        key = str(path)
        dataset = self._open.pop(key, None)
        if dataset is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                dataset = rasterio.open(path)
        try:
            yield dataset
        finally:
            self._open[key] = dataset
            while len(self._open) > self.limit:
                self._open.popitem(last=False)[1].close()


def _grid_mismatch(reference: rasterio.DatasetReader, other: rasterio.DatasetReader) -> str | None:
    """Why two georeferenced rasters are not on one pixel grid, or None (also when one lacks a CRS)."""
    if reference.crs is None or other.crs is None:
        return None
    if reference.crs != other.crs:
        return f"CRS {other.crs} differs from {reference.crs}"
    a, b = reference.transform, other.transform
    if not np.allclose([b.a, b.e], [a.a, a.e], rtol=0.01):
        return f"pixel size {(b.a, b.e)} differs from {(a.a, a.e)}"
    if abs(b.c - a.c) > abs(a.a) or abs(b.f - a.f) > abs(a.e):
        return f"origin {(b.c, b.f)} is more than a pixel from {(a.c, a.f)}"
    return None


def inspect_tile(tile: TileFiles) -> TileInfo:
    """Open the three rasters' headers and check that they fit together.

    Raises:
        FileNotFoundError: If a file is missing.
        ValueError: If sizes, grids, band counts or the class table do not fit, naming the tile and file.
    """
    validate_classes(tile.classes)
    for path in (tile.optical, tile.elevation, tile.labels):
        if not (is_virtual(path) or Path(path).is_file()):
            raise FileNotFoundError(f"tile {tile.name!r}: {path} does not exist")
    with (
        open_raster(tile.optical) as optical,
        open_raster(tile.elevation) as elevation,
        open_raster(tile.labels) as labels,
    ):
        bands = tile.optical_bands or tuple(range(1, optical.count + 1))
        if not all(1 <= band <= optical.count for band in bands):
            raise ValueError(
                f"tile {tile.name!r}: bands {bands} requested from {tile.optical} with {optical.count}"
            )
        size = (optical.height, optical.width)
        if (labels.height, labels.width) != size:
            raise ValueError(
                f"tile {tile.name!r}: labels {tile.labels} are {labels.height}×{labels.width}, "
                f"optical {tile.optical} is {size[0]}×{size[1]}"
            )
        for got, want in zip((elevation.height, elevation.width), size, strict=True):
            if abs(got - want) > max(4, 0.01 * want):
                raise ValueError(
                    f"tile {tile.name!r}: elevation {tile.elevation} is {elevation.height}×"
                    f"{elevation.width}, optical {tile.optical} is {size[0]}×{size[1]}"
                )
        needed = 3 if tile.label_colours else 1
        if labels.count < needed:
            raise ValueError(
                f"tile {tile.name!r}: {tile.labels} has {labels.count} band(s); "
                f"{'colour' if tile.label_colours else 'index'} labels need {needed}"
            )
        for other, path in ((elevation, tile.elevation), (labels, tile.labels)):
            mismatch = _grid_mismatch(optical, other)
            if mismatch:
                raise ValueError(
                    f"tile {tile.name!r}: {path} is not on the grid of {tile.optical}: {mismatch}"
                )
        return TileInfo(size[0], size[1], bands, optical.nodata, elevation.nodata, labels.nodata)


def _inside(
    dataset: rasterio.DatasetReader, row: int, col: int, size: int
) -> tuple[Window, tuple[slice, slice]]:
    """The part of a size×size window at (row, col) that lies inside the raster, and where it goes in the
    window (an empty window when none does)."""
    r0, c0 = max(row, 0), max(col, 0)
    rows = max(min(row + size, dataset.height) - r0, 0)
    cols = max(min(col + size, dataset.width) - c0, 0)
    return Window(c0, r0, cols, rows), (slice(r0 - row, r0 - row + rows), slice(c0 - col, c0 - col + cols))


def _read_inside(
    dataset: rasterio.DatasetReader, bands: Sequence[int], row: int, col: int, size: int
) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Read the part of a size×size window that lies inside the raster, and where it goes in the window."""
    window, inside = _inside(dataset, row, col, size)
    return dataset.read(list(bands), window=window), inside


def _elevation_with_context(
    dataset: rasterio.DatasetReader,
    info: TileInfo,
    row: int,
    col: int,
    size: int,
    normalization: NormalizationConfig,
) -> tuple[np.ndarray, np.ndarray, tuple[slice, slice]]:
    """The normalised elevation of the part of a window inside the raster, read with the context its
    ground estimate needs (:meth:`NormalizationConfig.elevation_context`), so a training crop sees the very
    values that inference (tile plus halo) gives the same pixels.

    Returns:
        ``(heights (1, h, w), valid (h, w), where it goes in the window)``.
    """
    window, inside = _inside(dataset, row, col, size)
    r0, c0, rows, cols = int(window.row_off), int(window.col_off), int(window.height), int(window.width)
    if rows == 0 or cols == 0:
        return np.zeros((1, rows, cols), np.float32), np.zeros((rows, cols), bool), inside
    first_row, context_rows = normalization.elevation_context(r0, rows, dataset.height)
    first_col, context_cols = normalization.elevation_context(c0, cols, dataset.width)
    data = dataset.read(
        1, window=Window(first_col, first_row, context_cols, context_rows), out_dtype="float32"
    )
    valid = valid_pixels(data, info.elevation_nodata)
    crop = np.s_[r0 - first_row : r0 - first_row + rows, c0 - first_col : c0 - first_col + cols]
    return normalize_elevation(data[None], normalization, valid[None], crop), valid[crop], inside


def read_inputs(
    optical_data: rasterio.DatasetReader,
    elevation_data: rasterio.DatasetReader,
    info: TileInfo,
    row: int,
    col: int,
    size: int,
    normalization: NormalizationConfig,
) -> tuple[Tensor, Tensor]:
    """The normalised optical and elevation of one size×size window at (row, col) of open rasters on one
    grid; parts outside the raster are 0 after normalisation.

    Returns:
        ``(optical float32 C×size×size, elevation float32 1×size×size)``.
    """
    data, inside = _read_inside(optical_data, info.optical_bands, row, col, size)
    optical = np.zeros((len(info.optical_bands), size, size), data.dtype)
    optical[:, inside[0], inside[1]] = data
    optical_valid = np.zeros((size, size), bool)
    optical_valid[inside] = valid_pixels(data, info.optical_nodata)

    elevation = np.zeros((1, size, size), np.float32)
    heights, _, inside = _elevation_with_context(elevation_data, info, row, col, size, normalization)
    elevation[:, inside[0], inside[1]] = heights
    return (
        torch.from_numpy(normalize_optical(optical, normalization, optical_valid)),
        torch.from_numpy(elevation),
    )


def read_window(
    tile: TileFiles,
    info: TileInfo,
    row: int,
    col: int,
    size: int,
    normalization: NormalizationConfig,
    rasters: OpenRasters | None = None,
) -> Sample:
    """Read and normalise one size×size window whose top-left pixel is (row, col).

    Parts of the window outside the tile are padding: optical and elevation 0 after normalisation, labels
    :data:`IGNORE_INDEX`. ``rasters`` keeps rasters inside zips open between calls.

    Returns:
        ``{"optical": float32 C×size×size, "elevation": float32 1×size×size, "mask": int64 size×size}``.

    Raises:
        UnknownColourError, UnknownLabelError: If a label pixel is not in the class table.
    """
    rasters = rasters or OpenRasters(0)
    with rasters.open(tile.optical) as optical_data, rasters.open(tile.elevation) as elevation_data:
        optical, elevation = read_inputs(optical_data, elevation_data, info, row, col, size, normalization)

    mask = np.full((size, size), IGNORE_INDEX, np.uint8)
    with rasters.open(tile.labels) as dataset:
        data, inside = _read_inside(dataset, (1, 2, 3) if tile.label_colours else (1,), row, col, size)
    where = f"tile {tile.name!r} labels {tile.labels}"
    if tile.label_colours:
        labels = colours_to_indices(
            data,
            tile.classes,
            ignore_colour=tile.ignore_colour,
            offset=(max(row, 0), max(col, 0)),
            source=where,
        )
    else:
        labels = data[0]
        if info.label_nodata is not None and not 0 <= info.label_nodata < len(tile.classes):
            labels = np.where(labels == info.label_nodata, IGNORE_INDEX, labels)
        labels = check_indices(labels, len(tile.classes), offset=(max(row, 0), max(col, 0)), source=where)
    mask[inside] = labels

    return {"optical": optical, "elevation": elevation, "mask": torch.from_numpy(mask.astype(np.int64))}


def dihedral(sample: Sample, rng: np.random.Generator) -> Sample:
    """One of the 8 flips/rotations of a square window, the same for every entry (in numpy: one copy,
    an order of magnitude faster than torch's rot90 on CPU)."""
    turns, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = {}
    for key, value in sample.items():
        array = np.rot90(value.numpy(), turns, axes=(-2, -1))
        out[key] = torch.from_numpy(np.ascontiguousarray(array[..., ::-1] if flip else array))
    return out


class RandomCropDataset(Dataset):
    """Training samples: random square crops, tiles drawn in proportion to their area.

    Sample ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``, so runs are reproducible whatever
    the number of loader workers or DDP processes; call :meth:`set_epoch` to draw fresh crops each epoch.
    """

    def __init__(
        self,
        tiles: Sequence[TileFiles],
        crop_size: int,
        length: int,
        normalization: NormalizationConfig,
        seed: int = 0,
        augment: bool = True,
    ) -> None:
        """Check the tiles' headers (not their pixels).

        Args:
            tiles: Tiles to crop from.
            crop_size: Side of the square crops in pixels; tiles smaller than this are padded.
            length: Samples per epoch.
            normalization: Applied to each crop.
            seed: Base seed of the crop positions and augmentations.
            augment: Apply a random flip/rotation (the 8 symmetries of the square).
        """
        if not tiles:
            raise ValueError("RandomCropDataset needs at least one tile")
        self.tiles = list(tiles)
        self.infos = [inspect_tile(tile) for tile in self.tiles]
        self.crop_size, self.length, self.normalization = crop_size, length, normalization
        self.seed, self.augment, self.epoch = seed, augment, 0
        self.rasters = OpenRasters(min(3 * len(self.tiles), OPEN_RASTERS))
        areas = np.array([info.height * info.width for info in self.infos], dtype=np.float64)
        self.tile_weights = areas / areas.sum()

    def set_epoch(self, epoch: int) -> None:
        """Select the crops of ``epoch``.

        Loader workers hold a copy of the dataset: call this before iterating a ``DataLoader`` whose
        workers are not persistent (the default), as with ``DistributedSampler.set_epoch``.
        """
        self.epoch = epoch

    def __len__(self) -> int:
        """Samples per epoch."""
        return self.length

    def __getitem__(self, index: int) -> Sample:
        """Crop ``index`` of the current epoch."""
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng((self.seed, self.epoch, index))
        tile_index = int(rng.choice(len(self.tiles), p=self.tile_weights))
        info = self.infos[tile_index]
        row = int(rng.integers(0, max(info.height - self.crop_size, 0) + 1))
        col = int(rng.integers(0, max(info.width - self.crop_size, 0) + 1))
        sample = read_window(
            self.tiles[tile_index], info, row, col, self.crop_size, self.normalization, self.rasters
        )
        return dihedral(sample, rng) if self.augment else sample


def grid_offsets(length: int, window: int, stride: int) -> list[int]:
    """Window starts covering ``length`` pixels: every ``stride``, the last one flush with the end."""
    last = max(length - window, 0)
    offsets = list(range(0, last, stride))
    return [*offsets, last]


class GridWindowDataset(Dataset):
    """Validation samples: a fixed grid of square windows over every tile, in tile order."""

    def __init__(
        self,
        tiles: Sequence[TileFiles],
        window_size: int,
        normalization: NormalizationConfig,
        stride: int | None = None,
    ) -> None:
        """List the windows.

        Args:
            tiles: Tiles to cover.
            window_size: Side of the square windows in pixels; tiles smaller than this are padded.
            normalization: Applied to each window.
            stride: Step between windows (default ``window_size``: no overlap). The last window of a row or
                column is moved back to end at the tile's edge, so windows overlap there instead of padding.
        """
        if not tiles:
            raise ValueError("GridWindowDataset needs at least one tile")
        stride = stride or window_size
        if not 0 < stride <= window_size:
            raise ValueError(f"stride must be in 1..window_size ({window_size}), got {stride}")
        self.tiles = list(tiles)
        self.infos = [inspect_tile(tile) for tile in self.tiles]
        self.window_size, self.normalization = window_size, normalization
        self.rasters = OpenRasters(min(3 * len(self.tiles), OPEN_RASTERS))
        self.windows: list[tuple[int, int, int]] = [
            (tile_index, row, col)
            for tile_index, info in enumerate(self.infos)
            for row in grid_offsets(info.height, window_size, stride)
            for col in grid_offsets(info.width, window_size, stride)
        ]
        """(tile index, row, col) of every window, in sample order."""

    def __len__(self) -> int:
        """Number of windows."""
        return len(self.windows)

    def __getitem__(self, index: int) -> Sample:
        """Window ``index``."""
        tile_index, row, col = self.windows[index]
        return read_window(
            self.tiles[tile_index],
            self.infos[tile_index],
            row,
            col,
            self.window_size,
            self.normalization,
            self.rasters,
        )


def _rasters(folder: Path) -> dict[str, Path]:
    return {path.stem: path for path in sorted(folder.iterdir()) if path.suffix.lower() in RASTER_SUFFIXES}


def folder_tiles(root: str | Path, classes: Sequence[ClassInfo] | None = None) -> list[TileFiles]:
    """List the tiles of a folder in the layout of the module docstring.

    Args:
        root: The folder holding ``optical/``, ``elevation/``, ``labels/``.
        classes: Class table; default ``root/classes.csv`` if present, else the ISPRS classes.

    Returns:
        One :class:`TileFiles` per name, sorted; labels with 3 or more bands are read as colours.

    Raises:
        FileNotFoundError: If a folder is missing or empty, or a name lacks one of its three files (all
            such names are listed).
    """
    root = Path(root)
    missing_folders = [str(root / name) for name in FOLDERS if not (root / name).is_dir()]
    if missing_folders:
        raise FileNotFoundError(
            f"{root} is not a GeoFuse data folder: missing {', '.join(missing_folders)} "
            "(expected optical/, elevation/, labels/ with matching *.tif names)"
        )
    files = {name: _rasters(root / name) for name in FOLDERS}
    names = sorted(set().union(*files.values()))
    if not names:
        raise FileNotFoundError(f"{root}: no .tif files in optical/, elevation/, labels/")
    absent = {
        name: [f"{folder}/{name}.tif" for folder in FOLDERS if name not in files[folder]] for name in names
    }
    incomplete = [f"{name} (missing {', '.join(paths)})" for name, paths in absent.items() if paths]
    if incomplete:
        raise FileNotFoundError(f"{root}: incomplete tiles: {'; '.join(incomplete)}")
    if classes is None:
        table = root / CLASS_TABLE_NAME
        classes = read_class_table(table) if table.is_file() else ISPRS_CLASSES
    classes = validate_classes(classes)
    tiles = []
    for name in names:
        with rasterio.open(files["labels"][name]) as labels:
            colour_coded = labels.count >= 3
        tiles.append(
            TileFiles(
                name,
                files["optical"][name],
                files["elevation"][name],
                files["labels"][name],
                label_colours=colour_coded,
                classes=classes,
            )
        )
    return tiles
