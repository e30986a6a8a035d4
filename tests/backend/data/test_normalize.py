"""Normalisation: dtype scaling, offset-free elevation, nodata outside percentiles, config round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geofuse.backend.data.normalize import (
    NormalizationConfig,
    normalize_elevation,
    normalize_optical,
    valid_pixels,
)


def _surface(seed: int = 0, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    heights = rng.normal(0.0, 0.05, (size, size)).astype(np.float32)
    heights[4:12, 4:20] += 9.0  # a building
    return heights


def test_optical_is_scaled_by_its_dtype() -> None:
    config = NormalizationConfig()
    uint8 = np.array([[[0, 51, 255]]], np.uint8)
    np.testing.assert_allclose(normalize_optical(uint8, config), [[[0.0, 0.2, 1.0]]])
    uint16 = np.array([[[0, 65535]]], np.uint16)
    np.testing.assert_allclose(normalize_optical(uint16, config), [[[0.0, 1.0]]])
    floats = np.array([[[0.25, 3.5]]], np.float32)
    np.testing.assert_allclose(normalize_optical(floats, config), floats)
    assert normalize_optical(uint8, config).dtype == np.float32


def test_optical_fixed_and_percentile_scalings() -> None:
    data = np.array([[[0, 2048, 4095]]], np.uint16)
    fixed = NormalizationConfig(optical_scaling="fixed", optical_max=4095.0)
    np.testing.assert_allclose(normalize_optical(data, fixed), [[[0.0, 2048 / 4095, 1.0]]], rtol=1e-6)
    band = np.arange(101, dtype=np.uint16).reshape(1, 1, 101) * 10 + 1000
    stretch = normalize_optical(
        band, NormalizationConfig(optical_scaling="percentile", optical_percentiles=(10, 90))
    )
    assert stretch[0, 0, 10] == pytest.approx(0.0) and stretch[0, 0, 90] == pytest.approx(1.0)
    assert stretch[0, 0, 50] == pytest.approx(0.5) and stretch.min() == 0.0 and stretch.max() == 1.0


def test_optical_nodata_is_zero_and_outside_the_stretch() -> None:
    data = np.full((2, 4, 4), 100, np.uint16)
    data[:, 0, 0] = 0
    data[:, 1, 1] = 200
    valid = valid_pixels(data, nodata=0)
    assert not valid[0, 0] and valid.sum() == 15
    out = normalize_optical(
        data, NormalizationConfig(optical_scaling="percentile", optical_percentiles=(0, 100)), valid
    )
    assert out[:, 0, 0].tolist() == [0.0, 0.0]
    assert out[0, 2, 2] == 0.0 and out[0, 1, 1] == 1.0  # the stretch spans 100..200, not 0..200


def test_elevation_is_independent_of_the_regional_offset() -> None:
    config = NormalizationConfig()
    surface = _surface()
    low = normalize_elevation(surface + np.float32(35.0), config)
    high = normalize_elevation(surface + np.float32(812.0), config)
    np.testing.assert_allclose(low, high, atol=1e-4)
    # Roughly metres above ground / 10: the building is ~0.9, the ground ~0.
    assert np.median(low[4:12, 4:20]) == pytest.approx(0.9, abs=0.03)
    assert abs(np.median(low[20:, 20:])) < 0.02


def test_elevation_nodata_does_not_move_the_ground_percentile() -> None:
    config = NormalizationConfig()
    surface = _surface() + np.float32(250.0)
    expected = normalize_elevation(surface, config)
    holed = surface.copy()
    holed[20:, :] = -9999.0  # a third of the window is nodata, far below the ground
    valid = valid_pixels(holed, nodata=-9999.0)
    out = normalize_elevation(holed, config, valid)
    assert (out[20:, :] == 0.0).all()
    ground_rows = out[12:20, 20:]
    np.testing.assert_allclose(ground_rows, expected[12:20, 20:], atol=0.01)
    holed[20:, :] = np.nan
    np.testing.assert_array_equal(normalize_elevation(holed, config), out)


def test_elevation_edge_cases() -> None:
    config = NormalizationConfig(elevation_clip=(-1.0, 2.0))
    assert (normalize_elevation(np.full((4, 4), np.nan, np.float32), config) == 0.0).all()
    tall = np.zeros((1, 8, 8), np.float32)
    tall[0, 0, 0] = 500.0  # a crane
    out = normalize_elevation(tall, config)
    assert out.shape == (1, 8, 8) and out[0, 0, 0] == 2.0
    absolute = NormalizationConfig(elevation_mode="absolute", elevation_scale_m=5.0)
    np.testing.assert_allclose(
        normalize_elevation(np.array([[100.0, 5.0]], np.float32), absolute), [[5.0, 1.0]]
    )


def test_config_round_trips_through_plain_json() -> None:
    config = NormalizationConfig(optical_scaling="fixed", optical_max=4095.0, elevation_scale_m=20.0)
    data = json.loads(json.dumps(config.to_dict()))
    assert data["version"] == 2 and data["elevation_clip"] == [-1.0, 5.0]
    assert NormalizationConfig.from_dict(data) == config


def test_config_from_dict_is_strict() -> None:
    data = NormalizationConfig().to_dict()
    with pytest.raises(ValueError, match="version"):
        NormalizationConfig.from_dict(data | {"version": 3})
    with pytest.raises(ValueError, match="unknown keys"):
        NormalizationConfig.from_dict(data | {"extra": 1})
    del data["ground_percentile"]
    with pytest.raises(ValueError, match=r"missing keys \['ground_percentile'\]"):
        NormalizationConfig.from_dict(data)


def test_version_1_configs_still_load_with_their_mode() -> None:
    data = NormalizationConfig(elevation_mode="local_ground").to_dict()
    del data["ground_block_px"], data["ground_radius_px"]
    config = NormalizationConfig.from_dict(data | {"version": 1})
    assert config.elevation_mode == "local_ground" and config.elevation_halo() == 0


def _town(seed: int, height: int, width: int) -> np.ndarray:
    """Sloping, undulating terrain 300 m up with flat-roofed buildings up to 70 px wide and some nodata."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    heights = 300.0 + 0.02 * y - 0.01 * x + np.sin(x / 40.0) + rng.normal(0, 0.05, (height, width))
    for _ in range(12):
        r, c = rng.integers(0, height), rng.integers(0, width)
        heights[r : r + rng.integers(10, 70), c : c + rng.integers(10, 70)] += rng.uniform(3, 15)
    heights[rng.random((height, width)) < 0.01] = np.nan
    return heights.astype(np.float32)


@pytest.mark.parametrize(
    ("row", "col", "rows", "cols"), [(0, 0, 64, 64), (37, 101, 90, 50), (250, 5, 50, 300)]
)
def test_ground_filter_tiles_see_what_the_whole_raster_sees(row: int, col: int, rows: int, cols: int) -> None:
    config = NormalizationConfig(ground_block_px=8, ground_radius_px=40)
    heights = _town(5, 300, 310)
    whole = normalize_elevation(heights, config)
    first_row, context_rows = config.elevation_context(row, rows, 300)
    first_col, context_cols = config.elevation_context(col, cols, 310)
    assert first_row % 8 == 0 and first_col % 8 == 0
    assert first_row <= max(row - config.elevation_halo(), 0) and first_row + context_rows >= row + rows
    context = heights[first_row : first_row + context_rows, first_col : first_col + context_cols]
    tile = normalize_elevation(context, config)[
        row - first_row : row - first_row + rows, col - first_col : col - first_col + cols
    ]
    np.testing.assert_allclose(tile, whole[row : row + rows, col : col + cols], atol=1e-6)
    too_small = normalize_elevation(heights[row : row + rows, col : col + cols], config)
    assert row + col == 0 or not np.allclose(too_small, tile, atol=1e-3)  # the halo matters


def test_ground_filter_follows_the_slope_under_buildings() -> None:
    y, x = np.mgrid[0:200, 0:200].astype(np.float32)
    terrain = 120.0 + 0.05 * y + 0.03 * x  # 5 % slope
    heights = terrain.copy()
    heights[60:120, 80:140] += 10.0  # a 60 px building
    config = NormalizationConfig(ground_block_px=8, ground_radius_px=48, elevation_scale_m=10.0)
    out = normalize_elevation(heights, config)
    assert np.median(out[70:110, 90:130]) == pytest.approx(1.0, abs=0.15)
    # Within the opening's radius of the raster's border the ground sags by up to slope × radius.
    assert np.abs(out[130:150, 48:140]).max() < 0.06 and np.abs(out[48:56, 48:140]).max() < 0.06


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ground_block_px": 0},
        {"ground_radius_px": -1},
        {"optical_scaling": "minmax"},
        {"optical_scaling": "fixed"},
        {"optical_percentiles": (90.0, 10.0)},
        {"elevation_mode": "ndsm"},
        {"ground_percentile": 120.0},
        {"elevation_scale_m": 0.0},
        {"elevation_clip": (1.0, 1.0)},
    ],
)
def test_invalid_configs_fail_at_construction(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        NormalizationConfig(**kwargs)


def test_valid_pixels_multiband_convention() -> None:
    data = np.ones((3, 2, 2), np.float32)
    data[:, 0, 0] = 0.0  # every band nodata: invalid
    data[0, 0, 1] = 0.0  # one band at the nodata value: still data
    data[2, 1, 1] = np.nan
    assert valid_pixels(data, nodata=0.0).tolist() == [[False, True], [True, False]]


def test_a_crop_is_the_crop_of_the_whole_window() -> None:
    config = NormalizationConfig(ground_block_px=8, ground_radius_px=40)
    heights = _town(6, 200, 230)
    crop = np.s_[37:150, 90:229]
    np.testing.assert_array_equal(
        normalize_elevation(heights, config, crop=crop), normalize_elevation(heights, config)[crop]
    )
