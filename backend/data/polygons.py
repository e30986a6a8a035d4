"""Sparse training labels from digitised polygons: how an analyst teaches GeoFuse their own area.

The polygons (any OGR vector: GeoPackage, GeoJSON, Shapefile; any CRS) carry a class field with class names
or class indices. They are reprojected once to the optical raster's CRS and rasterised on the fly, window by
window, on the optical grid, so nothing of the size of the raster is ever held. Pixels outside every polygon
are :data:`~geofuse.backend.classes.IGNORE_INDEX`; where polygons of different classes overlap, the overlap
is ignored too (and counted), since it is not known which class is right there.

Class values are matched to the base model's class table: names case-insensitively (``"Building"`` is
``building``), integers as indices of that table. A name the base model does not know becomes a new class,
appended after the base classes (a new output channel). When every value of the field is an integer (or a
string of digits) the field is read as indices, otherwise as names.

Crops are drawn class-balanced (:class:`PolygonCropDataset`): a class, then one of its polygons, then a pixel
of that polygon's box that the crop must contain, so a class with one small polygon is seen as often as one
with many large ones.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import torch
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.features import bounds as geometry_bounds
from rasterio.features import rasterize
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_geom
from torch.utils.data import Dataset

from geofuse.backend.classes import (
    IGNORE_INDEX,
    ClassInfo,
    is_blank_class,
    is_class_index,
    new_class_names,
    validate_classes,
)
from geofuse.backend.data.folder import Sample, TileInfo, dihedral, read_inputs
from geofuse.backend.data.normalize import NormalizationConfig

from ..errors import GeoFuseError

POLYGON_TYPES = ("Polygon", "MultiPolygon")
COUNT_BLOCK = 1024
"""Side of the blocks in which labelled pixels are counted (bounded memory on any raster)."""
NEW_CLASS_COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 127, 0),
    (128, 0, 128),
    (0, 128, 128),
    (128, 128, 0),
    (255, 0, 255),
    (128, 64, 0),
    (0, 0, 128),
    (64, 128, 255),
)
"""Display colours given to classes the base model did not have, in order, skipping used ones."""


class PolygonError(GeoFuseError):
    """Training polygons that cannot be used; the message says which file and what to change."""


@dataclass(frozen=True)
class PolygonSource:
    """Where the training polygons are.

    Attributes:
        path: An OGR vector file (GeoPackage, GeoJSON, Shapefile, ...).
        class_field: The attribute holding each polygon's class (name or index).
        layer: The layer inside ``path`` ("" = the first one).
    """

    path: str
    class_field: str
    layer: str = ""


@dataclass(frozen=True)
class LabelPolygon:
    """One training polygon on the optical grid.

    Attributes:
        geometry: GeoJSON geometry in the optical raster's CRS.
        value: Its class index in the merged class table.
        rows: ``(first, stop)`` rows of its bounding box on the optical grid (may reach outside the raster).
        cols: ``(first, stop)`` columns, likewise.
    """

    geometry: dict[str, Any]
    value: int
    rows: tuple[int, int]
    cols: tuple[int, int]

    def touches(self, row: int, col: int, height: int, width: int) -> bool:
        """Whether its box meets the window ``height × width`` at ``(row, col)``."""
        return (
            self.rows[0] < row + height
            and row < self.rows[1]
            and self.cols[0] < col + width
            and (col < self.cols[1])
        )


@dataclass
class PolygonLabels:
    """Polygons ready to rasterise, the class table they imply and what the card records of them.

    Attributes:
        polygons: The polygons that meet the optical raster.
        classes: The base classes followed by the new ones.
        new_classes: Names of the classes the base model did not have.
        summary: Plain-types facts for the model card (source, counts, labelled pixels per class).
        warnings: Things the user should know (skipped features, classes with no usable pixel).
    """

    polygons: list[LabelPolygon]
    classes: tuple[ClassInfo, ...]
    new_classes: tuple[str, ...]
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


@contextmanager
def open_pair(optical_path: str | Path, elevation_path: str | Path) -> Iterator[tuple[Any, Any]]:
    """Open the optical raster and the elevation as seen on the optical grid.

    The elevation is warped (bilinear) onto the optical grid when the grids differ; pixels outside its
    footprint read as nodata (NaN when the file declares none), never as 0 m.

    Raises:
        PolygonError: If the grids differ and one raster has no CRS.
    """
    with ExitStack() as stack, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        optical = stack.enter_context(rasterio.open(optical_path))
        elevation = stack.enter_context(rasterio.open(elevation_path))
        same = (elevation.crs, elevation.transform, elevation.shape) == (
            optical.crs,
            optical.transform,
            optical.shape,
        )
        if not same:
            if elevation.crs is None or optical.crs is None:
                raise PolygonError(
                    f"{elevation_path} and {optical_path} are on different grids and one has no CRS, "
                    "so they cannot be aligned"
                )
            elevation = stack.enter_context(
                WarpedVRT(
                    elevation,
                    crs=optical.crs,
                    transform=optical.transform,
                    width=optical.width,
                    height=optical.height,
                    resampling=Resampling.bilinear,
                    dtype="float32",
                    nodata=elevation.nodata if elevation.nodata is not None else float("nan"),
                )
            )
        yield optical, elevation


def _new_colour(used: set[tuple[int, int, int]], number: int) -> tuple[int, int, int]:
    for colour in NEW_CLASS_COLOURS:
        if colour not in used:
            return colour
    rng = np.random.default_rng(number)
    while True:
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if colour not in used:
            return colour  # type: ignore[return-value]


def match_classes(
    values: Sequence[Any], base: Sequence[ClassInfo]
) -> tuple[tuple[ClassInfo, ...], list[int], tuple[str, ...]]:
    """Map the class field's values to the base classes, appending the names the base lacks.

    Args:
        values: One class value per polygon (none blank).
        base: The base model's class table.

    Returns:
        ``(merged class table, class index of each value, names of the new classes)``.

    Raises:
        PolygonError: For an index that is not a class of the base model.
    """
    classes = list(validate_classes(base))
    if all(is_class_index(value) for value in values):
        indices = [int(float(value)) if not isinstance(value, str) else int(value) for value in values]
        bad = sorted({index for index in indices if not 0 <= index < len(classes)})
        if bad:
            raise PolygonError(
                f"class index(es) {bad} are not classes of the base model (0..{len(classes) - 1}: "
                f"{', '.join(info.name for info in classes)}); use a class name to add a new class"
            )
        return tuple(classes), indices, ()
    new = new_class_names(values, [info.name for info in classes])
    for name in new:
        classes.append(
            ClassInfo(len(classes), name, _new_colour({info.colour for info in classes}, len(classes)))
        )
    by_name = {info.name.casefold(): info.index for info in classes}
    indices = [by_name[str(value).strip().casefold()] for value in values]
    return validate_classes(classes), indices, new


def _read_features(source: PolygonSource) -> tuple[list[tuple[dict[str, Any], Any]], str, str, int]:
    """The polygons and their raw class values, the layer's CRS (WKT, "" if none), its name and the number
    of features read.

    Raises:
        PolygonError: Unreadable file, unknown layer or field, non-polygon geometries, no features.
    """
    try:
        import fiona
        from fiona.errors import FionaError
    except ImportError:
        raise PolygonError(
            "reading training polygons needs fiona, which this GeoFuse runtime lacks (it predates 0.2.0): "
            "set up the runtime again, or pip install 'fiona>=1.9' into it"
        ) from None

    path = Path(source.path)
    if not path.exists() and not str(source.path).startswith("/vsi"):
        raise PolygonError(f"training polygons {source.path}: no such file")
    try:
        layers = fiona.listlayers(str(source.path))
    except (FionaError, OSError, ValueError) as error:
        raise PolygonError(f"training polygons {source.path}: not a readable vector file ({error})") from None
    if not layers:
        raise PolygonError(f"training polygons {source.path}: the file has no layers")
    layer = source.layer or layers[0]
    if layer not in layers:
        raise PolygonError(f"training polygons {source.path}: no layer {layer!r}; it has {', '.join(layers)}")
    try:
        with fiona.open(str(source.path), layer=layer) as collection:
            fields = list(collection.schema["properties"])
            name = source.class_field
            if name not in fields:
                folded = [f for f in fields if f.casefold() == name.casefold()]
                if len(folded) != 1:
                    raise PolygonError(
                        f"training polygons {path.name} (layer {layer!r}): no field {name!r}; "
                        f"the fields are {', '.join(fields) or '(none)'}"
                    )
                name = folded[0]
            crs_wkt = collection.crs_wkt or ""
            features = []
            count = 0
            for feature in collection:
                count += 1
                geometry = feature.geometry
                if geometry is None:
                    continue
                shape = dict(geometry.__geo_interface__)
                if shape.get("type") not in POLYGON_TYPES:
                    raise PolygonError(
                        f"training polygons {path.name} (layer {layer!r}) holds {shape.get('type')} "
                        "geometries; training areas must be polygons"
                    )
                features.append((shape, feature.properties[name]))
    except FionaError as error:
        raise PolygonError(f"training polygons {source.path}: {error}") from None
    if count == 0:
        raise PolygonError(f"training polygons {path.name} (layer {layer!r}) has no features")
    return features, crs_wkt, layer, count


def _pixel_box(geometry: Mapping[str, Any], transform: Affine) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns of a geometry's bounding box on a (possibly rotated) pixel grid."""
    left, bottom, right, top = geometry_bounds(geometry)
    inverse = ~transform
    corners = [inverse * (x, y) for x in (left, right) for y in (bottom, top)]
    cols = [c for c, _ in corners]
    rows = [r for _, r in corners]
    return (math.floor(min(rows)), math.ceil(max(rows))), (math.floor(min(cols)), math.ceil(max(cols)))


def rasterize_window(
    polygons: Sequence[LabelPolygon], transform: Affine, row: int, col: int, height: int, width: int
) -> tuple[np.ndarray, int]:
    """Labels of the ``height × width`` window at ``(row, col)`` of the optical grid.

    Returns:
        ``(labels uint8, overlap pixels)``: the class of the polygon each pixel's centre lies in,
        :data:`IGNORE_INDEX` outside every polygon and where polygons of different classes overlap.
    """
    labels = np.full((height, width), IGNORE_INDEX, np.uint8)
    hits = [polygon for polygon in polygons if polygon.touches(row, col, height, width)]
    if not hits or height == 0 or width == 0:
        return labels, 0
    window_transform = transform * Affine.translation(col, row)
    count = np.zeros((height, width), np.uint8)
    for value in sorted({polygon.value for polygon in hits}):
        inside = rasterize(
            [(polygon.geometry, 1) for polygon in hits if polygon.value == value],
            out_shape=(height, width),
            transform=window_transform,
            fill=0,
            dtype="uint8",
        ).astype(bool)
        count += inside
        labels[inside] = value
    overlap = count > 1
    labels[overlap] = IGNORE_INDEX
    return labels, int(overlap.sum())


def _count_labels(
    polygons: Sequence[LabelPolygon], transform: Affine, shape: tuple[int, int], num_classes: int
) -> tuple[np.ndarray, int]:
    """Labelled pixels per class and overlap pixels over the whole raster, block by block."""
    counts = np.zeros(num_classes, np.int64)
    overlap = 0
    height, width = shape
    blocks = {
        (r, c)
        for polygon in polygons
        for r in range(
            max(polygon.rows[0], 0) // COUNT_BLOCK, (min(polygon.rows[1], height) - 1) // COUNT_BLOCK + 1
        )
        for c in range(
            max(polygon.cols[0], 0) // COUNT_BLOCK, (min(polygon.cols[1], width) - 1) // COUNT_BLOCK + 1
        )
    }
    for block_row, block_col in sorted(blocks):
        row, col = block_row * COUNT_BLOCK, block_col * COUNT_BLOCK
        rows, cols = min(COUNT_BLOCK, height - row), min(COUNT_BLOCK, width - col)
        labels, overlapping = rasterize_window(polygons, transform, row, col, rows, cols)
        counts += np.bincount(labels[labels != IGNORE_INDEX], minlength=num_classes)[:num_classes]
        overlap += overlapping
    return counts, overlap


def load_polygon_labels(
    source: PolygonSource, optical_path: str | Path, base_classes: Sequence[ClassInfo]
) -> PolygonLabels:
    """Read, reproject and check the training polygons against the optical raster and the base classes.

    Raises:
        PolygonError: With one clear line: unreadable file, missing layer or field, points or lines, an
            empty layer or class field, no polygon over the optical raster, an unknown class index.
    """
    features, crs_wkt, layer, count = _read_features(source)
    name = Path(source.path).name
    kept = [(shape, value) for shape, value in features if not is_blank_class(value)]
    if not kept:
        raise PolygonError(
            f"training polygons {name} (layer {layer!r}): the field {source.class_field!r} is empty "
            "for every polygon"
        )
    notes = []
    if len(kept) < count:
        notes.append(f"{count - len(kept)} feature(s) without a geometry or a class were skipped")
    classes, indices, new = match_classes([value for _, value in kept], base_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(optical_path) as optical:
            transform, shape, optical_crs = optical.transform, optical.shape, optical.crs
    source_crs = CRS.from_wkt(crs_wkt) if crs_wkt else None
    if source_crs is None:
        notes.append("the polygons have no CRS; they were taken to be in the optical raster's CRS")
    elif optical_crs is None:
        raise PolygonError(f"{optical_path} has no CRS, so the polygons of {name} cannot be placed on it")
    polygons = []
    for (geometry, _), value in zip(kept, indices, strict=True):
        if source_crs is not None and source_crs != optical_crs:
            geometry = transform_geom(source_crs, optical_crs, geometry)
        rows, cols = _pixel_box(geometry, transform)
        polygon = LabelPolygon(dict(geometry), value, rows, cols)
        if polygon.touches(0, 0, *shape):
            polygons.append(polygon)
    if not polygons:
        raise PolygonError(f"none of the {len(kept)} training polygons of {name} overlaps {optical_path}")
    pixels, overlap = _count_labels(polygons, transform, shape, len(classes))
    if not pixels.any():
        raise PolygonError(
            f"the training polygons of {name} cover no pixel centre of {optical_path} "
            "(too small for its pixels, or all overlapping polygons of different classes)"
        )
    empty = [info.name for info in classes if pixels[info.index] == 0 and info.index >= len(base_classes)]
    if empty:
        notes.append(f"new class(es) {', '.join(empty)} cover no pixel and cannot be learnt")
    if overlap:
        notes.append(f"{overlap} pixel(s) where polygons of different classes overlap are ignored")
    summary = {
        "file": name,
        "layer": layer,
        "class_field": source.class_field,
        "features": count,
        "polygons_used": len(polygons),
        "labelled_pixels": {info.name: int(pixels[info.index]) for info in classes if pixels[info.index]},
        "overlap_pixels": overlap,
        "new_classes": list(new),
    }
    return PolygonLabels(polygons, classes, new, summary, notes)


class PolygonCropDataset(Dataset):
    """Training crops around labelled pixels of one optical + elevation pair, class-balanced.

    Sample ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``, as in
    :class:`~geofuse.backend.data.folder.RandomCropDataset`, with the same augmentation.
    """

    def __init__(
        self,
        optical: str | Path,
        elevation: str | Path,
        labels: PolygonLabels,
        crop_size: int,
        length: int,
        normalization: NormalizationConfig,
        optical_bands: Sequence[int],
        seed: int = 0,
        augment: bool = True,
    ) -> None:
        """Check the pair's headers and index the polygons by class.

        Args:
            optical: The optical raster (the grid the polygons are rasterised on).
            elevation: The elevation raster (any grid; warped onto the optical one).
            labels: From :func:`load_polygon_labels`.
            crop_size: Side of the square crops in pixels.
            length: Samples per epoch.
            normalization: Applied to each crop (the base model's).
            optical_bands: 1-based optical bands to read, in the model's order.
            seed: Base seed of crop positions and augmentations.
            augment: Apply a random flip/rotation.

        Raises:
            PolygonError: If a band does not exist or the grids cannot be aligned.
        """
        self.optical, self.elevation, self.labels = Path(optical), Path(elevation), labels
        with open_pair(optical, elevation) as (optical_data, elevation_data):
            bad = [band for band in optical_bands if not 1 <= band <= optical_data.count]
            if bad:
                raise PolygonError(f"band(s) {bad} do not exist in {optical} (bands 1..{optical_data.count})")
            self.transform = optical_data.transform
            self.info = TileInfo(
                optical_data.height,
                optical_data.width,
                tuple(optical_bands),
                optical_data.nodata,
                elevation_data.nodata,
                None,
            )
        pixels = labels.summary["labelled_pixels"]
        by_name = {info.name: info.index for info in labels.classes}
        present = sorted(by_name[name] for name in pixels)
        self.by_class = {
            value: [i for i, polygon in enumerate(labels.polygons) if polygon.value == value]
            for value in present
        }
        self.crop_size, self.length, self.normalization = crop_size, length, normalization
        self.seed, self.augment, self.epoch = seed, augment, 0

    def set_epoch(self, epoch: int) -> None:
        """Select the crops of ``epoch``."""
        self.epoch = epoch

    def __len__(self) -> int:
        """Samples per epoch."""
        return self.length

    def _origin(self, rng: np.random.Generator) -> tuple[int, int]:
        """Top-left of a crop containing a pixel of a random polygon of a random class."""
        value = list(self.by_class)[int(rng.integers(len(self.by_class)))]
        polygon = self.labels.polygons[int(rng.choice(self.by_class[value]))]
        origin = []
        for (first, stop), extent in ((polygon.rows, self.info.height), (polygon.cols, self.info.width)):
            low, high = max(first, 0), max(min(stop, extent), max(first, 0) + 1)
            pixel = int(rng.integers(low, high))
            start = pixel - int(rng.integers(0, self.crop_size))
            origin.append(int(np.clip(start, 0, max(extent - self.crop_size, 0))))
        return origin[0], origin[1]

    def __getitem__(self, index: int) -> Sample:
        """Crop ``index`` of the current epoch."""
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng((self.seed, self.epoch, index))
        row, col = self._origin(rng)
        size = self.crop_size
        with open_pair(self.optical, self.elevation) as (optical, elevation):
            optical_input, elevation_input = read_inputs(
                optical, elevation, self.info, row, col, size, self.normalization
            )
        rows, cols = max(min(size, self.info.height - row), 0), max(min(size, self.info.width - col), 0)
        mask = np.full((size, size), IGNORE_INDEX, np.uint8)
        mask[:rows, :cols] = rasterize_window(self.labels.polygons, self.transform, row, col, rows, cols)[0]
        sample = {
            "optical": optical_input,
            "elevation": elevation_input,
            "mask": torch.from_numpy(mask.astype(np.int64)),
        }
        return dihedral(sample, rng) if self.augment else sample
