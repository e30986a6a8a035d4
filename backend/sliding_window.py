"""Sliding-window prediction with blended logits: one implementation of tiling and blending.

A raster larger than what fits through the network at once is cut into square tiles of ``tile`` pixels that
overlap by ``overlap`` pixels; each tile is normalised on its own (exactly like a training crop, with
:func:`normalize_optical` / :func:`normalize_elevation`), passed through the network, and the logits of
overlapping tiles are averaged with weights that fall off linearly towards each tile's border, so a pixel
near a tile edge (where the network saw little context) counts less than one near a tile's centre and the
class map shows no seams.

Window-independent elevation normalisation (``elevation_mode="ground_filter"``) needs heights beyond the
tile: the reader is asked for the tile's optical and for a larger elevation *context* around it
(:meth:`NormalizationConfig.elevation_context`), which is normalised whole and cropped to the tile, so
tiles see the very values the whole raster would in one pass.

Tiles are visited strip by strip (one row of tiles at a time, left to right) and only a few tiles' worth of
logits are kept: a rolling buffer two tiles wide for the current strip and a band of ``overlap`` rows that
carries into the next strip. Rows are handed to a writer as soon as no later tile can touch them, so memory
does not grow with the raster's height; with its width it grows only through full-width rows (the carry
band of K × ``overlap`` logits and one strip of finished labels).

:func:`stream_predict` is the engine (a tile reader and a row writer are passed in, so it serves rasterio
windows and in-memory arrays alike); :func:`predict_arrays` runs it on arrays held in memory (whole tiles in
``geofuse evaluate``). The georeferenced, file-to-file engine is :mod:`geofuse.backend.inference`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from .checkpoint import ModelCard
from .classes import IGNORE_INDEX
from .data.normalize import normalize_elevation, normalize_optical, valid_pixels
from .errors import Cancelled
from .tiling import axis_tiles

Forward = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``model(optical, elevation) -> logits`` (B×K×H×W), a GeoFuseNet in eval mode or anything alike."""


class SegmentationCancelled(Cancelled):
    """The caller's cancel check returned true; nothing was finished."""


class Box(NamedTuple):
    """A window of the region being segmented, in pixels."""

    row: int
    col: int
    rows: int
    cols: int


@dataclass(frozen=True)
class TileData:
    """Raw inputs of one tile, as read from the rasters.

    Attributes:
        optical: (C, h, w) in the file's data type (the type decides the optical scaling).
        elevation: (H, W) heights in metres over the elevation context (the tile and its halo).
        optical_valid: (h, w) pixels where the optical holds data.
        elevation_valid: (H, W) pixels of the context where the elevation holds data.
    """

    optical: np.ndarray
    elevation: np.ndarray
    optical_valid: np.ndarray
    elevation_valid: np.ndarray


@dataclass(frozen=True)
class TileProgress:
    """Progress after a batch of tiles: ``done`` of ``total`` tiles."""

    done: int
    total: int

    @property
    def fraction(self) -> float:
        """Share of tiles done, 0..1."""
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class StreamStats:
    """What :func:`stream_predict` did: tiles run and the batch size it ended with (smaller than asked
    after a CUDA out-of-memory)."""

    tiles: int
    batch_size: int


TileReader = Callable[[Box, Box], TileData]
"""``read(tile, context)``: the optical of ``tile`` and the elevation of ``context`` (which contains it)."""

RowWriter = Callable[[int, np.ndarray, np.ndarray], None]
"""``write(row, labels, confidence)``: finished full-width rows starting at ``row``; labels (h, W) uint8 with
:data:`IGNORE_INDEX` for nodata, confidence (h, W) float32 with NaN for nodata."""


def blend_weights(height: int, width: int, overlap: int) -> np.ndarray:
    """Per-pixel weight (height, width) of a tile's logits: 1 inside, falling linearly to
    ``1 / (overlap + 1)`` over the ``overlap`` pixels at each border, never 0, so a pixel covered by one tile
    only keeps that tile's logits unchanged after normalising by the summed weights."""

    def ramp(n: int) -> np.ndarray:
        distance = np.minimum(np.arange(n), np.arange(n)[::-1]) + 1
        return np.minimum(1.0, distance / (overlap + 1)).astype(np.float32)

    return np.outer(ramp(height), ramp(width))


class _BatchRunner:
    """Runs tiles through the network, halving the batch for good when CUDA runs out of memory."""

    def __init__(self, forward: Forward, batch_size: int, device: torch.device) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size must be >= 1, got {batch_size}")
        self.forward, self.batch_size, self.device = forward, batch_size, device

    def __call__(self, optical: np.ndarray, elevation: np.ndarray) -> np.ndarray:
        """Logits (B, K, h, w) float32 for normalised inputs (B, C, h, w) and (B, 1, h, w)."""
        outputs, start = [], 0
        while start < len(optical):
            stop = start + self.batch_size
            try:
                with torch.inference_mode():
                    logits = self.forward(
                        torch.from_numpy(optical[start:stop]).to(self.device),
                        torch.from_numpy(elevation[start:stop]).to(self.device),
                    )
            except torch.cuda.OutOfMemoryError:
                if self.batch_size == 1:
                    raise
                self.batch_size //= 2
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                continue
            if not isinstance(logits, torch.Tensor):
                raise TypeError("the model returned no logits tensor; is it in eval mode?")
            outputs.append(logits.float().cpu().numpy())
            start = stop
        return np.concatenate(outputs)


def _context(card: ModelCard, tile: Box, height: int, width: int) -> tuple[Box, tuple[slice, slice]]:
    """The elevation window a tile's normalisation needs, and where the tile lies inside it."""
    config = card.normalization
    row, rows = config.elevation_context(tile.row, tile.rows, height)
    col, cols = config.elevation_context(tile.col, tile.cols, width)
    inner = np.s_[tile.row - row : tile.row - row + tile.rows, tile.col - col : tile.col - col + tile.cols]
    return Box(row, col, rows, cols), inner


def _normalised(
    card: ModelCard, read_tile: TileReader, tile: Box, height: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one tile and its elevation context; its network inputs: optical (C, h, w), elevation
    (1, h, w), and the valid mask (h, w)."""
    context, inner = _context(card, tile, height, width)
    data = read_tile(tile, context)
    optical = normalize_optical(data.optical, card.normalization, data.optical_valid)
    elevation = normalize_elevation(
        data.elevation[None], card.normalization, data.elevation_valid[None], inner
    )
    valid = data.optical_valid & data.elevation_valid[inner]
    return optical, elevation, valid


def _finish(logits: np.ndarray, weights: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class and max softmax probability of summed weighted logits (K, h, w); invalid → nodata."""
    mean = logits / weights[None]
    labels = mean.argmax(axis=0).astype(np.uint8)
    exp = np.exp(mean - mean.max(axis=0, keepdims=True))
    confidence = (1.0 / exp.sum(axis=0)).astype(np.float32)
    labels[~valid] = IGNORE_INDEX
    confidence[~valid] = np.nan
    return labels, confidence


@dataclass(frozen=True)
class _Carry:
    """Summed weighted logits (K, h, W) and weights (h, W) of a strip's rows that the next strip overlaps."""

    logits: np.ndarray
    weights: np.ndarray


class _Strip:
    """One row of tiles: a rolling buffer two tiles wide, finished column by column from left to right.

    Columns left of the newest tile are complete; their top ``final`` rows (which no later row of tiles
    reaches) become labels, the rows below go to the carry of the next row of tiles. Every buffer is
    allocated once per raster and reused row after row (the two carry buffers swap roles): allocating and
    freeing full-width arrays per row raises glibc's mmap threshold and fragments the heap, so resident
    memory would grow with the raster's width.
    """

    def __init__(self, classes: int, tile_h: int, tile_w: int, width: int, carried_rows: int) -> None:
        self.tile_h, self.final, self.base, self.side = tile_h, tile_h, 0, 0
        self.rows_labels = np.empty((tile_h, width), np.uint8)
        self.rows_confidence = np.empty((tile_h, width), np.float32)
        self.carries = [
            _Carry(
                np.zeros((classes, carried_rows, width), np.float32),
                np.zeros((carried_rows, width), np.float32),
            )
            for _ in range(2)
        ]
        self.carry = self.next_carry = self._carry(0, 0)
        self.logits = np.zeros((classes, tile_h, 2 * tile_w), np.float32)
        self.weights = np.zeros((tile_h, 2 * tile_w), np.float32)
        self.valid = np.zeros((tile_h, 2 * tile_w), bool)

    def _carry(self, side: int, rows: int) -> _Carry:
        return _Carry(self.carries[side].logits[:, :rows], self.carries[side].weights[:rows])

    def start(self, final: int) -> None:
        """Begin the next row of tiles, whose top ``final`` rows no later row of tiles reaches."""
        self.carry = self._carry(self.side, self.tile_h - self.final)
        self.side = 1 - self.side
        self.next_carry = self._carry(self.side, self.tile_h - final)
        self.next_carry.logits[:] = 0
        self.next_carry.weights[:] = 0
        self.final, self.base = final, 0

    @property
    def labels(self) -> np.ndarray:
        """(final, W) class indices of the finished rows."""
        return self.rows_labels[: self.final]

    @property
    def confidence(self) -> np.ndarray:
        """(final, W) max softmax probability of the finished rows."""
        return self.rows_confidence[: self.final]

    def add(self, col: int, weighted_logits: np.ndarray, weight: np.ndarray, valid: np.ndarray) -> None:
        """Add a tile's weighted logits (K, h, w) at column ``col`` (tiles arrive left to right)."""
        self.flush(col)
        tile_w = weight.shape[1]
        self.logits[:, :, :tile_w] += weighted_logits
        self.weights[:, :tile_w] += weight
        self.valid[:, :tile_w] = valid

    def flush(self, stop: int) -> None:
        """Finish columns [base, stop) and shift the buffer left to start at ``stop``."""
        start, n, carried, final = self.base, stop - self.base, self.carry.weights.shape[0], self.final
        logits, weights = self.logits[:, :, :n], self.weights[:, :n]
        logits[:, :carried] += self.carry.logits[:, :, start:stop]
        weights[:carried] += self.carry.weights[:, start:stop]
        self.labels[:, start:stop], self.confidence[:, start:stop] = _finish(
            logits[:, :final], weights[:final], self.valid[:final, :n]
        )
        self.next_carry.logits[:, :, start:stop] = logits[:, final:]
        self.next_carry.weights[:, start:stop] = weights[final:]
        for array in (self.logits, self.weights, self.valid):
            array[..., : array.shape[-1] - n] = array[..., n:]
            array[..., array.shape[-1] - n :] = 0
        self.base = stop


def stream_predict(
    forward: Forward,
    card: ModelCard,
    height: int,
    width: int,
    read_tile: TileReader,
    write_rows: RowWriter,
    *,
    tile: int = 512,
    overlap: int = 64,
    batch_size: int = 1,
    device: str | torch.device = "cpu",
    progress: Callable[[TileProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> StreamStats:
    """Segment a ``height`` × ``width`` region tile by tile and hand finished rows to ``write_rows``.

    Rows arrive in order, each exactly once, covering ``0..height``.

    Args:
        forward: The network, ``forward(optical, elevation) -> logits``.
        card: The checkpoint's card (class count, normalisation).
        height: Rows of the region.
        width: Columns of the region.
        read_tile: Reader of raw tile inputs.
        write_rows: Receiver of finished rows.
        tile: Largest tile size in pixels; :func:`~.tiling.fit_tile` picks the size per axis that covers
            it with the least padded work (the network pads tiles to a multiple of 32).
        overlap: Pixels shared by neighbouring tiles, blended.
        batch_size: Tiles per forward pass (halved on CUDA out-of-memory).
        device: Where the network runs.
        progress: Called after every batch.
        cancel: Checked before every batch.

    Returns:
        The number of tiles and the final batch size.

    Raises:
        SegmentationCancelled: When ``cancel()`` returned true.
        ValueError: For a bad tile size, overlap or batch size.
    """
    (tile_h, rows), (tile_w, cols) = axis_tiles(height, tile, overlap), axis_tiles(width, tile, overlap)
    weight = blend_weights(tile_h, tile_w, overlap)
    classes = card.model.num_classes
    runner = _BatchRunner(forward, batch_size, torch.device(device))
    total, done = len(rows) * len(cols), 0
    finals = [end - start for start, end in zip(rows, [*rows[1:], height], strict=True)]
    strip = _Strip(classes, tile_h, tile_w, width, tile_h - min(finals))

    for y, final in zip(rows, finals, strict=True):
        strip.start(final)
        for first in range(0, len(cols), batch_size):
            if cancel is not None and cancel():
                raise SegmentationCancelled("segmentation cancelled")
            batch_cols = cols[first : first + batch_size]
            boxes = [Box(y, x, tile_h, tile_w) for x in batch_cols]
            inputs = [_normalised(card, read_tile, box, height, width) for box in boxes]
            logits = runner(np.stack([i[0] for i in inputs]), np.stack([i[1] for i in inputs]))
            for box, (_, _, valid), tile_logits in zip(boxes, inputs, logits, strict=True):
                strip.add(box.col, tile_logits * weight, weight, valid)
            done += len(boxes)
            if progress is not None:
                progress(TileProgress(done, total))
        strip.flush(width)
        write_rows(y, strip.labels, strip.confidence)
    return StreamStats(total, runner.batch_size)


def predict_arrays(
    model: Forward,
    card: ModelCard,
    optical: np.ndarray,
    elevation: np.ndarray,
    *,
    tile: int = 512,
    overlap: int = 64,
    batch_size: int = 1,
    device: str | torch.device = "cpu",
    optical_nodata: float | None = None,
    elevation_nodata: float | None = None,
    valid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment an optical + elevation pair held in memory, with the same tiling and blending as files.

    Args:
        model: The network in eval mode (``model(optical, elevation) -> logits``), already on ``device``.
        card: The checkpoint's card: normalisation and class count.
        optical: (C, H, W) raw values in their original data type, bands in the card's order.
        elevation: (H, W) raw heights in metres.
        tile: Tile size in pixels.
        overlap: Overlap of neighbouring tiles in pixels.
        batch_size: Tiles per forward pass.
        device: Where the model runs.
        optical_nodata: The optical's nodata value (NaN is always nodata).
        elevation_nodata: The elevation's nodata value (NaN is always nodata).
        valid: Optional extra (H, W) mask of pixels to segment.

    Returns:
        ``(labels, confidence)``: (H, W) uint8 class indices with :data:`IGNORE_INDEX` (255) where either
        input has no data, and (H, W) float32 max softmax probability with NaN there.

    Raises:
        ValueError: If the shapes do not fit the card or each other.
    """
    if optical.ndim != 3 or optical.shape[0] != card.model.optical_channels:
        raise ValueError(
            f"optical must be ({card.model.optical_channels}, H, W) for this model, got {optical.shape}"
        )
    if elevation.shape != optical.shape[1:]:
        raise ValueError(f"elevation {elevation.shape} must be (H, W) = {optical.shape[1:]}")
    height, width = elevation.shape
    optical_valid = valid_pixels(optical, optical_nodata)
    elevation_valid = valid_pixels(elevation, elevation_nodata)
    if valid is not None:
        optical_valid &= valid
    labels = np.empty((height, width), np.uint8)
    confidence = np.empty((height, width), np.float32)

    def read(tile: Box, context: Box) -> TileData:
        window = np.s_[tile.row : tile.row + tile.rows, tile.col : tile.col + tile.cols]
        around = np.s_[context.row : context.row + context.rows, context.col : context.col + context.cols]
        return TileData(
            optical[(slice(None), *window)],
            elevation[around],
            optical_valid[window],
            elevation_valid[around],
        )

    def write(row: int, tile_labels: np.ndarray, tile_confidence: np.ndarray) -> None:
        labels[row : row + len(tile_labels)] = tile_labels
        confidence[row : row + len(tile_labels)] = tile_confidence

    stream_predict(
        model,
        card,
        height,
        width,
        read,
        write,
        tile=tile,
        overlap=overlap,
        batch_size=batch_size,
        device=device,
    )
    return labels, confidence
