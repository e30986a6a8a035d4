"""Folder dataset: layout checks, window reading, random crops, validation grid, strict labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from torch.utils.data import DataLoader

from geofuse.backend.classes import (
    IGNORE_INDEX,
    ClassInfo,
    UnknownColourError,
    UnknownLabelError,
    indices_to_colours,
    write_class_table,
)
from geofuse.backend.data.folder import (
    GridWindowDataset,
    RandomCropDataset,
    TileFiles,
    folder_tiles,
    grid_offsets,
    inspect_tile,
    read_window,
)
from geofuse.backend.data.normalize import NormalizationConfig, normalize_elevation, normalize_optical

CONFIG = NormalizationConfig()
TRANSFORM = Affine(0.1, 0.0, 500_000.0, 0.0, -0.1, 5_400_000.0)


def _write(path: Path, data: np.ndarray, transform: Affine = TRANSFORM, nodata: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = data if data.ndim == 3 else data[None]
    profile = {"driver": "GTiff", "count": data.shape[0], "height": data.shape[1], "width": data.shape[2]}
    with rasterio.open(
        path, "w", dtype=data.dtype, crs="EPSG:32632", transform=transform, nodata=nodata, **profile
    ) as dst:
        dst.write(data)
    return path


def _tile_arrays(seed: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    optical = rng.integers(0, 256, (3, height, width), dtype=np.uint8)
    elevation = (300.0 + rng.normal(0, 0.1, (height, width))).astype(np.float32)
    labels = rng.integers(0, 6, (height, width), dtype=np.uint8)
    elevation[labels == 1] += 8.0
    return optical, elevation, labels


def _folder(root: Path, sizes: dict[str, tuple[int, int]], colours: bool = False) -> dict[str, tuple]:
    arrays = {}
    for index, (name, (height, width)) in enumerate(sizes.items()):
        optical, elevation, labels = _tile_arrays(index, height, width)
        _write(root / "optical" / f"{name}.tif", optical)
        _write(root / "elevation" / f"{name}.tif", elevation)
        _write(root / "labels" / f"{name}.tif", indices_to_colours(labels) if colours else labels)
        arrays[name] = (optical, elevation, labels)
    return arrays


def test_windows_hold_the_normalised_pixels_of_the_tile(tmp_path: Path) -> None:
    arrays = _folder(tmp_path, {"a": (64, 80)})
    (tile,) = folder_tiles(tmp_path)
    sample = read_window(tile, inspect_tile(tile), 8, 16, 32, CONFIG)
    optical, elevation, labels = arrays["a"]
    assert sample["optical"].dtype == torch.float32 and sample["optical"].shape == (3, 32, 32)
    assert sample["elevation"].dtype == torch.float32 and sample["elevation"].shape == (1, 32, 32)
    assert sample["mask"].dtype == torch.int64 and sample["mask"].shape == (32, 32)
    window = (slice(8, 40), slice(16, 48))
    np.testing.assert_array_equal(
        sample["optical"].numpy(), normalize_optical(optical[:, window[0], window[1]], CONFIG)
    )
    # The ground is estimated with the context inference reads around a tile (here the whole tile), so a
    # training window holds what inference over the whole raster gives these pixels.
    expected = normalize_elevation(elevation[None], CONFIG)[(slice(None), *window)]
    np.testing.assert_allclose(sample["elevation"].numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(sample["mask"].numpy(), labels[window])
    # The 300 m offset is gone: ground is near 0, the 8 m "buildings" near 0.8.
    building = sample["mask"] == 1
    assert sample["elevation"][0][building].mean() == pytest.approx(0.8, abs=0.05)
    assert abs(float(sample["elevation"][0][~building].median())) < 0.05


def test_windows_reaching_past_the_tile_are_padded(tmp_path: Path) -> None:
    arrays = _folder(tmp_path, {"a": (64, 80)})
    (tile,) = folder_tiles(tmp_path)
    sample = read_window(tile, inspect_tile(tile), -8, 60, 32, CONFIG)
    optical, elevation, labels = arrays["a"]
    inside = (slice(8, 32), slice(0, 20))  # rows 0..24 and columns 60..80 of the tile
    outside = np.ones((32, 32), bool)
    outside[inside] = False
    assert (sample["mask"].numpy()[outside] == IGNORE_INDEX).all()
    assert (sample["optical"].numpy()[:, outside] == 0).all()
    assert (sample["elevation"].numpy()[0][outside] == 0).all()
    np.testing.assert_array_equal(
        sample["optical"].numpy()[:, inside[0], inside[1]],
        normalize_optical(optical[:, 0:24, 60:80], CONFIG),
    )
    np.testing.assert_array_equal(sample["mask"].numpy()[inside], labels[0:24, 60:80])
    expected = normalize_elevation(elevation[None], CONFIG)[0, 0:24, 60:80]
    np.testing.assert_allclose(sample["elevation"].numpy()[0][inside], expected, atol=1e-6)


def test_colour_labels_with_a_class_table_file(tmp_path: Path) -> None:
    classes = (ClassInfo(0, "ground", (10, 10, 10)), ClassInfo(1, "roof", (200, 50, 50)))
    write_class_table(classes, tmp_path / "classes.csv")
    labels = np.zeros((40, 40), np.uint8)
    labels[10:20, 5:30] = 1
    _write(tmp_path / "optical" / "t.tif", np.zeros((3, 40, 40), np.uint8))
    _write(tmp_path / "elevation" / "t.tif", np.zeros((40, 40), np.float32))
    _write(tmp_path / "labels" / "t.tif", indices_to_colours(labels, classes))
    (tile,) = folder_tiles(tmp_path)
    assert tile.label_colours and tile.classes == classes
    sample = GridWindowDataset([tile], 40, CONFIG)[0]
    np.testing.assert_array_equal(sample["mask"].numpy(), labels)


def test_unknown_colour_names_the_file_and_pixel(tmp_path: Path) -> None:
    _folder(tmp_path, {"t": (48, 48)}, colours=True)
    path = tmp_path / "labels" / "t.tif"
    with rasterio.open(path, "r+") as dst:
        data = dst.read()
        data[:, 40, 44] = (1, 2, 3)
        dst.write(data)
    (tile,) = folder_tiles(tmp_path)
    dataset = GridWindowDataset([tile], 32, CONFIG)
    assert dataset.windows == [(0, 0, 0), (0, 0, 16), (0, 16, 0), (0, 16, 16)]
    with pytest.raises(UnknownColourError, match=r"\(1, 2, 3\) at pixel \(row 40, col 44\)") as error:
        dataset[3]
    assert str(path) in str(error.value)
    dataset[0]  # a window without the bad pixel reads fine


def test_index_labels_out_of_range_are_refused(tmp_path: Path) -> None:
    _folder(tmp_path, {"t": (32, 32)})
    with rasterio.open(tmp_path / "labels" / "t.tif", "r+") as dst:
        data = dst.read()
        data[0, 3, 4] = 9
        dst.write(data)
    with pytest.raises(UnknownLabelError, match=r"value 9 at pixel \(row 3, col 4\)"):
        GridWindowDataset(folder_tiles(tmp_path), 32, CONFIG)[0]


def test_nodata_is_ignored(tmp_path: Path) -> None:
    optical, elevation, labels = _tile_arrays(0, 32, 32)
    elevation[:8] = -9999.0
    elevation[8:12] = 12.0  # absurdly low, valid: must set the ground
    labels[0, 0] = 250
    tile = TileFiles(
        "t",
        _write(tmp_path / "o.tif", optical),
        _write(tmp_path / "e.tif", elevation, nodata=-9999.0),
        _write(tmp_path / "l.tif", labels, nodata=250),
    )
    sample = GridWindowDataset([tile], 32, CONFIG)[0]
    assert (sample["elevation"][0, :8] == 0).all()
    assert sample["elevation"][0, 8:12].abs().max() < 0.01  # the ground is 12 m, not the -9999 nodata
    assert sample["elevation"][0, 20:].min() > 1.0
    assert sample["mask"][0, 0] == IGNORE_INDEX


def test_tiles_smaller_than_the_window_are_padded(tmp_path: Path) -> None:
    arrays = _folder(tmp_path, {"small": (20, 24)})
    dataset = RandomCropDataset(folder_tiles(tmp_path), 32, 4, CONFIG, augment=False)
    sample = dataset[0]
    assert sample["mask"].shape == (32, 32)
    np.testing.assert_array_equal(sample["mask"][:20, :24].numpy(), arrays["small"][2])
    assert (sample["mask"][20:] == IGNORE_INDEX).all() and (sample["mask"][:, 24:] == IGNORE_INDEX).all()
    assert (sample["optical"][:, 20:] == 0).all() and (sample["elevation"][:, :, 24:] == 0).all()


def test_random_crops_are_reproducible_per_epoch_and_index(tmp_path: Path) -> None:
    _folder(tmp_path, {"a": (96, 96), "b": (64, 128)})
    tiles = folder_tiles(tmp_path)
    dataset = RandomCropDataset(tiles, 32, 16, CONFIG, seed=3)
    again = RandomCropDataset(tiles, 32, 16, CONFIG, seed=3)
    assert len(dataset) == 16
    for index in (0, 5):
        for key in ("optical", "elevation", "mask"):
            assert torch.equal(dataset[index][key], again[index][key])
    first = dataset[0]["optical"]
    dataset.set_epoch(1)
    assert not torch.equal(dataset[0]["optical"], first)
    with pytest.raises(IndexError):
        dataset[16]


def test_augmentation_moves_all_entries_together(tmp_path: Path) -> None:
    optical, elevation, labels = _tile_arrays(0, 32, 32)
    optical[0] = labels * 40  # the first band encodes the label
    tile = TileFiles(
        "t",
        _write(tmp_path / "o.tif", optical),
        _write(tmp_path / "e.tif", elevation),
        _write(tmp_path / "l.tif", labels),
    )
    dataset = RandomCropDataset([tile], 32, 8, CONFIG, seed=1)
    changed = False
    for index in range(8):
        sample = dataset[index]
        np.testing.assert_allclose(sample["optical"][0].numpy() * 255 / 40, sample["mask"].numpy(), atol=1e-4)
        changed |= not np.array_equal(sample["mask"].numpy(), labels)
    assert changed


def test_grid_covers_every_pixel_and_loads_in_batches(tmp_path: Path) -> None:
    arrays = _folder(tmp_path, {"a": (50, 70), "b": (32, 32)})
    dataset = GridWindowDataset(folder_tiles(tmp_path), 32, CONFIG, stride=24)
    assert grid_offsets(70, 32, 24) == [0, 24, 38]
    assert grid_offsets(20, 32, 24) == [0]
    covered = np.zeros((50, 70), int)
    for tile_index, row, col in dataset.windows:
        if tile_index == 0:
            covered[row : row + 32, col : col + 32] += 1
            sample = dataset[dataset.windows.index((tile_index, row, col))]
            np.testing.assert_array_equal(
                sample["mask"].numpy(), arrays["a"][2][row : row + 32, col : col + 32]
            )
    assert covered.min() >= 1
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    assert batch["optical"].shape == (4, 3, 32, 32) and batch["mask"].shape == (4, 32, 32)


def test_folder_layout_errors(tmp_path: Path) -> None:
    (tmp_path / "optical").mkdir()
    (tmp_path / "labels").mkdir()
    with pytest.raises(FileNotFoundError, match=r"missing .*elevation"):
        folder_tiles(tmp_path)
    _folder(tmp_path, {"a": (16, 16), "b": (16, 16)})
    (tmp_path / "elevation" / "b.tif").unlink()
    (tmp_path / "labels" / "a.tif").unlink()
    with pytest.raises(FileNotFoundError, match=r"a \(missing labels/a.tif\); b \(missing elevation/b.tif\)"):
        folder_tiles(tmp_path)


def test_tiles_that_do_not_fit_together_are_refused(tmp_path: Path) -> None:
    optical, elevation, labels = _tile_arrays(0, 64, 64)
    optical_path = _write(tmp_path / "o.tif", optical)
    elevation_path = _write(tmp_path / "e.tif", elevation)
    short_labels = _write(tmp_path / "short.tif", labels[:60])
    with pytest.raises(ValueError, match=r"labels .* are 60×64"):
        inspect_tile(TileFiles("t", optical_path, elevation_path, short_labels))
    shifted = _write(tmp_path / "shifted.tif", elevation, transform=TRANSFORM * Affine.translation(5, 0))
    with pytest.raises(ValueError, match="not on the grid"):
        inspect_tile(TileFiles("t", optical_path, shifted, _write(tmp_path / "l.tif", labels)))
    with pytest.raises(ValueError, match="bands"):
        inspect_tile(TileFiles("t", optical_path, elevation_path, tmp_path / "l.tif", optical_bands=(4,)))
    with pytest.raises(ValueError, match="colour labels need 3"):
        inspect_tile(TileFiles("t", optical_path, elevation_path, tmp_path / "l.tif", label_colours=True))


def test_slightly_smaller_elevation_is_padded_as_nodata(tmp_path: Path) -> None:
    optical, elevation, labels = _tile_arrays(0, 64, 64)
    tile = TileFiles(
        "t",
        _write(tmp_path / "o.tif", optical),
        _write(tmp_path / "e.tif", elevation[:63, :62]),
        _write(tmp_path / "l.tif", labels),
    )
    sample = GridWindowDataset([tile], 64, CONFIG)[0]
    assert (sample["elevation"][0, 63] == 0).all() and (sample["elevation"][0, :, 62:] == 0).all()
    assert (sample["mask"] != IGNORE_INDEX).all()
