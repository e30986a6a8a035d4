"""The class GeoTIFF (and the confidence GeoTIFF) of a segmentation, written block row by block row.

Rows arrive from the sliding window in order; :class:`BlockWriter` gathers them into one block row (256
rows × output width) and writes it whole, so the compressed, tiled GeoTIFF stays compact and memory stays
bounded by one block row however large the raster. :class:`ClassRasterWriter` opens both rasters at the
temporaries of :class:`geofuse.backend.outputs.SegmentationOutputs` with the colour table and class names,
and names the real output in any write failure.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import rasterio
from rasterio._err import CPLE_BaseError
from rasterio.windows import Window

from .classes import IGNORE_INDEX, ClassInfo
from .errors import SegmentationError
from .outputs import SegmentationOutputs
from .styling import CLASS_BAND_DESCRIPTION, colour_table

BLOCK = 256
"""Tile size of the output GeoTIFFs; rows are written in whole blocks of this height."""

GDAL_CACHE_MB = 16
"""GDAL's block cache while writing: bounded, so written blocks do not pile up in memory."""


@contextmanager
def writing(output: Path) -> Iterator[None]:
    """Name the output in write failures (full disk, permissions): GDAL's message names a hidden temporary.

    Wraps the writing calls only, so a failing read mid-run is not reported as a write error.

    Raises:
        SegmentationError: For any OS or GDAL error in the block.
    """
    try:
        yield
    except (OSError, rasterio.errors.RasterioError, CPLE_BaseError) as error:
        raise SegmentationError(f"cannot write {output}: {error}") from error


def raster_profile(reference: rasterio.DatasetReader, window: Window, dtype: str, nodata: float) -> dict:
    """A one-band, deflate-compressed GeoTIFF on ``reference``'s grid cut to ``window`` (tiled when at least
    one block in each direction)."""
    profile = {
        "driver": "GTiff",
        "width": int(window.width),
        "height": int(window.height),
        "count": 1,
        "dtype": dtype,
        "nodata": nodata,
        "crs": reference.crs,
        "transform": reference.window_transform(window),
        "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }
    if window.width >= BLOCK and window.height >= BLOCK:
        profile.update(tiled=True, blockxsize=BLOCK, blockysize=BLOCK)
    if dtype == "float32":
        profile["predictor"] = 3
    return profile


class BlockWriter:
    """Collects output rows into one block-row buffer (256 rows × output width) and writes it whole.

    Rows arrive in order; rows never given, and columns outside what was given, stay nodata. Writing whole
    blocks once keeps the compressed GeoTIFF compact and memory bounded by one block row.
    """

    def __init__(
        self, labels: rasterio.io.DatasetWriter, confidence: rasterio.io.DatasetWriter | None
    ) -> None:
        self.labels_out, self.confidence_out = labels, confidence
        self.width, self.height = labels.width, labels.height
        self.labels = np.full((BLOCK, self.width), IGNORE_INDEX, np.uint8)
        self.confidence = np.full((BLOCK, self.width), np.nan, np.float32) if confidence is not None else None
        self.start = self.row = 0
        self.counts = np.zeros(256, np.int64)

    def put(self, row: int, col: int, labels: np.ndarray, confidence: np.ndarray) -> None:
        """Rows (h, w) at output rows ``row..row+h`` (never before earlier rows), columns ``col..col+w``."""
        self._advance_to(row)
        done, width = 0, labels.shape[1]
        while done < len(labels):
            at = self.row - self.start
            count = min(BLOCK - at, len(labels) - done)
            self.labels[at : at + count, col : col + width] = labels[done : done + count]
            if self.confidence is not None:
                self.confidence[at : at + count, col : col + width] = confidence[done : done + count]
            done += count
            self._advance_to(self.row + count)

    def close(self) -> None:
        """Write the remaining rows (nodata where nothing was given)."""
        self._advance_to(self.height)
        if self.row > self.start:
            self._write()

    def _advance_to(self, row: int) -> None:
        while self.row < row:
            self.row = min(row, self.start + BLOCK)
            if self.row - self.start == BLOCK:
                self._write()

    def _write(self) -> None:
        count = self.row - self.start
        window = Window(0, self.start, self.width, count)
        self.labels_out.write(self.labels[:count], 1, window=window)
        self.counts += np.bincount(self.labels[:count].ravel(), minlength=256)
        self.labels[:] = IGNORE_INDEX
        if self.confidence_out is not None and self.confidence is not None:
            self.confidence_out.write(self.confidence[:count], 1, window=window)
            self.confidence[:] = np.nan
        self.start = self.row


@dataclass(frozen=True)
class BandDescriptions:
    """The band descriptions written into the outputs."""

    classes: str = CLASS_BAND_DESCRIPTION
    confidence: str = "confidence (max softmax probability)"


class ClassRasterWriter:
    """The class raster (and confidence raster) of one run, open at their temporaries for the ``with`` block.

    Args:
        outputs: The run's claimed outputs (their temporaries are written here).
        reference: The raster whose grid the outputs take (the optical raster).
        window: The output's window on that grid.
        region: The segmented window on that grid (inside ``window``): rows given to :meth:`put` count
            from its top and are placed at its columns.
        classes: The model's classes, for the colour table and class names.
        descriptions: The band descriptions of the class and confidence rasters (what GIS software shows
            as the band's name; a QGIS user gets them in their language).
    """

    def __init__(
        self,
        outputs: SegmentationOutputs,
        reference: rasterio.DatasetReader,
        window: Window,
        region: Window,
        classes: Sequence[ClassInfo],
        descriptions: BandDescriptions | None = None,
    ) -> None:
        self.outputs, self.reference, self.window, self.classes = outputs, reference, window, classes
        self.descriptions = descriptions or BandDescriptions()
        self.row_shift = int(region.row_off - window.row_off)
        self.col_shift = int(region.col_off - window.col_off)
        self._files = ExitStack()
        self.blocks: BlockWriter  # made on entering, once the rasters are open

    def __enter__(self) -> ClassRasterWriter:
        """Create the temporary rasters (a failure names the real output)."""
        with writing(self.outputs.output):
            labels = self._files.enter_context(
                rasterio.open(
                    self.outputs.temporary_output,
                    "w",
                    **raster_profile(self.reference, self.window, "uint8", IGNORE_INDEX),
                )
            )
            labels.write_colormap(1, colour_table(self.classes))
            labels.update_tags(1, **{f"CLASS_{info.index}": info.name for info in self.classes})
            labels.set_band_description(1, self.descriptions.classes)
            confidence = None
            if self.outputs.temporary_confidence is not None:
                confidence = self._files.enter_context(
                    rasterio.open(
                        self.outputs.temporary_confidence,
                        "w",
                        **raster_profile(self.reference, self.window, "float32", math.nan),
                    )
                )
                confidence.set_band_description(1, self.descriptions.confidence)
        self.outputs.created()
        self.blocks = BlockWriter(labels, confidence)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Close the rasters (once more after :meth:`finish`, harmlessly)."""
        self._files.close()

    def put(self, row: int, labels: np.ndarray, confidence: np.ndarray) -> None:
        """Rows of the segmented region, starting at its row ``row`` (the sliding window's ``write``)."""
        with writing(self.outputs.output):
            self.blocks.put(self.row_shift + row, self.col_shift, labels, confidence)

    def finish(self) -> np.ndarray:
        """Write the last rows, close the rasters and return the pixel count of each class value (0..255)."""
        with writing(self.outputs.output):
            self.blocks.close()
            self._files.close()
        return self.blocks.counts
