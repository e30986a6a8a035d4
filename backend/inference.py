"""The inference engine: an optical raster and an elevation raster in, a styled class GeoTIFF out.

:func:`segment_rasters` is the one entry point used by ``geofuse segment``, ``geofuse segment-batch``, the
demo, the QGIS dock and the Processing algorithm. It streams, so memory stays flat however large the raster
is, and composes four parts, each in its own module:

- :class:`~geofuse.backend.raster_pair.RasterPair` reads tiles of the optical raster and of the elevation
  warped onto the optical grid on the fly;
- :func:`~geofuse.backend.sliding_window.stream_predict` runs the network on them and blends the tiles;
- :class:`~geofuse.backend.class_raster.ClassRasterWriter` writes finished rows in whole blocks of a tiled,
  compressed GeoTIFF;
- :class:`~geofuse.backend.outputs.SegmentationOutputs` claims the outputs, hands out hidden temporaries and
  renames them into place at the end; a cancel or an error removes them.

The output is on the optical grid (cropped to ``SegmentOptions.extent`` when one is given): uint8 class
indices, nodata 255 wherever either input has no data or the elevation does not reach, the class colour
table inside the file, category names in GDAL's ``.aux.xml`` and a QGIS ``.qml`` style beside it, and
optionally a float32 confidence raster (max softmax probability, nodata NaN).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import torch

from . import validation
from .checkpoint import Checkpoint, ModelCard, load_checkpoint
from .class_raster import GDAL_CACHE_MB, BandDescriptions, ClassRasterWriter, writing
from .classes import IGNORE_INDEX
from .device import resolve_device
from .errors import SegmentationError
from .inference_setup import prepare_for_inference
from .models.network import GeoFuseNet
from .outputs import SegmentationOutputs
from .paths import DEMO_MODEL
from .raster_pair import RasterPair
from .sliding_window import SegmentationCancelled, TileProgress, stream_predict
from .tiling import tiling_problem

__all__ = [
    "DEMO_MODEL",
    "ClassArea",
    "LoadedModel",
    "SegmentOptions",
    "SegmentProgress",
    "SegmentResult",
    "SegmentationCancelled",
    "SegmentationError",
    "segment_rasters",
]


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
        descriptions: The outputs' band descriptions (the dock and Processing pass them translated).
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
    descriptions: BandDescriptions = field(default_factory=BandDescriptions)


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
            DeviceError: For a device that is misspelled or not here.
            SegmentationError: For no model given and no demo model installed.
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


def _check_options(options: SegmentOptions) -> None:
    """The request layer's checks (``backend.validation``) for callers that come in through Python, before
    any file is touched.

    Raises:
        SegmentationError: Saying which option is wrong.
    """
    try:
        if options.extent is not None:
            validation.extent("extent", list(options.extent))
        if options.optical_bands is not None:
            validation.bands("optical_bands", list(options.optical_bands))
        validation.device("device", options.device)
    except validation.RequestError as error:
        raise SegmentationError(str(error).replace("'", "")) from None
    _check_tiling(options.tile, options.overlap, options.batch_size)


def _check_tiling(tile: int | None, overlap: int, batch_size: int) -> None:
    """The tiling rule of ``backend/tiling.py`` (``tile`` None: the model's default, not known yet) and a
    positive batch size.

    Raises:
        SegmentationError: Saying which value is wrong.
    """
    problem = tiling_problem(tile, overlap)
    if problem is None and batch_size < 1:
        problem = f"the batch size must be 1 or more tiles, not {batch_size}"
    if problem:
        raise SegmentationError(problem)


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
            overlap, existing output without overwrite, output equal to an input).
        DeviceError: For a device that is misspelled or not here.
        CheckpointError: For an unusable checkpoint.
        SegmentationCancelled: When ``cancel()`` returned true; nothing is left behind.
    """
    started = time.perf_counter()
    options = options or SegmentOptions()
    _check_options(options)
    pair = RasterPair(optical_path, elevation_path)
    outputs = SegmentationOutputs(output_path, options.confidence_path, pair.paths, options.overwrite)
    with ExitStack() as stack:
        stack.enter_context(rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB))
        stack.enter_context(pair)
        stack.enter_context(outputs)
        loaded = model if isinstance(model, LoadedModel) else LoadedModel.load(model, options.device)
        tile = options.tile if options.tile is not None else loaded.card.tile_size()
        _check_tiling(tile, options.overlap, options.batch_size)
        pair.prepare(loaded.card, options.optical_bands, options.extent, options.mask)
        classes = loaded.card.classes
        with ClassRasterWriter(
            outputs, pair.optical, pair.window, pair.region, classes, options.descriptions
        ) as writer:
            stats = stream_predict(
                loaded.network,
                loaded.card,
                int(pair.region.height),
                int(pair.region.width),
                pair.read,
                writer.put,
                tile=tile,
                overlap=options.overlap,
                batch_size=options.batch_size,
                device=loaded.device,
                progress=_reporter(progress, started),
                cancel=cancel,
            )
            counts = writer.finish()
        with writing(outputs.output):
            outputs.place(classes, options.descriptions.classes)
    return SegmentResult(
        output_path=outputs.output,
        qml_path=outputs.qml,
        confidence_path=outputs.confidence,
        classes=_class_areas(loaded.card, counts, pair.pixel_area_m2),
        nodata_pixels=int(counts[IGNORE_INDEX]),
        elapsed_s=time.perf_counter() - started,
        tiles=stats.tiles,
        device=str(loaded.device),
        batch_size=stats.batch_size,
    )


def _reporter(
    progress: Callable[[SegmentProgress], None] | None, started: float
) -> Callable[[TileProgress], None] | None:
    """The sliding window's progress callback: tiles done turned into a :class:`SegmentProgress` with the
    time left, extrapolated from the time so far."""
    if progress is None:
        return None

    def report(tiles: TileProgress) -> None:
        elapsed = time.perf_counter() - started
        eta = elapsed / tiles.fraction * (1 - tiles.fraction) if tiles.fraction > 0 else None
        progress(SegmentProgress(tiles.fraction, tiles.done, tiles.total, elapsed, eta))

    return report


def _class_areas(card: ModelCard, counts: np.ndarray, pixel_area: float | None) -> tuple[ClassArea, ...]:
    """Pixels and ground area of each of the model's classes from the written class values' counts."""
    return tuple(
        ClassArea(
            info.index,
            info.name,
            int(counts[info.index]),
            counts[info.index] * pixel_area if pixel_area is not None else None,
        )
        for info in card.classes
    )
