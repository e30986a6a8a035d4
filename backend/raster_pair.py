"""An optical raster and an elevation raster read together, tile by tile, on the optical grid.

:class:`RasterPair` opens both files, checks them against the model (bands, one elevation band, real
numbers), works out which part of the optical grid is written (the extent or the mask's bounding box) and
which part of that the elevation reaches, and reads tiles for the sliding window
(:func:`~geofuse.backend.sliding_window.stream_predict`): the optical bands and the elevation with its
context halo, warped onto the optical grid on the fly (a :class:`rasterio.vrt.WarpedVRT` when CRS,
resolution or extent differ), each with the pixels that hold data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

import numpy as np
import rasterio
from rasterio import features
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from .checkpoint import ModelCard
from .data.normalize import valid_pixels
from .errors import SegmentationError
from .mask import mask_extent, mask_polygons
from .sliding_window import Box, TileData


class RasterPair:
    """The optical and elevation rasters of one segmentation, open for the ``with`` block.

    Entering opens both; :meth:`prepare` fits them to a model and a request; :meth:`read` then serves
    tiles of :attr:`region`, in pixels from its top-left corner.

    Args:
        optical: The optical raster (a path, or a GDAL virtual file name such as ``/vsizip/…``).
        elevation: The elevation raster (one band, metres; any CRS, resolution and extent).

    Raises:
        SegmentationError: For an input file that does not exist.
    """

    def __init__(self, optical: str | Path, elevation: str | Path) -> None:
        self.sources = (_source(optical), _source(elevation))
        for source in self.sources:
            if not (isinstance(source, str) or source.is_file()):
                raise SegmentationError(f"input raster not found: {source}")
        self.paths = (Path(optical), Path(elevation))
        self._stack = ExitStack()
        self.optical: rasterio.DatasetReader
        self.elevation_file: rasterio.DatasetReader
        self.elevation: rasterio.DatasetReader | WarpedVRT
        self.bands: list[int] = []
        self.polygons: list[dict] | None = None
        self.window = self.region = Window(0, 0, 0, 0)
        self.pixel_area_m2: float | None = None
        self._optical_masked = self._elevation_masked = False
        self._elevation_alpha: int | None = None

    def __enter__(self) -> RasterPair:
        """Open both rasters.

        Raises:
            SegmentationError: For a file GDAL cannot read, or an elevation raster of more than one band.
        """
        try:
            self.optical = self._stack.enter_context(rasterio.open(self.sources[0]))
            self.elevation_file = self._stack.enter_context(rasterio.open(self.sources[1]))
            if self.elevation_file.count != 1:
                raise SegmentationError(
                    f"{self.paths[1]} has {self.elevation_file.count} bands; the elevation must be one band "
                    "(metres)"
                )
        except rasterio.errors.RasterioIOError as error:
            self._stack.close()
            raise SegmentationError(f"cannot read input raster: {error}") from error
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Close the rasters (and the warp, if any)."""
        self._stack.close()

    def prepare(
        self,
        card: ModelCard,
        bands: Sequence[int] | None = None,
        extent: Sequence[float] | None = None,
        mask: str | Path | None = None,
    ) -> None:
        """Fit the pair to the model ``card`` and the request: the optical ``bands`` to read (None: the first
        N), the output :attr:`window` (``extent`` in the optical CRS, cut to the bounding box of the
        polygons in the GeoJSON file ``mask``), and the :attr:`region` the elevation reaches within it.

        Raises:
            SegmentationError: For a model that needs another elevation, bands that do not fit, complex
                numbers, an unreadable mask, or an extent or elevation that misses the optical raster.
        """
        if card.model.elevation_channels != 1:
            raise SegmentationError(
                "this model expects a multi-band elevation input; only one band is supported"
            )
        self.bands = _optical_bands(self.optical, card, bands)
        _check_real(self.optical, self.bands, self.elevation_file)
        self.pixel_area_m2 = _pixel_area_m2(self.optical)
        self.polygons = mask_polygons(Path(mask)) if mask is not None else None
        if self.polygons:
            extent = mask_extent(self.polygons, extent)
        self.window, self.region = _windows(self.optical, self.elevation_file, extent)
        self.elevation = _elevation_on_grid(self.elevation_file, self.optical)
        if isinstance(self.elevation, WarpedVRT):
            self._stack.enter_context(self.elevation)
            self._elevation_alpha = _alpha_band(self.elevation)
        self._optical_masked = _mask_needed(self.optical)
        self._elevation_masked = _mask_needed(self.elevation)

    def read(self, tile: Box, context: Box) -> TileData:
        """The optical bands of ``tile`` and the elevation of ``context`` (both in :attr:`region`'s pixels),
        each with its valid pixels: data, not nodata, NaN, GDAL's mask, outside the mask's polygons or
        beyond the elevation's footprint."""
        window = Window(self.region.col_off + tile.col, self.region.row_off + tile.row, tile.cols, tile.rows)
        optical = self.optical.read(self.bands, window=window)
        optical_valid = valid_pixels(optical, self.optical.nodata)
        if self._optical_masked:
            optical_valid &= self.optical.dataset_mask(window=window) > 0
        if self.polygons:
            optical_valid &= features.geometry_mask(
                self.polygons, (tile.rows, tile.cols), self.optical.window_transform(window), invert=True
            )
        around = Window(
            self.region.col_off + context.col, self.region.row_off + context.row, context.cols, context.rows
        )
        heights = self.elevation.read(1, window=around, out_dtype="float32")
        elevation_valid = valid_pixels(heights, self.elevation.nodata)
        if self._elevation_masked:
            elevation_valid &= self.elevation.read_masks(1, window=around) > 0
        if self._elevation_alpha is not None:
            elevation_valid &= self.elevation.read(self._elevation_alpha, window=around) > 0
        return TileData(optical, heights, optical_valid, elevation_valid)


def _source(path: str | Path) -> str | Path:
    """An input as GDAL should open it: a GDAL virtual file system name (``/vsizip//data/a.zip/b.tif``,
    ``/vsicurl/https://…``) as the text given (``Path`` would fold its double slash), else a path."""
    return str(path) if str(path).startswith("/vsi") else Path(path)


def _optical_bands(
    dataset: rasterio.DatasetReader, card: ModelCard, bands: Sequence[int] | None
) -> list[int]:
    expected = card.model.optical_channels
    names = "/".join(card.optical_bands)
    if bands is None:
        if dataset.count < expected:
            raise SegmentationError(
                f"{dataset.name} has {dataset.count} band(s); the model needs {expected} optical bands "
                f"({names})"
            )
        return list(range(1, expected + 1))
    bands = list(bands)
    if len(bands) != expected:
        raise SegmentationError(f"{len(bands)} bands selected; the model needs {expected} ({names})")
    bad = [band for band in bands if not 1 <= band <= dataset.count]
    if bad:
        raise SegmentationError(f"band(s) {bad} do not exist in {dataset.name} (bands 1..{dataset.count})")
    return bands


def _check_real(
    optical: rasterio.DatasetReader, bands: Sequence[int], elevation: rasterio.DatasetReader
) -> None:
    """Refuse complex-valued bands (radar, FFTs): they have no meaning as reflectance or height."""
    for dataset, used in ((optical, bands), (elevation, [1])):
        kinds = {dataset.dtypes[band - 1] for band in used}
        found = sorted(kind for kind in kinds if kind.startswith("c"))  # complex64, complex_int16, …
        if found:
            raise SegmentationError(
                f"{dataset.name} holds complex numbers ({', '.join(found)}); GeoFuse needs real-valued "
                "optical and elevation bands"
            )


def _pixel_area_m2(dataset: rasterio.DatasetReader) -> float | None:
    """Ground area of one pixel, or None where it is not known: no projected CRS, or a geotransform and
    unit whose product is not a usable number (checked before writing, so areas never fail a finished run).
    """
    if dataset.crs is None or not dataset.crs.is_projected:
        return None
    transform = dataset.transform
    try:
        area = (
            abs(transform.a * transform.e - transform.b * transform.d)
            * dataset.crs.linear_units_factor[1] ** 2
        )
    except (OverflowError, ValueError, TypeError):
        return None
    return area if math.isfinite(area) and area * dataset.width * dataset.height < 1e300 else None


def _elevation_on_grid(
    dataset: rasterio.DatasetReader, optical: rasterio.DatasetReader
) -> rasterio.DatasetReader | WarpedVRT:
    """The elevation as seen on the optical grid: itself when the grids agree, else a bilinear warp.

    The warp marks where the elevation really reaches: with the source's nodata value where it has one,
    else with an added alpha band (:func:`_alpha_band`), so optical pixels outside the elevation's
    footprint are nodata whatever the two geotransforms (a rotated optical grid over a north-up DSM
    included), never heights of 0 m that the warper fills in there."""
    if (dataset.crs, dataset.transform, dataset.shape) == (optical.crs, optical.transform, optical.shape):
        return dataset
    if dataset.crs is None or optical.crs is None:
        raise SegmentationError(
            "the optical and elevation grids differ and one of them has no CRS, so they cannot be aligned"
        )
    options = {"add_alpha": True} if dataset.nodata is None else {}
    return WarpedVRT(
        dataset,
        crs=optical.crs,
        transform=optical.transform,
        width=optical.width,
        height=optical.height,
        resampling=Resampling.bilinear,
        **options,
    )


def _alpha_band(dataset: rasterio.DatasetReader | WarpedVRT) -> int | None:
    """The 1-based alpha band, if any. A WarpedVRT's added alpha is flagged only by its colour
    interpretation: its mask flags and ``dataset_mask`` say "all valid", so it must be read itself."""
    for index, interpretation in enumerate(dataset.colorinterp, start=1):
        if interpretation == ColorInterp.alpha and index > 1:
            return index
    return None


def _mask_needed(dataset: rasterio.DatasetReader | WarpedVRT) -> bool:
    """Whether validity needs GDAL's mask (alpha or mask band), beyond nodata values and NaN."""
    return any(
        MaskFlags.per_dataset in flags or MaskFlags.alpha in flags for flags in dataset.mask_flag_enums
    )


def _pixel_window(optical: rasterio.DatasetReader, bounds: Sequence[float]) -> Window | None:
    """Optical-grid window of ``bounds`` (in its CRS), snapped outward and clipped; None if empty.

    The bounds' corners go through the inverse geotransform, so rotated, sheared and south-up grids work
    (rasterio's ``from_bounds`` refuses them), and coordinates as large as 1e308 clip instead of
    overflowing."""
    left, bottom, right, top = bounds
    inverse = ~optical.transform
    corners = np.array([inverse * (x, y) for x in (left, right) for y in (bottom, top)], dtype=np.float64)
    if np.isnan(corners).any():
        return None
    limits = np.array([optical.width, optical.height], dtype=np.float64)
    low = np.clip(corners.min(axis=0) + 1e-6, 0, limits)
    high = np.clip(corners.max(axis=0) - 1e-6, 0, limits)
    col0, row0 = (math.floor(value) for value in low)
    col1, row1 = (math.ceil(value) for value in high)
    if row1 <= row0 or col1 <= col0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _windows(
    optical: rasterio.DatasetReader, elevation: rasterio.DatasetReader, extent: Sequence[float] | None
) -> tuple[Window, Window]:
    """(output window, segmented window) in optical pixels: the extent (or whole raster), and its
    intersection with the elevation's footprint."""
    output = Window(0, 0, optical.width, optical.height)
    if extent is not None:
        left, bottom, right, top = extent
        if not (left < right and bottom < top):
            raise SegmentationError(f"extent must be (left, bottom, right, top), got {tuple(extent)}")
        found = _pixel_window(optical, extent)
        if found is None:
            raise SegmentationError(f"the extent {tuple(extent)} does not overlap the optical raster")
        output = found
    corners = np.array(
        [elevation.transform * (x, y) for x in (0, elevation.width) for y in (0, elevation.height)]
    )
    footprint = (*corners.min(axis=0), *corners.max(axis=0))  # all four corners: rotated grids too
    if elevation.crs is not None and optical.crs is not None and elevation.crs != optical.crs:
        footprint = transform_bounds(elevation.crs, optical.crs, *footprint, densify_pts=21)
    covered = _pixel_window(optical, footprint)
    intersection = None
    if covered is not None:
        col0, row0 = max(covered.col_off, output.col_off), max(covered.row_off, output.row_off)
        col1 = min(covered.col_off + covered.width, output.col_off + output.width)
        row1 = min(covered.row_off + covered.height, output.row_off + output.height)
        intersection = Window(col0, row0, col1 - col0, row1 - row0) if col1 > col0 and row1 > row0 else None
    if intersection is None:
        raise SegmentationError(
            f"the elevation raster (bounds {tuple(round(v, 2) for v in footprint)} in the optical CRS) does "
            f"not overlap the optical raster{' extent' if extent is not None else ''} "
            f"(bounds {tuple(round(v, 2) for v in optical.window_bounds(output))})"
        )
    return output, Window(*(int(v) for v in intersection.flatten()))
