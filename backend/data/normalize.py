"""Input normalisation shared by training and inference, recorded in checkpoints.

Absolute DSM heights differ by hundreds of metres between regions (Vaihingen's terrain lies near 250 m,
Potsdam's near 30-100 m), so the elevation is turned into "height above ground": a ground surface is
subtracted and the result divided by a fixed number of metres, so the network sees the same values for a
10 m building anywhere. Optical bands are scaled by their data type.

The default ground (``elevation_mode="ground_filter"``) is a morphological opening of the DSM: the minimum
of every ``ground_block_px`` block, eroded then dilated over ``ground_radius_px`` (which removes every
object narrower than twice that radius: buildings, trees) and interpolated bilinearly between block
centres. It depends only on heights within :meth:`NormalizationConfig.elevation_halo` pixels, on a block
grid anchored at the window's origin, so a tile read with that halo (and a block-aligned origin) gets the
same values as the whole raster in one pass: tiling does not change the input. ``"local_ground"`` (the
window's low percentile, checkpoints of version 1) changes with every window.

Everything here works on numpy arrays, one window at a time: the datasets call these functions on the
windows they read, and the inference engine calls the very same functions on its tiles, with the
:class:`NormalizationConfig` stored in the checkpoint. Nodata (a ``valid`` mask, or NaN) never enters a
ground estimate and comes out as 0. For elevation rasters that already are nDSMs, use
``elevation_mode="absolute"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

NORMALIZATION_VERSION = 2
V1_DEFAULTS = {"ground_block_px": 16, "ground_radius_px": 192}
"""Fields added in version 2, with the values a version-1 config (which never uses them) gets."""
OPTICAL_SCALINGS = ("dtype", "fixed", "percentile")
ELEVATION_MODES = ("ground_filter", "local_ground", "absolute")


@dataclass(frozen=True)
class NormalizationConfig:
    """How optical and elevation windows become network inputs.

    Attributes:
        optical_scaling: ``"dtype"``: unsigned/signed integers divided by their type's maximum (uint8 /255,
            uint16 /65535), floats used as they are; ``"fixed"``: divided by ``optical_max`` (e.g. 4095 for
            12-bit data stored as uint16); ``"percentile"``: each band stretched between the window's
            ``optical_percentiles`` to 0..1 (sensor-agnostic, but brightness becomes window-relative).
        optical_max: Divisor for ``"fixed"``.
        optical_percentiles: (low, high) percentiles for ``"percentile"``.
        elevation_mode: ``"ground_filter"``: subtract the opened ground surface (see the module
            docstring; tiling-invariant); ``"local_ground"``: subtract the window's ``ground_percentile`` of
            valid heights; ``"absolute"``: use heights as they are (an nDSM).
        ground_percentile: Low percentile taken as local ground by ``"local_ground"``.
        ground_block_px: Block size of the ground grid (a power of two keeps interpolation exact).
        ground_radius_px: Radius of the opening; objects narrower than twice this become non-ground, so it
            should exceed half the widest building at the training resolution.
        elevation_scale_m: Metres that map to 1.0.
        elevation_clip: (low, high) bounds applied after scaling, so outliers (cranes, pits) stay bounded.
    """

    optical_scaling: str = "dtype"
    optical_max: float | None = None
    optical_percentiles: tuple[float, float] = (1.0, 99.0)
    elevation_mode: str = "ground_filter"
    ground_percentile: float = 2.0
    ground_block_px: int = 16
    ground_radius_px: int = 192
    elevation_scale_m: float = 10.0
    elevation_clip: tuple[float, float] = (-1.0, 5.0)

    def __post_init__(self) -> None:
        """Reject configurations that cannot be applied, at construction rather than mid-training."""
        if self.optical_scaling not in OPTICAL_SCALINGS:
            raise ValueError(
                f"optical_scaling must be one of {OPTICAL_SCALINGS}, got {self.optical_scaling!r}"
            )
        if self.optical_scaling == "fixed" and not (self.optical_max and self.optical_max > 0):
            raise ValueError("optical_scaling='fixed' needs a positive optical_max")
        low, high = self.optical_percentiles
        if not 0 <= low < high <= 100:
            raise ValueError(f"optical_percentiles must satisfy 0 <= low < high <= 100, got {(low, high)}")
        if self.elevation_mode not in ELEVATION_MODES:
            raise ValueError(f"elevation_mode must be one of {ELEVATION_MODES}, got {self.elevation_mode!r}")
        if not 0 <= self.ground_percentile <= 100:
            raise ValueError(f"ground_percentile must be in 0..100, got {self.ground_percentile}")
        if self.ground_block_px < 1 or self.ground_radius_px < 0:
            raise ValueError(
                f"ground_block_px must be >= 1 and ground_radius_px >= 0, got "
                f"{self.ground_block_px} and {self.ground_radius_px}"
            )
        if not self.elevation_scale_m > 0:
            raise ValueError(f"elevation_scale_m must be positive, got {self.elevation_scale_m}")
        if not self.elevation_clip[0] < self.elevation_clip[1]:
            raise ValueError(f"elevation_clip must be (low, high) with low < high, got {self.elevation_clip}")

    @property
    def ground_radius_blocks(self) -> int:
        """``R``: the opening's radius on the block grid."""
        return -(-self.ground_radius_px // self.ground_block_px)

    def elevation_halo(self) -> int:
        """Pixels of elevation beyond a tile (on each side) that its normalised values depend on: blocks
        within ``2R`` (erosion, then dilation) of the blocks interpolated, plus one for the interpolation."""
        if self.elevation_mode != "ground_filter":
            return 0
        return (2 * self.ground_radius_blocks + 1) * self.ground_block_px

    def elevation_context(self, start: int, length: int, extent: int) -> tuple[int, int]:
        """``(start, length)`` along one axis of the elevation to read for a tile at ``start`` of
        ``length`` pixels in a raster of ``extent``: the tile plus :meth:`elevation_halo`, widened to the
        block grid anchored at 0 and clipped to the raster, so the context's blocks are the raster's."""
        halo = self.elevation_halo()
        if halo == 0:
            return start, length
        block = self.ground_block_px
        first = max(start // block * block - halo, 0)
        stop = min(-(-(start + length) // block) * block + halo, extent)
        return first, stop - first

    def to_dict(self) -> dict[str, Any]:
        """Plain-types form (str, float, list), safe for ``torch.load(weights_only=True)`` and JSON."""
        data: dict[str, Any] = {"version": NORMALIZATION_VERSION}
        for key, value in asdict(self).items():
            data[key] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NormalizationConfig:
        """Inverse of :meth:`to_dict`; every field must be present, so a stored config never silently
        picks up a later default.

        Raises:
            ValueError: On a different version, a missing or unknown key, or invalid values.
        """
        data = dict(data)
        version = data.pop("version", None)
        if version == 1:
            data = {**V1_DEFAULTS, **data}
        elif version != NORMALIZATION_VERSION:
            raise ValueError(
                f"normalisation config version {version!r} is not supported (this GeoFuse reads 1 and "
                f"{NORMALIZATION_VERSION}); a newer GeoFuse wrote it"
            )
        names = {field.name for field in fields(cls)}
        missing, unknown = names - data.keys(), data.keys() - names
        if missing or unknown:
            raise ValueError(
                f"normalisation config: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}"
            )
        for key in ("optical_percentiles", "elevation_clip"):
            data[key] = tuple(float(v) for v in data[key])
        return cls(**data)


def valid_pixels(array: np.ndarray, nodata: float | None = None) -> np.ndarray:
    """Mask (H, W) of pixels that hold data in a band-first (C, H, W) or (H, W) window.

    A pixel is invalid if any band is NaN/inf, or if every band equals ``nodata`` (GDAL's convention for
    multi-band rasters with one nodata value).
    """
    bands = array if array.ndim == 3 else array[None]
    valid = np.ones(bands.shape[1:], dtype=bool)
    if np.issubdtype(bands.dtype, np.floating):
        valid &= np.isfinite(bands).all(axis=0)
    if nodata is not None and not np.isnan(nodata):
        valid &= ~(bands == nodata).all(axis=0)
    return valid


def _optical_divisor(dtype: np.dtype) -> float:
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    if np.issubdtype(dtype, np.floating) or dtype == np.bool_:
        return 1.0
    raise TypeError(f"optical rasters must be integer or float, got {dtype}")


def normalize_optical(
    optical: np.ndarray, config: NormalizationConfig, valid: np.ndarray | None = None
) -> np.ndarray:
    """Scale an optical window (C, H, W) as ``config`` says.

    Args:
        optical: Band-first window in its file's data type (the type decides the ``"dtype"`` divisor).
        config: The normalisation.
        valid: (H, W) mask of pixels with data; NaN pixels are invalid as well.

    Returns:
        float32 (C, H, W); invalid pixels are 0.
    """
    valid = valid_pixels(optical) if valid is None else valid & valid_pixels(optical)
    values = optical.astype(np.float32)
    if config.optical_scaling == "dtype":
        values /= _optical_divisor(optical.dtype)
    elif config.optical_scaling == "fixed":
        values /= np.float32(config.optical_max)
    else:
        low_q, high_q = config.optical_percentiles
        for band in values:
            samples = band[valid]
            if samples.size == 0:
                band[:] = 0.0
                continue
            low, high = np.percentile(samples, [low_q, high_q])
            span = high - low
            band[:] = np.clip((band - low) / span, 0.0, 1.0) if span > 0 else 0.0
    values[:, ~valid] = 0.0
    return values


def _bilinear_axis(
    start: int, stop: int, block: int, cells: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper cell index and the upper weight for pixels ``start..stop`` along one axis, between
    cell centres ``(i + 0.5) · block - 0.5`` (``F.interpolate(..., align_corners=False)``'s convention)."""
    position = np.maximum((np.arange(start, stop, dtype=np.float64) + 0.5) / block - 0.5, 0.0)
    lower = np.minimum(np.floor(position).astype(np.int64), cells - 1)
    upper = np.minimum(lower + 1, cells - 1)
    return lower, upper, (position - lower).astype(np.float32)


def ground_surface(
    heights: np.ndarray,
    valid: np.ndarray,
    block: int,
    radius_blocks: int,
    crop: tuple[slice, slice] | None = None,
) -> np.ndarray:
    """Ground under a DSM window (H, W): a grey-scale opening on a grid of ``block``-pixel cells.

    Cell minima of valid heights are eroded, then dilated, over ``2R + 1`` cells (``R`` =
    ``radius_blocks``) and interpolated bilinearly between cell centres (masked where no valid height lies
    within ``2R`` cells). Erosion keeps the lowest surface nearby; dilation lifts it back onto sloping
    terrain, so it follows the ground under buildings and trees narrower than the window of the opening.

    Args:
        heights: (H, W) metres.
        valid: (H, W) pixels with data.
        block: Cell size in pixels.
        radius_blocks: ``R``.
        crop: The part of the window wanted (a tile inside its context); only it is interpolated.

    Returns:
        float32 over ``crop`` (default the whole window); NaN where no valid height lies near enough.
    """
    height, width = heights.shape
    rows, cols = -(-height // block), -(-width // block)
    cells = np.full((rows * block, cols * block), np.inf, np.float32)
    cells[:height, :width] = np.where(valid, heights, np.inf)
    minima = torch.from_numpy(cells.reshape(rows, block, cols, block).min(axis=(1, 3)))[None, None]
    size = 2 * radius_blocks + 1
    eroded = -F.max_pool2d(-minima, size, stride=1, padding=radius_blocks)
    eroded[torch.isinf(eroded)] = -torch.inf
    opened = F.max_pool2d(eroded, size, stride=1, padding=radius_blocks)[0, 0].numpy()
    known = np.isfinite(opened)
    crop = crop or (slice(0, height), slice(0, width))
    top, bottom, fy = _bilinear_axis(crop[0].start, crop[0].stop, block, rows)
    left, right, fx = _bilinear_axis(crop[1].start, crop[1].stop, block, cols)

    def interpolate(grid: np.ndarray) -> np.ndarray:
        along = grid[top] * (1 - fy)[:, None] + grid[bottom] * fy[:, None]
        return along[:, left] * (1 - fx) + along[:, right] * fx

    weight = interpolate(known.astype(np.float32))
    with np.errstate(invalid="ignore", divide="ignore"):
        ground = interpolate(np.where(known, opened, 0.0).astype(np.float32)) / weight
    ground[weight <= 0] = np.nan
    return ground.astype(np.float32)


def normalize_elevation(
    elevation: np.ndarray,
    config: NormalizationConfig,
    valid: np.ndarray | None = None,
    crop: tuple[slice, slice] | None = None,
) -> np.ndarray:
    """Turn an elevation window (H, W) or (1, H, W) into scaled height above ground.

    Args:
        elevation: Heights in metres (DSM, or nDSM with ``elevation_mode="absolute"``).
        config: The normalisation.
        valid: Mask of pixels with data (same spatial shape); NaN/inf pixels are invalid as well.
        crop: Only this part of the window is wanted (a tile inside the context read for its ground).

    Returns:
        float32 of the input's shape (cut to ``crop``): ``clip((h - ground) / elevation_scale_m)``, where
        ground is
        :func:`ground_surface` (``"ground_filter"``), the ``ground_percentile`` of the valid heights
        (``"local_ground"``) or 0 (``"absolute"``); invalid pixels are 0, and a window without valid
        pixels is all 0.
    """
    whole = elevation.astype(np.float32)
    finite = np.isfinite(whole)
    valid = finite if valid is None else finite & np.broadcast_to(valid, whole.shape)
    plane = whole.shape[-2:]
    crop = crop or (slice(0, plane[0]), slice(0, plane[1]))
    window = (Ellipsis, *crop)
    values, ground = whole[window], np.float32(0.0)
    if config.elevation_mode == "ground_filter" and valid.any():
        block, radius = config.ground_block_px, config.ground_radius_blocks
        surface = ground_surface(whole.reshape(plane), valid.reshape(plane), block, radius, crop)
        ground = surface.reshape(values.shape)
    elif config.elevation_mode == "local_ground":
        samples = whole[valid]
        ground = np.float32(np.percentile(samples, config.ground_percentile)) if samples.size else ground
    valid = valid[window]
    with np.errstate(invalid="ignore"):
        out = (values - ground) / np.float32(config.elevation_scale_m)
    np.clip(out, config.elevation_clip[0], config.elevation_clip[1], out=out)
    out[~valid] = 0.0
    return out
