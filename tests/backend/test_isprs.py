"""ISPRS Vaihingen and Potsdam loaders against tiny fixtures written in the benchmark's file layout."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning

from geofuse.backend.classes import IGNORE_INDEX, UnknownColourError, indices_to_colours
from geofuse.backend.data.folder import GridWindowDataset, RandomCropDataset
from geofuse.backend.data.isprs import POTSDAM_SPLITS, VAIHINGEN_SPLITS, potsdam_tiles, vaihingen_tiles
from geofuse.backend.data.normalize import NormalizationConfig

SIZE = 64
CONFIG = NormalizationConfig()


def _write(path: Path, data: np.ndarray, driver: str = "GTiff") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = data if data.ndim == 3 else data[None]
    georef = {"crs": "EPSG:32632", "transform": Affine(0.09, 0, 496_000.0, 0, -0.09, 5_420_000.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path,
            "w",
            driver=driver,
            count=data.shape[0],
            height=data.shape[1],
            width=data.shape[2],
            dtype=data.dtype,
            **(georef if driver == "GTiff" else {}),
        ) as dst:
            dst.write(data)


def _scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(optical 4×H×W with IR as band 4, DSM, labels): buildings 10 m above a 265 m ground."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 6, (SIZE, SIZE), dtype=np.uint8)
    optical = rng.integers(0, 256, (4, SIZE, SIZE), dtype=np.uint8)
    dsm = (265.0 + rng.normal(0, 0.05, (SIZE, SIZE)) + 10.0 * (labels == 1)).astype(np.float32)
    return optical, dsm, labels


def _vaihingen(root: Path, areas: tuple[int, ...], eroded: bool = False) -> dict[int, tuple]:
    scenes = {}
    for area in areas:
        optical, dsm, labels = _scene(area)
        _write(root / "top" / f"top_mosaic_09cm_area{area}.tif", optical[[3, 0, 1]])  # IRRG
        _write(root / "dsm" / f"dsm_09cm_matching_area{area}.tif", dsm)
        _write(root / "gts_for_participants" / f"top_mosaic_09cm_area{area}.tif", indices_to_colours(labels))
        if eroded:
            colours = indices_to_colours(labels)
            colours[:, :, ::7] = 0  # black boundary pixels in every 7th column
            _write(
                root / "gts_eroded_for_participants" / f"top_mosaic_09cm_area{area}_noBoundary.tif", colours
            )
        scenes[area] = (optical, dsm, labels)
    return scenes


def _potsdam(root: Path, tile_ids: tuple[str, ...]) -> dict[str, tuple]:
    scenes = {}
    for index, tile_id in enumerate(tile_ids):
        a, b = (int(part) for part in tile_id.split("_"))
        optical, dsm, labels = _scene(100 + index)
        _write(root / "2_Ortho_RGB" / f"top_potsdam_{tile_id}_RGB.tif", optical[:3])
        _write(root / "4_Ortho_RGBIR" / f"top_potsdam_{tile_id}_RGBIR.tif", optical)
        _write(root / "1_DSM" / f"dsm_potsdam_{a:02d}_{b:02d}.tif", dsm)
        ndsm = np.clip((dsm - 265.0) * 10, 0, 255).astype(np.uint8)
        _write(
            root / "1_DSM_normalisation" / f"dsm_potsdam_{a:02d}_{b:02d}_normalized_lastools.jpg",
            ndsm,
            "JPEG",
        )
        _write(root / "5_Labels_all" / f"top_potsdam_{tile_id}_label.tif", indices_to_colours(labels))
        scenes[tile_id] = (optical, dsm, labels)
    return scenes


def test_standard_splits() -> None:
    assert len(VAIHINGEN_SPLITS["train"]) == 16 and len(VAIHINGEN_SPLITS["test"]) == 17
    assert set(VAIHINGEN_SPLITS["train"]) | set(VAIHINGEN_SPLITS["test"]) == {*range(1, 39)} - {
        9, 18, 19, 25, 36,
    }  # fmt: skip
    assert len(POTSDAM_SPLITS["train"]) == 24 and len(POTSDAM_SPLITS["test"]) == 14
    assert not set(POTSDAM_SPLITS["train"]) & set(POTSDAM_SPLITS["test"])
    assert "7_10" in POTSDAM_SPLITS["train"] and "4_15" in POTSDAM_SPLITS["test"]


def test_vaihingen_windows_hold_irrg_dsm_and_labels(tmp_path: Path) -> None:
    scenes = _vaihingen(tmp_path, (1, 3))
    tiles = vaihingen_tiles(tmp_path, "train", areas=(1, 3))
    assert [tile.name for tile in tiles] == ["vaihingen_area1", "vaihingen_area3"]
    dataset = GridWindowDataset(tiles, 32, CONFIG)
    assert len(dataset) == 8
    sample = dataset[5]  # area 3, window at (0, 32)
    optical, _, labels = scenes[3]
    np.testing.assert_array_equal(sample["mask"].numpy(), labels[:32, 32:])
    np.testing.assert_allclose(sample["optical"].numpy(), optical[[3, 0, 1], :32, 32:] / 255.0, rtol=1e-6)
    roofs = sample["mask"] == 1
    assert sample["elevation"][0][roofs].mean() == pytest.approx(1.0, abs=0.05)  # 10 m above ground / 10 m
    assert sample["elevation"][0][~roofs].abs().max() < 0.05  # the 265 m offset is gone


def test_vaihingen_random_crops(tmp_path: Path) -> None:
    _vaihingen(tmp_path, (1, 3))
    dataset = RandomCropDataset(vaihingen_tiles(tmp_path, areas=(1, 3)), 48, 6, CONFIG, seed=0)
    batch = torch.utils.data.default_collate([dataset[i] for i in range(len(dataset))])
    assert batch["optical"].shape == (6, 3, 48, 48) and batch["elevation"].shape == (6, 1, 48, 48)
    assert batch["mask"].dtype == torch.int64 and int(batch["mask"].max()) <= 5


def test_vaihingen_eroded_labels_ignore_boundaries(tmp_path: Path) -> None:
    scenes = _vaihingen(tmp_path, (2,), eroded=True)
    (tile,) = vaihingen_tiles(tmp_path, "test", eroded=True, areas=(2,))
    mask = GridWindowDataset([tile], SIZE, CONFIG)[0]["mask"].numpy()
    assert (mask[:, ::7] == IGNORE_INDEX).all()
    kept = np.ones_like(mask, bool)
    kept[:, ::7] = False
    np.testing.assert_array_equal(mask[kept], scenes[2][2][kept])


def test_vaihingen_missing_files_are_listed(tmp_path: Path) -> None:
    _vaihingen(tmp_path, (1, 3))
    (tmp_path / "dsm" / "dsm_09cm_matching_area3.tif").unlink()
    with pytest.raises(FileNotFoundError) as error:
        vaihingen_tiles(tmp_path, "train")
    message = str(error.value)
    assert "ISPRS Vaihingen" in message and "43 expected file(s) missing" in message
    assert str(tmp_path / "dsm" / "dsm_09cm_matching_area3.tif") in message
    assert str(tmp_path / "top" / "top_mosaic_09cm_area37.tif") in message or "more" in message
    with pytest.raises(FileNotFoundError, match="gts_eroded_for_participants"):
        vaihingen_tiles(tmp_path, eroded=True, areas=(1,))
    with pytest.raises(ValueError, match="split"):
        vaihingen_tiles(tmp_path, "val")


def test_vaihingen_unknown_label_colour_is_an_error(tmp_path: Path) -> None:
    _vaihingen(tmp_path, (1,))
    path = tmp_path / "gts_for_participants" / "top_mosaic_09cm_area1.tif"
    with rasterio.open(path, "r+") as dst:
        data = dst.read()
        data[:, 50, 60] = (0, 0, 0)  # black is only valid in the eroded references
        dst.write(data)
    dataset = GridWindowDataset(vaihingen_tiles(tmp_path, areas=(1,)), 32, CONFIG)
    with pytest.raises(UnknownColourError, match=r"\(0, 0, 0\) at pixel \(row 50, col 60\)"):
        dataset[3]


@pytest.mark.parametrize(
    ("optical", "bands"), [("RGB", [0, 1, 2]), ("RGBIR", [0, 1, 2, 3]), ("IRRG", [3, 0, 1])]
)
def test_potsdam_optical_choices(tmp_path: Path, optical: str, bands: list[int]) -> None:
    scenes = _potsdam(tmp_path, ("2_10", "6_7"))
    tiles = potsdam_tiles(tmp_path, "train", optical=optical, tile_ids=("2_10", "6_7"))
    assert tiles[1].elevation.name == "dsm_potsdam_06_07.tif"
    sample = GridWindowDataset(tiles, SIZE, CONFIG)[1]
    expected_optical, _, labels = scenes["6_7"]
    np.testing.assert_allclose(sample["optical"].numpy(), expected_optical[bands] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(sample["mask"].numpy(), labels)


def test_potsdam_normalised_dsm_jpegs(tmp_path: Path) -> None:
    _potsdam(tmp_path, ("3_13",))
    ndsm_config = NormalizationConfig(elevation_mode="absolute", elevation_scale_m=100.0)
    (tile,) = potsdam_tiles(tmp_path, "test", elevation="ndsm", tile_ids=("3_13",))
    assert tile.elevation.name == "dsm_potsdam_03_13_normalized_lastools.jpg"
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotGeoreferencedWarning)
        sample = GridWindowDataset([tile], SIZE, ndsm_config)[0]
    roofs = sample["mask"] == 1
    assert sample["elevation"][0][roofs].mean() > 0.8 and sample["elevation"][0][~roofs].mean() < 0.3


def test_potsdam_missing_files_and_bad_choices(tmp_path: Path) -> None:
    _potsdam(tmp_path, ("2_10",))
    with pytest.raises(FileNotFoundError) as error:
        potsdam_tiles(tmp_path, "train", eroded=True, tile_ids=("2_10", "2_11"))
    message = str(error.value)
    assert "ISPRS Potsdam" in message and "4 expected file(s) missing" in message
    assert str(tmp_path / "5_Labels_all_noBoundary" / "top_potsdam_2_10_label_noBoundary.tif") in message
    assert str(tmp_path / "1_DSM" / "dsm_potsdam_02_11.tif") in message
    with pytest.raises(ValueError, match="optical"):
        potsdam_tiles(tmp_path, optical="NIR")
    with pytest.raises(ValueError, match="elevation"):
        potsdam_tiles(tmp_path, elevation="lidar")
