"""The inference engine: an optical raster and an elevation raster in, a styled class GeoTIFF out.

:func:`segment_rasters` is the one entry point used by ``geofuse segment``, ``geofuse segment-batch``, the
demo, the QGIS dock and the Processing algorithm. It streams: tiles are read with rasterio windows, the
elevation is warped onto the optical grid on the fly (a :class:`rasterio.vrt.WarpedVRT` when CRS,
resolution or extent differ), the tiles are blended by :func:`geofuse.backend.sliding_window.stream_predict`
and finished rows are written in whole blocks of a tiled, compressed GeoTIFF, so memory stays flat however
large the raster is.

The output is on the optical grid (cropped to ``SegmentOptions.extent`` when one is given): uint8 class
indices, nodata 255 wherever either input has no data or the elevation does not reach, the class colour
table inside the file, category names in GDAL's ``.aux.xml`` and a QGIS ``.qml`` style beside it, and
optionally a float32 confidence raster (max softmax probability, nodata NaN). Everything is written to
temporary files in the destination folder and renamed at the end; a cancel or an error removes them.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import torch
from rasterio import features
from rasterio._err import CPLE_BaseError
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from . import validation
from .checkpoint import Checkpoint, ModelCard, load_checkpoint
from .claims import OutputClaim, segmentation_finals
from .classes import IGNORE_INDEX
from .data.normalize import valid_pixels
from .errors import GeoFuseError
from .inference_setup import prepare_for_inference
from .models.network import GeoFuseNet
from .sliding_window import Box, SegmentationCancelled, TileData, TileProgress, stream_predict
from .styling import colour_table, pam_xml, qml_text, sidecar_paths

__all__ = [
    "DEMO_MODEL",
    "ClassArea",
    "LoadedModel",
    "SegmentOptions",
    "SegmentProgress",
    "SegmentResult",
    "SegmentationCancelled",
    "SegmentationError",
    "resolve_device",
    "segment_rasters",
]

DEMO_MODEL = Path(__file__).resolve().parent.parent / "resources" / "models" / "geofuse_demo_small.pt"
"""The bundled demo model, used when no model is given."""

BLOCK = 256
"""Tile size of the output GeoTIFFs; rows are written in whole blocks of this height."""

GDAL_CACHE_MB = 16
"""GDAL's block cache while writing: bounded, so written blocks do not pile up in memory."""


class SegmentationError(GeoFuseError):
    """Inputs or options that cannot be segmented; the message says why in a user's terms."""


@dataclass
class SegmentOptions:
    """How to segment.

    Attributes:
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        tile: Tile size in pixels, or None for the model's default (:meth:`ModelCard.tile_size`: 512, or
            its training crop if larger).
        overlap: Pixels shared by neighbouring tiles, blended so no seams show.
        batch_size: Tiles per forward pass (halved for good when CUDA runs out of memory).
        extent: ``(left, bottom, right, top)`` in the optical raster's CRS to segment only that part; the
            output then covers this extent (snapped outward to the optical grid).
        optical_bands: 1-based optical band indices in the order the model expects (its card's
            ``optical_bands``, e.g. ``(3, 2, 1)`` for a BGR file and an RGB model); None takes the first N.
        confidence_path: Where to write the confidence raster, or None for none.
        overwrite: Replace existing outputs instead of refusing.
        mask: A GeoJSON file (FeatureCollection, Feature or geometry) of polygons in the optical raster's
            CRS: only pixels inside them are segmented, the rest is nodata, and the output covers the
            polygons' bounding box (within ``extent`` when both are given).
    """

    device: str = "auto"
    tile: int | None = None
    overlap: int = 64
    batch_size: int = 1
    extent: tuple[float, float, float, float] | None = None
    optical_bands: tuple[int, ...] | None = None
    confidence_path: str | Path | None = None
    overwrite: bool = False
    mask: str | Path | None = None


@dataclass(frozen=True)
class SegmentProgress:
    """Where a segmentation stands, for a progress bar."""

    fraction: float
    tiles_done: int
    tiles_total: int
    elapsed_s: float
    eta_s: float | None


@dataclass(frozen=True)
class ClassArea:
    """Pixels and ground area of one class in the output.

    Attributes:
        index: Class index.
        name: Class name.
        pixels: Pixels of the class.
        area_m2: Ground area in square metres, or None when the CRS is not projected.
    """

    index: int
    name: str
    pixels: int
    area_m2: float | None


@dataclass(frozen=True)
class SegmentResult:
    """What :func:`segment_rasters` wrote and how long it took.

    Attributes:
        output_path: The class GeoTIFF.
        qml_path: Its QGIS style.
        confidence_path: The confidence GeoTIFF, or None.
        classes: Pixel counts and areas per class.
        nodata_pixels: Output pixels without a class.
        elapsed_s: Wall time of the whole call.
        tiles: Tiles run through the network.
        device: The device used.
        batch_size: The batch size at the end (smaller than asked after a CUDA out-of-memory).
    """

    output_path: Path
    qml_path: Path
    confidence_path: Path | None
    classes: tuple[ClassArea, ...]
    nodata_pixels: int
    elapsed_s: float
    tiles: int
    device: str
    batch_size: int

    def summary(self) -> str:
        """A few lines for a terminal or a log: class areas and timing."""
        lines = [f"wrote {self.output_path} ({self.tiles} tiles in {self.elapsed_s:.1f} s on {self.device})"]
        total = sum(area.pixels for area in self.classes) or 1
        for area in self.classes:
            size = f"{area.area_m2:,.1f} m²" if area.area_m2 is not None else f"{area.pixels} px"
            lines.append(f"  {area.name:<20} {100 * area.pixels / total:5.1f} %  {size}")
        return "\n".join(lines)


def resolve_device(device: str) -> torch.device:
    """The torch device for ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Raises:
        SegmentationError: For another spelling, or CUDA asked for where there is none.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        if not torch.cuda.is_available():
            raise SegmentationError(f"device {device!r} asked for, but PyTorch sees no CUDA GPU here")
        index = int(device[5:]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise SegmentationError(f"device {device!r}: only {torch.cuda.device_count()} CUDA GPU(s)")
        return torch.device(device)
    raise SegmentationError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")


@dataclass
class LoadedModel:
    """A network with its card, on its device: load once, segment many rasters.

    Attributes:
        network: The network in eval mode (anything called as ``network(optical, elevation) -> logits``).
        card: Its model card.
        device: Where the network lives.
    """

    network: GeoFuseNet | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    card: ModelCard
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @classmethod
    def load(cls, model: str | Path | Checkpoint | None = None, device: str = "auto") -> LoadedModel:
        """Load a checkpoint (a path, a loaded :class:`Checkpoint`, or None for the bundled demo model).

        Raises:
            CheckpointError: For an unusable checkpoint file.
            SegmentationError: For a bad device, or no model given and no demo model installed.
        """
        torch_device = resolve_device(device)
        if model is None:
            if not DEMO_MODEL.is_file():
                raise SegmentationError(
                    f"no model given and the bundled demo model {DEMO_MODEL} is missing; "
                    "pass a checkpoint (--model) or run `make demo-model`"
                )
            model = DEMO_MODEL
        checkpoint = model if isinstance(model, Checkpoint) else load_checkpoint(model)
        return cls(prepare_for_inference(checkpoint.build_model(torch_device)), checkpoint.card, torch_device)


def _source(path: str | Path) -> str | Path:
    """An input as GDAL should open it: a GDAL virtual file system name (``/vsizip//data/a.zip/b.tif``,
    ``/vsicurl/https://…``) as the text given (``Path`` would fold its double slash), else a path."""
    return str(path) if str(path).startswith("/vsi") else Path(path)


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))


def _check_paths(inputs: Sequence[Path], outputs: Sequence[Path]) -> None:
    """Refuse an output that is an input or is named twice; whether outputs exist is the claim's check."""
    for index, output in enumerate(outputs):
        for source in inputs:
            if _same_file(output, source):
                raise SegmentationError(f"output {output} is an input; choose another output path")
        for other in outputs[index + 1 :]:
            if _same_file(output, other):
                raise SegmentationError(
                    f"{output} would be written twice (the class raster, its sidecars and the confidence "
                    "raster need different names)"
                )


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


@contextmanager
def _writing(output: Path) -> Iterator[None]:
    """Name the output in write failures (full disk, permissions): GDAL's message names a hidden temporary.

    Wraps the writing calls only, so a failing read mid-run is not reported as a write error."""
    try:
        yield
    except (OSError, rasterio.errors.RasterioError, CPLE_BaseError) as error:
        raise SegmentationError(f"cannot write {output}: {error}") from error


def _place(
    claim: OutputClaim,
    output_path: Path,
    temp_output: Path,
    temp_confidence: Path | None,
    confidence_path: Path | None,
    qml_path: Path,
    aux_path: Path,
    card: ModelCard,
) -> None:
    """Write the sidecars and move every temporary into place, the class raster last (the claim removes
    what was placed if a later move fails, and never replaces a file that appeared meanwhile)."""
    temp_aux = temp_output.with_name(temp_output.name + ".aux.xml")
    temp_aux.write_text(pam_xml(card.classes), encoding="utf-8")
    temp_qml = claim.temporary(qml_path)
    temp_qml.write_text(qml_text(card.classes), encoding="utf-8")
    claim.created()
    moves = [(temp_qml, qml_path), (temp_aux, aux_path)]
    if temp_confidence is not None and confidence_path is not None:
        moves.append((temp_confidence, confidence_path))
    moves.append((temp_output, output_path))
    claim.place(moves)


def _mask_polygons(path: Path) -> list[dict]:
    """The polygon geometries of a GeoJSON file (FeatureCollection, Feature or bare geometry), each checked
    (``backend.validation.mask_geometry``) before GDAL sees it."""
    try:
        if path.stat().st_size > validation.MAX_MASK_BYTES:
            raise SegmentationError(f"the mask {path} is larger than {validation.MAX_MASK_BYTES >> 20} MiB")
        text = path.read_text(encoding="utf-8")
        if validation.nesting_depth(text) > validation.MAX_DEPTH:
            raise SegmentationError(f"the mask {path} nests deeper than {validation.MAX_DEPTH} levels")
        data = json.loads(text)
    except (OSError, ValueError) as error:
        if isinstance(error, SegmentationError):
            raise
        raise SegmentationError(f"cannot read the mask {path} as GeoJSON: {error}") from error
    items = data.get("features", [data]) if isinstance(data, dict) else []
    items = items if isinstance(items, list) else []
    geometries = [item.get("geometry", item) for item in items if isinstance(item, dict)]
    candidates = [
        g for g in geometries if isinstance(g, dict) and g.get("type") in ("Polygon", "MultiPolygon")
    ]
    if not candidates:
        raise SegmentationError(f"the mask {path} holds no polygons")
    counted = [0]
    try:
        return [validation.mask_geometry(f"the mask {path}", g, counted) for g in candidates]
    except validation.RequestError as error:
        raise SegmentationError(str(error)) from None


def _mask_extent(polygons: list[dict], extent: Sequence[float] | None) -> tuple[float, float, float, float]:
    """The polygons' bounding box, cut to ``extent``."""
    boxes = np.array([features.bounds(polygon) for polygon in polygons])
    left, bottom = boxes[:, 0].min(), boxes[:, 1].min()
    right, top = boxes[:, 2].max(), boxes[:, 3].max()
    if extent is not None:
        left, bottom = max(left, extent[0]), max(bottom, extent[1])
        right, top = min(right, extent[2]), min(top, extent[3])
        if not (left < right and bottom < top):
            raise SegmentationError(f"the mask's polygons do not overlap the extent {tuple(extent)}")
    return float(left), float(bottom), float(right), float(top)


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


class _BlockWriter:
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


def _profile(optical: rasterio.DatasetReader, window: Window, dtype: str, nodata: float) -> dict:
    profile = {
        "driver": "GTiff",
        "width": int(window.width),
        "height": int(window.height),
        "count": 1,
        "dtype": dtype,
        "nodata": nodata,
        "crs": optical.crs,
        "transform": optical.window_transform(window),
        "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }
    if window.width >= BLOCK and window.height >= BLOCK:
        profile.update(tiled=True, blockxsize=BLOCK, blockysize=BLOCK)
    if dtype == "float32":
        profile["predictor"] = 3
    return profile


def _check_options(options: SegmentOptions) -> None:
    """The request layer's checks (``backend.validation``) for callers that come in through Python."""
    try:
        if options.extent is not None:
            validation.extent("extent", list(options.extent))
        if options.optical_bands is not None:
            validation.bands("optical_bands", list(options.optical_bands))
        validation.device("device", options.device)
    except validation.RequestError as error:
        raise SegmentationError(str(error).replace("'", "")) from None
    _check_tiling(options.tile, options.overlap, options.batch_size)


RASTER_SUFFIXES = (".tif", ".tiff")
"""The output names written: GeoTIFF, which carries the colour table, category names (PAM) and NaN nodata
that the class and confidence rasters need, and can be written block by block."""


def _check_formats(outputs: Sequence[Path]) -> None:
    """Refuse a raster output named for another format (``.gpkg``, ``.png``, ``.vrt``…): a GeoTIFF under
    that name would mislead every program that goes by the extension."""
    for output in outputs:
        if output.suffix.lower() not in RASTER_SUFFIXES:
            raise SegmentationError(
                f"cannot write {output}: GeoFuse writes GeoTIFF rasters, so the name must end in .tif or "
                f".tiff (not {output.suffix or 'no extension'!r}); convert with gdal_translate if needed"
            )


def _check_tiling(tile: int | None, overlap: int, batch_size: int) -> None:
    """Refuse a tiling that cannot run, before any file is written (``tile`` None: not known yet)."""
    if (tile is not None and (tile < 1 or not 0 <= overlap < tile)) or overlap < 0 or batch_size < 1:
        raise SegmentationError(
            f"tile ({tile}) and batch size ({batch_size}) must be positive and the overlap "
            f"({overlap}) in 0..tile-1"
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


def segment_rasters(
    optical_path: str | Path,
    elevation_path: str | Path,
    output_path: str | Path,
    model: str | Path | Checkpoint | LoadedModel | None = None,
    options: SegmentOptions | None = None,
    progress: Callable[[SegmentProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> SegmentResult:
    """Segment an optical + elevation pair into a styled class GeoTIFF on the optical grid.

    Args:
        optical_path: The optical raster (uint8, uint16 or float; bands per ``options.optical_bands``).
        elevation_path: The elevation raster (one band, metres); any CRS, resolution and extent.
        output_path: The class GeoTIFF to write; ``<output>.qml`` and ``<output>.aux.xml`` go beside it.
        model: A checkpoint path, a loaded :class:`Checkpoint`, a :class:`LoadedModel` (reused across
            calls, e.g. by ``segment-batch``), or None for the bundled demo model.
        options: Device, tiling, extent, bands, confidence output, overwrite.
        progress: Called after every batch of tiles.
        cancel: Checked before every batch of tiles; returning true stops and removes every output.

    Returns:
        The paths written, class areas and timing.

    Raises:
        SegmentationError: For inputs or options that cannot work (missing file, wrong band count, no
            overlap, existing output without overwrite, output equal to an input, bad device).
        CheckpointError: For an unusable checkpoint.
        SegmentationCancelled: When ``cancel()`` returned true; nothing is left behind.
    """
    started = time.perf_counter()
    options = options or SegmentOptions()
    sources = [_source(optical_path), _source(elevation_path)]  # GDAL's /vsi… names as given
    optical_path, elevation_path, output_path = Path(optical_path), Path(elevation_path), Path(output_path)
    confidence_path = Path(options.confidence_path) if options.confidence_path is not None else None
    aux_path, qml_path = sidecar_paths(output_path)
    _check_options(options)
    for source in sources:
        if not (isinstance(source, str) or source.is_file()):
            raise SegmentationError(f"input raster not found: {source}")
    _check_formats([output_path] + ([confidence_path] if confidence_path else []))
    finals = segmentation_finals(output_path, confidence_path)
    _check_paths([optical_path, elevation_path], finals)

    with ExitStack() as stack:
        stack.enter_context(rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB))
        try:
            optical = stack.enter_context(rasterio.open(sources[0]))
            elevation_file = stack.enter_context(rasterio.open(sources[1]))
        except rasterio.errors.RasterioIOError as error:
            raise SegmentationError(f"cannot read input raster: {error}") from error
        if elevation_file.count != 1:
            raise SegmentationError(
                f"{elevation_path} has {elevation_file.count} bands; the elevation must be one band (metres)"
            )
        claim = stack.enter_context(OutputClaim(finals, options.overwrite, SegmentationError))
        loaded = model if isinstance(model, LoadedModel) else LoadedModel.load(model, options.device)
        card = loaded.card
        tile = options.tile if options.tile is not None else card.tile_size()
        _check_tiling(tile, options.overlap, options.batch_size)
        if card.model.elevation_channels != 1:
            raise SegmentationError(
                "this model expects a multi-band elevation input; only one band is supported"
            )
        bands = _optical_bands(optical, card, options.optical_bands)
        _check_real(optical, bands, elevation_file)
        pixel_area = _pixel_area_m2(optical)
        polygons = _mask_polygons(Path(options.mask)) if options.mask is not None else None
        extent = _mask_extent(polygons, options.extent) if polygons else options.extent
        output_window, region = _windows(optical, elevation_file, extent)
        elevation = _elevation_on_grid(elevation_file, optical)
        if isinstance(elevation, WarpedVRT):
            stack.enter_context(elevation)
        optical_masked, elevation_masked = _mask_needed(optical), _mask_needed(elevation)
        elevation_alpha = _alpha_band(elevation) if isinstance(elevation, WarpedVRT) else None

        def read(tile: Box, context: Box) -> TileData:
            window = Window(region.col_off + tile.col, region.row_off + tile.row, tile.cols, tile.rows)
            data = optical.read(bands, window=window)
            optical_valid = valid_pixels(data, optical.nodata)
            if optical_masked:
                optical_valid &= optical.dataset_mask(window=window) > 0
            if polygons:
                optical_valid &= features.geometry_mask(
                    polygons, (tile.rows, tile.cols), optical.window_transform(window), invert=True
                )
            around = Window(
                region.col_off + context.col, region.row_off + context.row, context.cols, context.rows
            )
            heights = elevation.read(1, window=around, out_dtype="float32")
            elevation_valid = valid_pixels(heights, elevation.nodata)
            if elevation_masked:
                elevation_valid &= elevation.read_masks(1, window=around) > 0
            if elevation_alpha is not None:
                elevation_valid &= elevation.read(elevation_alpha, window=around) > 0
            return TileData(data, heights, optical_valid, elevation_valid)

        temp_output = claim.temporary(output_path)
        temp_confidence = claim.temporary(confidence_path) if confidence_path else None
        claim.journal(  # GDAL's PAM sidecars of the temporaries
            *(
                temporary.with_name(temporary.name + ".aux.xml")
                for temporary in (temp_output, temp_confidence)
                if temporary
            )
        )
        with ExitStack() as outputs:
            with _writing(output_path):
                labels_out = outputs.enter_context(
                    rasterio.open(temp_output, "w", **_profile(optical, output_window, "uint8", IGNORE_INDEX))
                )
            labels_out.write_colormap(1, colour_table(card.classes))
            labels_out.update_tags(1, **{f"CLASS_{info.index}": info.name for info in card.classes})
            labels_out.set_band_description(1, "land-cover class")
            confidence_out = None
            if temp_confidence is not None:
                with _writing(output_path):
                    confidence_out = outputs.enter_context(
                        rasterio.open(
                            temp_confidence, "w", **_profile(optical, output_window, "float32", math.nan)
                        )
                    )
                confidence_out.set_band_description(1, "confidence (max softmax probability)")
            claim.created()
            writer = _BlockWriter(labels_out, confidence_out)
            row_shift = int(region.row_off - output_window.row_off)
            col_shift = int(region.col_off - output_window.col_off)

            def write(row: int, labels: np.ndarray, confidence: np.ndarray) -> None:
                with _writing(output_path):
                    writer.put(row_shift + row, col_shift, labels, confidence)

            def report(tiles: TileProgress) -> None:
                if progress is None:
                    return
                elapsed = time.perf_counter() - started
                eta = elapsed / tiles.fraction * (1 - tiles.fraction) if tiles.fraction > 0 else None
                progress(SegmentProgress(tiles.fraction, tiles.done, tiles.total, elapsed, eta))

            stats = stream_predict(
                loaded.network,
                card,
                int(region.height),
                int(region.width),
                read,
                write,
                tile=tile,
                overlap=options.overlap,
                batch_size=options.batch_size,
                device=loaded.device,
                progress=report,
                cancel=cancel,
            )
            with _writing(output_path):
                writer.close()
                outputs.close()

        with _writing(output_path):
            _place(
                claim, output_path, temp_output, temp_confidence, confidence_path, qml_path, aux_path, card
            )

    classes = tuple(
        ClassArea(
            info.index,
            info.name,
            int(writer.counts[info.index]),
            writer.counts[info.index] * pixel_area if pixel_area is not None else None,
        )
        for info in card.classes
    )
    return SegmentResult(
        output_path=output_path,
        qml_path=qml_path,
        confidence_path=confidence_path,
        classes=classes,
        nodata_pixels=int(writer.counts[IGNORE_INDEX]),
        elapsed_s=time.perf_counter() - started,
        tiles=stats.tiles,
        device=str(loaded.device),
        batch_size=stats.batch_size,
    )
