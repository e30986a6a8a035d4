"""Seeded synthetic urban scenes in which colour alone is ambiguous and elevation resolves it.

Each scene is grass (low vegetation) crossed by asphalt roads, with grey rectangles that are either
building roofs (3-15 m high) or paved lots (ground level), green disks that are either tree crowns
(4-20 m) or shrub beds (< 0.5 m), cars (~1.5 m) on roads and lots, and small odd-coloured clutter
(< 1 m). Roofs and pavement draw their grey from one distribution, trees and grass their green from
another, with the same texture noise and no shadows, so a colour-only model cannot tell them apart, while
the height above local ground separates them. The DSM is smooth terrain (a seed-dependent regional
offset of tens to hundreds of metres, a gentle slope and long undulations) plus object heights plus
noise, so models must cope with absolute offsets as on real data.

A second domain, ``"shifted"`` ("another city"), draws the same kinds of scenes as another city, camera and
DSM producer would show them: darker warm asphalt, terracotta and slate roofs, dry yellowish vegetation, a
brighter sensor with a colour cast, a noisier DSM with a vertical datum offset, and (by the callers'
choice, see :data:`SHIFTED_GSD`) coarser pixels. The bundled model never saw it; it is the test bed of
fine-tuning from polygons (``bench/bench_adapt.py``). The ``"home"`` domain is the original generator,
byte for byte.

A third domain, ``"hard"``, keeps the home city's materials but adds what separates segmentation methods on
real imagery and is absent from the home scenes, where four of the five classes are easy for any model
with an elevation input: small objects (garden sheds of 2-4 m, bins and heaps of 0.4-1.5 m, twice as much
clutter, lots packed with cars, more of them grey like the pavement), cast shadows (a random sun 40-60°
high darkens what the raised objects shade, labels unchanged), a photogrammetric-looking DSM (object edges
smoothed over ±0.2 m, noise σ 0.3 m, 0.3 % spikes of several metres) and tree crowns overhanging roofs
(labelled tree, as the ISPRS references label the top surface). :func:`generate_scene` returns the shadow
and the tree-over-roof masks with it, so tests and analyses can score those pixels alone.

These scenes are the data of the tests, of the demo and of the bundled demo model. Generation is pure
numpy and deterministic: the same seed gives the same bytes on every run. Scenes are written as real
GeoTIFFs (UTM 32N, 0.1 m by default) in the folder-dataset layout of :mod:`geofuse.backend.data.folder`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from geofuse.backend.classes import ISPRS_CLASSES, write_class_table

GENERATOR_VERSION = 1
"""Bumped whenever a seed's scene changes, so recorded seeds stay meaningful."""

IMPERVIOUS, BUILDING, LOW_VEGETATION, TREE, CAR, CLUTTER = range(6)

Seed = int | Sequence[int]

DOMAINS = ("home", "shifted", "hard")
SHIFTED_GSD = 0.15
"""Ground sampling distance of the shifted domain's scenes in the adaptation benchmark."""
HARD_DSM_NOISE_M = 0.3
"""Standard deviation of the hard domain's DSM noise (home: 0.05 m)."""
HARD_SUN_ELEVATION_DEG = (40.0, 60.0)
"""Range of the hard domain's sun elevation: shadows 0.6-1.2× as long as the object is high."""

_CAR_COLOURS = np.array(
    [(185, 30, 30), (30, 55, 150), (235, 235, 235), (25, 25, 28), (205, 200, 45), (95, 95, 105)], np.float32
)
_CLUTTER_COLOURS = np.array(
    [(225, 120, 30), (120, 75, 40), (135, 60, 145), (45, 38, 30), (230, 130, 170)], np.float32
)


@dataclass(frozen=True)
class SyntheticScene:
    """One generated scene.

    Attributes:
        optical: (3, H, W) uint8 RGB.
        dsm: (H, W) float32 surface heights in metres (terrain + objects + noise).
        labels: (H, W) uint8 ISPRS class indices.
        terrain: (H, W) float32 ground heights in metres (the true DSM - nDSM).
        transform: Pixel → map coordinates (north-up, ``gsd`` metres per pixel).
        crs: The projected CRS, e.g. ``"EPSG:32632"``.
        shadow: ``"hard"`` domain only: (H, W) bool, pixels in a cast shadow.
        tree_over_roof: ``"hard"`` domain only: (H, W) bool, roof pixels covered by an overhanging crown.
    """

    optical: np.ndarray
    dsm: np.ndarray
    labels: np.ndarray
    terrain: np.ndarray
    transform: Affine
    crs: str
    shadow: np.ndarray | None = None
    tree_over_roof: np.ndarray | None = None


def _grey(rng: np.random.Generator) -> np.ndarray:
    """Asphalt, concrete and roof grey: one distribution for roads, lots and roofs alike."""
    return np.clip(rng.normal(135.0, 28.0), 70.0, 210.0) + rng.normal(0.0, 4.0, 3)


def _green(rng: np.random.Generator) -> np.ndarray:
    """Vegetation green: one distribution for grass, shrubs and tree crowns alike."""
    return np.array([70.0, 115.0, 55.0]) * rng.uniform(0.75, 1.25) + rng.normal(0.0, 6.0, 3)


def _smooth_field(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Unit-variance random field, bilinear between a (cells+1)² grid: long-wavelength shading."""

    def weights(n: int) -> np.ndarray:
        position = (np.arange(n) + 0.5) / n * cells
        return np.maximum(0.0, 1.0 - np.abs(position[:, None] - np.arange(cells + 1)[None, :]))

    grid = rng.standard_normal((cells + 1, cells + 1))
    return (weights(height) @ grid @ weights(width).T).astype(np.float32)


def _terrain(rng: np.random.Generator, height: int, width: int, gsd: float) -> np.ndarray:
    """Regional offset + gentle slope (≤ 2 %) + a few long undulations, via separable cosines."""
    y = (np.arange(height, dtype=np.float64) * gsd)[:, None]
    x = (np.arange(width, dtype=np.float64) * gsd)[None, :]
    slope_y, slope_x = np.clip(rng.normal(0.0, 0.008, 2), -0.02, 0.02)
    terrain = rng.uniform(30.0, 900.0) + slope_y * y + slope_x * x
    for _ in range(3):
        wavelength, amplitude, angle, phase = (
            rng.uniform(60.0, 300.0),
            rng.uniform(0.2, 1.0),
            rng.uniform(0, np.pi),
            rng.uniform(0, 2 * np.pi),
        )
        ky, kx = 2 * np.pi / wavelength * np.sin(angle), 2 * np.pi / wavelength * np.cos(angle)
        # cos(kx·x + ky·y + φ) = cos(kx·x + φ)·cos(ky·y) − sin(kx·x + φ)·sin(ky·y): two outer products.
        terrain = terrain + amplitude * (
            np.cos(kx * x + phase) * np.cos(ky * y) - np.sin(kx * x + phase) * np.sin(ky * y)
        )
    return terrain.astype(np.float32)


class _Canvas:
    """Class, object height and base colour being painted, plus the generator."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, gsd: float) -> None:
        self.rng, self.height, self.width, self.gsd = rng, height, width, gsd
        self.labels = np.full((height, width), LOW_VEGETATION, np.uint8)
        self.heights = np.zeros((height, width), np.float32)
        self.colour = np.empty((3, height, width), np.float32)
        self.colour[:] = _green(rng)[:, None, None]

    def px(self, metres: float) -> int:
        return max(1, round(metres / self.gsd))

    def box(self, row: int, col: int, rows: int, cols: int) -> tuple[slice, slice] | None:
        """Slices of a rectangle clipped to the scene, or None if nothing of it is inside."""
        r0, c0 = max(row, 0), max(col, 0)
        r1, c1 = min(row + rows, self.height), min(col + cols, self.width)
        return (slice(r0, r1), slice(c0, c1)) if r0 < r1 and c0 < c1 else None

    def paint(
        self,
        where: tuple[slice, slice],
        mask: np.ndarray | bool,
        label: int,
        colour: np.ndarray,
        heights: np.ndarray | float,
    ) -> None:
        region = np.broadcast_to(mask, self.labels[where].shape)
        self.labels[where][region] = label
        self.heights[where][region] = np.broadcast_to(heights, region.shape)[region]
        for band in range(3):
            self.colour[band][where][region] = colour[band]


def _roads(canvas: _Canvas) -> list[tuple[str, int, int]]:
    """Straight roads in both directions, one roughly every 40 m; returns (axis, start, width) each."""
    rng, roads = canvas.rng, []
    for axis, extent in (("row", canvas.height), ("col", canvas.width)):
        count = max(1, round(extent * canvas.gsd / 40.0 * rng.uniform(0.6, 1.2)))
        for _ in range(count):
            width = canvas.px(rng.uniform(5.0, 9.0))
            start = int(rng.integers(-width // 2, max(extent - width // 2, 1)))
            if axis == "row":
                where = canvas.box(start, 0, width, canvas.width)
            else:
                where = canvas.box(0, start, canvas.height, width)
            if where is not None:
                canvas.paint(where, True, IMPERVIOUS, _grey(rng), 0.0)
                roads.append((axis, start, width))
    return roads


def _blocks(canvas: _Canvas) -> list[tuple[slice, slice]]:
    """Grey rectangles on grass: building roofs (flat or gabled) or paved lots; returns the lots."""
    rng, lots = canvas.rng, []
    margin = canvas.px(1.0)
    for _ in range(int(canvas.height * canvas.width * canvas.gsd**2 / 50.0)):
        rows, cols = canvas.px(rng.uniform(5.0, 18.0)), canvas.px(rng.uniform(5.0, 18.0))
        row, col = int(rng.integers(-rows // 2, canvas.height)), int(rng.integers(-cols // 2, canvas.width))
        where = canvas.box(row, col, rows, cols)
        around = canvas.box(row - margin, col - margin, rows + 2 * margin, cols + 2 * margin)
        if where is None or not (canvas.labels[around] == LOW_VEGETATION).all():
            continue
        colour = _grey(rng)
        if rng.random() < 0.6:
            eave = rng.uniform(3.0, 12.0)
            roof: np.ndarray | float = eave
            if rng.random() < 0.5:
                ridge = min(eave + rng.uniform(1.0, 3.0), 15.0)
                # The ridge runs along the longer side; t is the position across it, 0..1.
                if cols >= rows:
                    t = ((np.arange(where[0].start, where[0].stop) - row + 0.5) / rows)[:, None]
                else:
                    t = ((np.arange(where[1].start, where[1].stop) - col + 0.5) / cols)[None, :]
                roof = (ridge - (ridge - eave) * np.abs(2.0 * t - 1.0)).astype(np.float32)
            canvas.paint(where, True, BUILDING, colour, roof)
        else:
            canvas.paint(where, True, IMPERVIOUS, colour, 0.0)
            lots.append(where)
    return lots


def _disk(
    canvas: _Canvas, radius: int, centre: tuple[int, int] | None = None
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """A disc's bounding box in the scene and r²/radius² over it; the centre is drawn unless given."""
    rng = canvas.rng
    if centre is None:
        centre = int(rng.integers(0, canvas.height)), int(rng.integers(0, canvas.width))
    centre_row, centre_col = centre
    where = canvas.box(centre_row - radius, centre_col - radius, 2 * radius + 1, 2 * radius + 1)
    if where is None:
        return None
    rows = np.arange(where[0].start, where[0].stop, dtype=np.float32)[:, None] - centre_row
    cols = np.arange(where[1].start, where[1].stop, dtype=np.float32)[None, :] - centre_col
    return where, (rows**2 + cols**2) / np.float32(radius**2)


def _vegetation(canvas: _Canvas) -> None:
    """Green disks: tree crowns (domes 4-20 m, may overhang pavement) or shrub beds on grass."""
    rng = canvas.rng
    for _ in range(int(canvas.height * canvas.width * canvas.gsd**2 / 90.0)):
        radius = canvas.px(rng.uniform(1.5, 5.0))
        disk = _disk(canvas, radius)
        if disk is None:
            continue
        where, r2 = disk
        dome = np.sqrt(np.clip(1.0 - r2, 0.0, None))
        if rng.random() < 0.6:
            top = rng.uniform(4.0, 20.0)
            crown = top * (0.55 + 0.45 * dome) + rng.normal(0.0, 0.3, r2.shape).astype(np.float32)
            mask = (r2 <= 1.0) & (canvas.labels[where] != BUILDING) & (crown > canvas.heights[where])
            canvas.paint(where, mask, TREE, _green(rng), crown)
        else:
            shrub = rng.uniform(0.1, 0.5) * dome
            mask = (r2 <= 1.0) & (canvas.labels[where] == LOW_VEGETATION)
            canvas.paint(where, mask, LOW_VEGETATION, _green(rng), shrub)


def _car_colour(rng: np.random.Generator, grey_share: float = 0.3) -> np.ndarray:
    if rng.random() < grey_share:
        return _grey(rng)
    return _CAR_COLOURS[rng.integers(len(_CAR_COLOURS))] + rng.normal(0.0, 8.0, 3)


def _place_car(canvas: _Canvas, row: int, col: int, along_rows: bool, grey_share: float = 0.3) -> None:
    rng = canvas.rng
    length, width = canvas.px(rng.uniform(4.0, 5.0)), canvas.px(rng.uniform(1.7, 2.0))
    rows, cols = (length, width) if along_rows else (width, length)
    where = canvas.box(row - rows // 2, col - cols // 2, rows, cols)
    if where is None or not (canvas.labels[where] == IMPERVIOUS).all():
        return
    canvas.paint(where, True, CAR, _car_colour(rng, grey_share), rng.uniform(1.4, 1.6))


def _cars(
    canvas: _Canvas,
    roads: list[tuple[str, int, int]],
    lots: list[tuple[slice, slice]],
    per_lot: int = 4,
    grey_share: float = 0.3,
    spacing_m: float = 12.0,
) -> None:
    """Cars along road lanes (a try per ``spacing_m`` at most) and parked on lots (fewer than ``per_lot``
    tries each), only where the whole footprint is pavement; ``grey_share`` of them in the pavement's
    grey."""
    rng = canvas.rng
    for axis, start, width in roads:
        extent = canvas.width if axis == "row" else canvas.height
        for _ in range(int(extent * canvas.gsd / spacing_m * rng.uniform(0.3, 1.0))):
            lane = start + width // 4 if rng.random() < 0.5 else start + 3 * width // 4
            position = int(rng.integers(0, extent))
            if axis == "row":
                _place_car(canvas, lane, position, along_rows=False, grey_share=grey_share)
            else:
                _place_car(canvas, position, lane, along_rows=True, grey_share=grey_share)
    for rows, cols in lots:
        along_rows = bool(rng.random() < 0.5)
        for _ in range(int(rng.integers(0, per_lot))):
            _place_car(
                canvas,
                int(rng.integers(rows.start, rows.stop)),
                int(rng.integers(cols.start, cols.stop)),
                along_rows,
                grey_share,
            )


def _clutter(canvas: _Canvas, sizes: tuple[float, float] = (0.6, 3.0), area_per_item: float = 250.0) -> None:
    """Small odd-coloured low objects (bins, sheds, containers, heaps) on pavement or grass: one try per
    ``area_per_item`` m², sides drawn from ``sizes`` metres."""
    rng = canvas.rng
    for _ in range(int(canvas.height * canvas.width * canvas.gsd**2 / area_per_item)):
        rows, cols = canvas.px(rng.uniform(*sizes)), canvas.px(rng.uniform(*sizes))
        where = canvas.box(
            int(rng.integers(0, canvas.height)), int(rng.integers(0, canvas.width)), rows, cols
        )
        if where is None or not np.isin(canvas.labels[where], (IMPERVIOUS, LOW_VEGETATION)).all():
            continue
        colour = _CLUTTER_COLOURS[rng.integers(len(_CLUTTER_COLOURS))] + rng.normal(0.0, 10.0, 3)
        canvas.paint(where, True, CLUTTER, colour, rng.uniform(0.2, 1.0))


def _sheds(canvas: _Canvas) -> None:
    """Hard domain: garden sheds and garages, flat roofs of 2-4 m sides and 2-3.5 m high, on grass."""
    rng = canvas.rng
    margin = canvas.px(0.5)
    for _ in range(int(canvas.height * canvas.width * canvas.gsd**2 / 150.0)):
        rows, cols = canvas.px(rng.uniform(2.0, 4.0)), canvas.px(rng.uniform(2.0, 4.0))
        row, col = int(rng.integers(0, canvas.height)), int(rng.integers(0, canvas.width))
        where = canvas.box(row, col, rows, cols)
        around = canvas.box(row - margin, col - margin, rows + 2 * margin, cols + 2 * margin)
        if where is None or not (canvas.labels[around] == LOW_VEGETATION).all():
            continue
        canvas.paint(where, True, BUILDING, _grey(rng), rng.uniform(2.0, 3.5))


def _overhanging_trees(canvas: _Canvas) -> np.ndarray:
    """Hard domain: crowns centred on roof pixels, 2-8 m above the roof, covering part of it and of what is
    around; returns the roof pixels they cover."""
    rng = canvas.rng
    over_roof = np.zeros(canvas.labels.shape, bool)
    roofs = np.flatnonzero(canvas.labels == BUILDING)
    for _ in range(int(canvas.height * canvas.width * canvas.gsd**2 / 600.0) if roofs.size else 0):
        row, col = divmod(int(roofs[rng.integers(roofs.size)]), canvas.width)
        disk = _disk(canvas, canvas.px(rng.uniform(1.5, 4.0)), (row, col))
        if disk is None:
            continue
        where, r2 = disk
        top = float(canvas.heights[row, col]) + rng.uniform(2.0, 8.0)
        dome = np.sqrt(np.clip(1.0 - r2, 0.0, None))
        crown = top * (0.7 + 0.3 * dome) + rng.normal(0.0, 0.3, r2.shape).astype(np.float32)
        mask = (r2 <= 1.0) & (crown > canvas.heights[where])
        over_roof[where] |= mask & (canvas.labels[where] == BUILDING)
        canvas.paint(where, mask, TREE, _green(rng), crown)
    return over_roof & (canvas.labels == TREE)


def _shifted(array: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``out[i, j] = array[i + rows, j + cols]``, zero where that is outside."""
    out = np.zeros_like(array)
    height, width = array.shape
    if abs(rows) >= height or abs(cols) >= width:
        return out
    target = np.s_[max(-rows, 0) : height - max(rows, 0), max(-cols, 0) : width - max(cols, 0)]
    source = np.s_[max(rows, 0) : height + min(rows, 0), max(cols, 0) : width + min(cols, 0)]
    out[target] = array[source]
    return out


def cast_shadows(heights: np.ndarray, gsd: float, azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Pixels in the shadow of raised objects under a sun at this azimuth (clockwise from north) and
    elevation: a pixel is shaded when, walking from it toward the sun, some object rises above the sun ray.

    Args:
        heights: (H, W) heights above ground in metres, north up.
        gsd: Metres per pixel.
        azimuth_deg: Direction of the sun, degrees clockwise from north.
        elevation_deg: Height of the sun above the horizon, degrees.

    Returns:
        (H, W) bool, true in shadow.
    """
    rise = float(np.tan(np.radians(elevation_deg))) * gsd  # metres the ray climbs per pixel walked
    step_rows, step_cols = -np.cos(np.radians(azimuth_deg)), np.sin(np.radians(azimuth_deg))
    shadow = np.zeros(heights.shape, bool)
    seen = set()
    for k in range(1, int(np.ceil(float(heights.max(initial=0.0)) / rise)) + 1):
        offset = round(k * step_rows), round(k * step_cols)
        if offset in seen:
            continue
        seen.add(offset)
        distance = float(np.hypot(*offset))
        shadow |= _shifted(heights, *offset) - np.float32(distance * rise) > heights + np.float32(0.1)
    return shadow


def _box_blur(array: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2·radius+1)² box, edges replicated: a photogrammetric DSM's smoothed object edges."""
    size = 2 * radius + 1
    padded = np.pad(array.astype(np.float64), radius, mode="edge")
    sums = np.cumsum(np.cumsum(np.pad(padded, ((1, 0), (1, 0))), axis=0), axis=1)
    box = sums[size:, size:] - sums[:-size, size:] - sums[size:, :-size] + sums[:-size, :-size]
    return (box / size**2).astype(np.float32)


def _hard_dsm(terrain: np.ndarray, heights: np.ndarray, rng: np.random.Generator, gsd: float) -> np.ndarray:
    """Terrain + object heights smoothed over ±0.2 m + noise σ :data:`HARD_DSM_NOISE_M` + 0.3 % spikes."""
    height, width = heights.shape
    dsm = terrain + _box_blur(heights, max(1, round(0.2 / gsd)))
    dsm += rng.standard_normal((height, width), dtype=np.float32) * np.float32(HARD_DSM_NOISE_M)
    spikes = rng.random((height, width)) < 0.003
    dsm[spikes] += rng.normal(0.0, 4.0, int(spikes.sum())).astype(np.float32)
    return dsm


def _shade(colour: np.ndarray, shadow: np.ndarray) -> None:
    """Darken shaded pixels as skylight alone would light them: dimmer and slightly blue (in place)."""
    colour[:, shadow] *= np.array([0.38, 0.42, 0.52], np.float32)[:, None]


def _shift_palette(colour: np.ndarray, labels: np.ndarray) -> None:
    """Recolour a home-domain canvas, class by class, as another city's materials (in place)."""
    grey = colour.mean(axis=0)
    pavement = labels == IMPERVIOUS
    colour[:, pavement] = 0.6 * colour[:, pavement] + np.array([14.0, 9.0, 3.0], np.float32)[:, None]
    roofs = labels == BUILDING
    light = roofs & (grey > 135.0)
    dark = roofs & ~light
    colour[:, light] = grey[light] * np.array([1.3, 0.62, 0.45], np.float32)[:, None]
    colour[:, dark] = grey[dark] * np.array([0.55, 0.6, 0.7], np.float32)[:, None]
    plants = (labels == LOW_VEGETATION) | (labels == TREE)
    colour[:, plants] *= np.array([1.6, 1.05, 0.85], np.float32)[:, None]


def _shift_sensor(colour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another camera: per-band gain (a warm cast), an offset and a slightly stronger contrast."""
    gain = np.array([1.12, 1.06, 0.92], np.float32) * np.float32(rng.uniform(0.95, 1.05))
    mean = colour.mean()
    return (colour - mean) * 1.15 * gain[:, None, None] + mean * gain[:, None, None] + np.float32(12.0)


def generate_scene(
    seed: Seed,
    height: int = 512,
    width: int = 512,
    gsd: float = 0.1,
    crs: str = "EPSG:32632",
    domain: str = "home",
) -> SyntheticScene:
    """Generate one scene.

    Args:
        seed: Anything ``numpy.random.default_rng`` accepts as a seed (an int, or a sequence of ints such as
            ``(base_seed, scene_index)``); equal seeds give identical scenes.
        height: Rows in pixels.
        width: Columns in pixels.
        gsd: Ground sampling distance in metres; object sizes are in metres, so they scale with it.
        crs: A projected CRS in metres; the origin is placed at a seed-dependent UTM-like position.
        domain: ``"home"`` (the bundled model's training domain), ``"shifted"`` (another city, camera
            and DSM producer) or ``"hard"`` (small objects, cast shadows, a noisy DSM, trees over roofs;
            see the module docstring).

    Returns:
        The scene's arrays, geotransform and CRS.
    """
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
    hard = domain == "hard"
    rng = np.random.default_rng(seed)
    canvas = _Canvas(rng, height, width, gsd)
    roads = _roads(canvas)
    lots = _blocks(canvas)
    if hard:
        _sheds(canvas)
    _vegetation(canvas)
    tree_over_roof = _overhanging_trees(canvas) if hard else None
    if hard:
        _cars(canvas, roads, lots, per_lot=12, grey_share=0.5, spacing_m=5.0)
        _clutter(canvas, sizes=(0.4, 1.5), area_per_item=125.0)
    else:
        _cars(canvas, roads, lots)
        _clutter(canvas)

    terrain = _terrain(rng, height, width, gsd)
    if hard:
        dsm = _hard_dsm(terrain, canvas.heights, rng, gsd)
    else:
        noise = rng.standard_normal((height, width), dtype=np.float32) * np.float32(0.05)
        dsm = terrain + canvas.heights + noise

    colour = canvas.colour
    shadow = None
    if hard:
        azimuth, elevation = rng.uniform(0.0, 360.0), rng.uniform(*HARD_SUN_ELEVATION_DEG)
        shadow = cast_shadows(canvas.heights, gsd, azimuth, elevation)
        _shade(colour, shadow)
    if domain == "shifted":
        _shift_palette(colour, canvas.labels)
    colour += 8.0 * _smooth_field(rng, height, width, cells=max(2, round(max(height, width) * gsd / 20.0)))
    colour += 7.0 * rng.standard_normal((height, width), dtype=np.float32)
    colour += 3.0 * rng.standard_normal((3, height, width), dtype=np.float32)
    if domain == "shifted":
        colour = _shift_sensor(colour, rng)
        dsm = (
            dsm + np.float32(35.0) + rng.standard_normal((height, width), dtype=np.float32) * np.float32(0.25)
        )
    optical = np.clip(np.rint(colour), 0, 255).astype(np.uint8)

    origin_x = round(rng.uniform(300_000.0, 700_000.0))
    origin_y = round(rng.uniform(5_200_000.0, 5_800_000.0))
    return SyntheticScene(
        optical=optical,
        dsm=dsm.astype(np.float32),
        labels=canvas.labels,
        terrain=terrain,
        transform=Affine(gsd, 0.0, float(origin_x), 0.0, -gsd, float(origin_y)),
        crs=crs,
        shadow=shadow,
        tree_over_roof=tree_over_roof,
    )


def _profile(scene: SyntheticScene, count: int, dtype: str) -> dict:
    height, width = scene.labels.shape
    profile = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": count,
        "dtype": dtype,
        "crs": scene.crs,
        "transform": scene.transform,
        "compress": "deflate",
    }
    if height >= 256 and width >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    return profile


def write_scene(
    scene: SyntheticScene, optical_path: str | Path, elevation_path: str | Path, labels_path: str | Path
) -> None:
    """Write a scene as three GeoTIFFs: optical (3 × uint8 RGB), elevation (float32 metres), labels
    (uint8 class indices, with the ISPRS colour table so GIS software shows the classes)."""
    with rasterio.open(optical_path, "w", photometric="RGB", **_profile(scene, 3, "uint8")) as dst:
        dst.write(scene.optical)
    with rasterio.open(elevation_path, "w", **_profile(scene, 1, "float32")) as dst:
        dst.write(scene.dsm, 1)
    with rasterio.open(labels_path, "w", **_profile(scene, 1, "uint8")) as dst:
        dst.write(scene.labels, 1)
        dst.write_colormap(1, {info.index: (*info.colour, 255) for info in ISPRS_CLASSES})


def scene_seed(seed: int, index: int) -> tuple[int, int]:
    """Seed of scene ``index`` of a folder generated with ``seed``: distinct folders never share scenes."""
    return (seed, index)


def write_synthetic_folder(
    root: str | Path,
    count: int,
    seed: int,
    height: int = 512,
    width: int = 512,
    gsd: float = 0.1,
    domain: str = "home",
) -> list[str]:
    """Write ``count`` scenes in the folder-dataset layout, ready for training or evaluation.

    Layout: ``root/optical/scene_0000.tif``, ``root/elevation/scene_0000.tif``, ``root/labels/scene_0000.tif``
    (class indices), ``root/classes.csv`` (the ISPRS table) and ``root/synthetic.json`` (generator version,
    seed, count and size, and the domain unless it is "home", so a model trained on the folder can record
    where its data came from). Scene ``i`` is ``generate_scene(scene_seed(seed, i), ...)``.

    Returns:
        The scene names, e.g. ``["scene_0000", ...]``.
    """
    root = Path(root)
    for folder in ("optical", "elevation", "labels"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    names = []
    for index in range(count):
        name = f"scene_{index:04d}"
        scene = generate_scene(scene_seed(seed, index), height, width, gsd, domain=domain)
        write_scene(
            scene,
            root / "optical" / f"{name}.tif",
            root / "elevation" / f"{name}.tif",
            root / "labels" / f"{name}.tif",
        )
        names.append(name)
    write_class_table(ISPRS_CLASSES, root / "classes.csv")
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "count": count,
        "height": height,
        "width": width,
        "gsd": gsd,
        **({"domain": domain} if domain != "home" else {}),
    }
    (root / "synthetic.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return names
