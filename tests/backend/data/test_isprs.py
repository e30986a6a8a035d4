"""ISPRS Vaihingen and Potsdam from miniature downloads in every layout (see ``conftest.py``): listing,
reading, missing-file messages, splits, and the card facts of a run."""

from __future__ import annotations

import pickle
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from isprs_miniature import LAYOUTS, NARROW_NDSM, POTSDAM_SIZE, scene
from rasterio.errors import NotGeoreferencedWarning

from geofuse.backend.classes import IGNORE_INDEX, UnknownColourError
from geofuse.backend.data.folder import GridWindowDataset, RandomCropDataset, open_raster
from geofuse.backend.data.isprs import (
    SPLITS,
    potsdam_tiles,
    select_tiles,
    split_tiles,
    vaihingen_tiles,
)
from geofuse.backend.data.isprs_run import isprs_run_data
from geofuse.backend.data.normalize import NormalizationConfig

CONFIG = NormalizationConfig()
Layout = Callable[[str, str], Path]


def test_splits() -> None:
    vaihingen, potsdam = SPLITS["vaihingen"], SPLITS["potsdam"]
    bench = vaihingen["benchmark"]
    assert len(bench["train"]) == 16 and len(bench["test"]) == 17
    assert {int(a) for a in (*bench["train"], *bench["test"])} == {*range(1, 39)} - {9, 18, 19, 25, 36}
    fusion = vaihingen["fusion-papers"]
    assert sorted(map(int, fusion["train"])) == [1, 3, 7, 11, 13, 17, 23, 26, 28, 32, 34, 37]
    assert sorted(map(int, fusion["test"])) == [5, 15, 21, 30]
    assert len(potsdam["benchmark"]["train"]) == 24 and len(potsdam["benchmark"]["test"]) == 14
    assert len(potsdam["fusion-papers"]["train"]) == 18
    assert set(potsdam["fusion-papers"]["test"]) == {"4_10", "5_11", "2_11", "3_10", "6_11", "7_12"}
    for dataset in SPLITS.values():
        for split in dataset.values():
            assert not set(split["train"]) & set(split["test"])
    with pytest.raises(ValueError, match=r"data\.split"):
        split_tiles("vaihingen", "papers", "train")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_vaihingen_reads_from_every_layout(isprs_layout: Layout, layout: str) -> None:
    root = isprs_layout("vaihingen", layout)
    selection = select_tiles("vaihingen", root, ["3", "area5"])
    assert selection.tile_ids == ("3", "5") and selection.optical_bands == ("IR", "R", "G")
    assert selection.optical_source == "ISPRS_semantic_labeling_Vaihingen"
    tile = selection.tiles[1]
    assert tile.name == "vaihingen_area5"
    assert str(tile.labels).startswith("/vsizip/") == (layout == "zips")
    optical, _, labels = scene(5, 40 + 5 % 3 * 4, 36 + 5 % 5 * 2)
    sample = GridWindowDataset([tile], 64, CONFIG)[0]
    height, width = labels.shape
    np.testing.assert_array_equal(sample["mask"].numpy()[:height, :width], labels)
    np.testing.assert_allclose(
        sample["optical"].numpy()[:, :height, :width], optical[[3, 0, 1]] / 255.0, rtol=1e-6
    )
    roofs = sample["mask"][:height, :width] == 1
    assert sample["elevation"][0, :height, :width][roofs].mean() > 0.8  # 10 m above ground, /10 m


@pytest.mark.parametrize("layout", LAYOUTS)
def test_potsdam_reads_from_every_layout(isprs_layout: Layout, layout: str) -> None:
    root = isprs_layout("potsdam", layout)
    selection = select_tiles("potsdam", root, ["2_10", "6_7"], optical="RGBIR")
    tile = selection.tiles[1]
    if layout == "zips":  # a zip inside a zip: read in place, nothing extracted
        assert str(tile.optical).startswith("/vsizip/{/vsizip/{")
        assert not any(path.suffix == ".tif" for path in root.rglob("*"))
    assert tile.elevation.name == "dsm_potsdam_06_07.tif"
    index = [*SPLITS["potsdam"]["benchmark"]["train"]].index("6_7")
    optical, _, labels = scene(100 + index, POTSDAM_SIZE, POTSDAM_SIZE)
    sample = GridWindowDataset([tile], POTSDAM_SIZE, CONFIG)[0]
    np.testing.assert_array_equal(sample["mask"].numpy(), labels)
    np.testing.assert_allclose(sample["optical"].numpy(), optical / 255.0, rtol=1e-6)


def test_potsdam_root_may_be_the_zip_itself(isprs_layout: Layout) -> None:
    root = isprs_layout("potsdam", "zips") / "Potsdam.zip"
    (tile,) = potsdam_tiles(root, tile_ids=["7_7"], elevation="ndsm")
    with open_raster(tile.elevation) as dataset:
        assert dataset.dtypes == ("uint8",) and dataset.count == 1


@pytest.mark.parametrize(
    ("remove", "source", "bands"), [(None, "3_Ortho_IRRG", None), ("3", "4_Ortho_RGBIR", (4, 1, 2))]
)
def test_potsdam_irrg_from_3_ortho_irrg_or_rgbir(
    isprs_layout: Layout, remove: str | None, source: str, bands: tuple | None
) -> None:
    root = isprs_layout("potsdam", "arranged")
    if remove:
        for path in (root / "3_Ortho_IRRG").iterdir():
            path.unlink()
    selection = select_tiles("potsdam", root, ["6_8"], optical="IRRG")
    assert selection.optical_source.startswith(source) and selection.tiles[0].optical_bands == bands
    index = [*SPLITS["potsdam"]["benchmark"]["train"]].index("6_8")
    optical = scene(100 + index, POTSDAM_SIZE, POTSDAM_SIZE)[0]
    sample = GridWindowDataset(selection.tiles, POTSDAM_SIZE, CONFIG)[0]
    np.testing.assert_allclose(sample["optical"].numpy(), optical[[3, 0, 1]] / 255.0, rtol=1e-6)


def test_potsdam_narrow_ndsm_jpeg(isprs_layout: Layout) -> None:
    root = isprs_layout("potsdam", "zips")
    (tile,) = potsdam_tiles(root, tile_ids=[NARROW_NDSM], elevation="ndsm")
    with open_raster(tile.elevation) as dataset:
        assert (dataset.width, dataset.height) == (POTSDAM_SIZE - 1, POTSDAM_SIZE)
    ndsm = NormalizationConfig(elevation_mode="absolute", elevation_scale_m=255.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotGeoreferencedWarning)
        sample = GridWindowDataset([tile], POTSDAM_SIZE, ndsm)[0]
    roofs = sample["mask"] == 1
    assert (sample["elevation"][0, :, -1] == 0).all()  # the missing column is padding
    assert sample["elevation"][0][roofs].mean() > 0.5 and sample["elevation"][0][~roofs].mean() < 0.1


def test_eroded_labels_ignore_boundaries(isprs_layout: Layout) -> None:
    root = isprs_layout("vaihingen", "unzipped")
    (tile,) = vaihingen_tiles(root, "test", eroded=True, areas=(2,))
    labels = scene(2, 40 + 2 % 3 * 4, 36 + 2 % 5 * 2)[2]
    mask = GridWindowDataset([tile], 64, CONFIG)[0]["mask"].numpy()[: labels.shape[0], : labels.shape[1]]
    assert (mask[:, ::7] == IGNORE_INDEX).all()
    kept = np.ones_like(mask, bool)
    kept[:, ::7] = False
    np.testing.assert_array_equal(mask[kept], labels[kept])


def test_missing_test_labels_name_their_archive_and_what_was_found(isprs_layout: Layout) -> None:
    root = isprs_layout("vaihingen", "zips")
    (root / "ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE.zip").unlink()
    assert len(vaihingen_tiles(root, "train")) == 16  # gts_for_participants has the training areas
    with pytest.raises(FileNotFoundError) as error:
        vaihingen_tiles(root, "test")
    message = str(error.value)
    assert "the labels of 17 tile(s)" in message
    assert "ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE.zip" in message
    assert "found 0 of 17" in message
    assert "ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE.zip: 33 tile(s)" in message
    assert "data.eroded = true" in message


def test_missing_optical_names_both_sources_and_the_alternative(isprs_layout: Layout) -> None:
    root = isprs_layout("potsdam", "unzipped")
    for folder in ("3_Ortho_IRRG", "4_Ortho_RGBIR"):
        for path in (root / "Potsdam" / folder).iterdir():
            if "2_1" in path.name:
                path.unlink()
    with pytest.raises(FileNotFoundError) as error:
        potsdam_tiles(root, optical="IRRG")
    message = str(error.value)
    assert "3_Ortho_IRRG.zip (top_potsdam_a_b_IRRG.tif): found 21 of 24; missing 2_10, 2_11, 2_12" in message
    assert "4_Ortho_RGBIR.zip" in message and "2_Ortho_RGB.zip: 38 tile(s)" in message
    assert 'data.potsdam_optical = "RGB"' in message
    with pytest.raises(ValueError, match="optical"):
        potsdam_tiles(root, optical="NIR")
    with pytest.raises(ValueError, match="elevation"):
        potsdam_tiles(root, elevation="lidar")


def test_an_empty_root_says_what_it_found(tmp_path: Path) -> None:
    (tmp_path / "notes.zip").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    with pytest.raises(FileNotFoundError, match=r"found instead: 2 file\(s\).*archives: notes.zip"):
        vaihingen_tiles(tmp_path, areas=[1])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        vaihingen_tiles(tmp_path / "absent")


def test_unknown_label_colour_is_an_error_when_read(isprs_layout: Layout) -> None:
    root = isprs_layout("vaihingen", "arranged")
    path = root / "gts_for_participants" / "top_mosaic_09cm_area1.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        dst = rasterio.open(path, "r+")
    with dst:
        data = dst.read()
        data[:, 20, 30] = (0, 0, 0)  # black is only valid in the eroded references
        dst.write(data)
    dataset = RandomCropDataset(vaihingen_tiles(root, areas=(1,)), 64, 1, CONFIG, augment=False)
    with pytest.raises(UnknownColourError, match=r"\(0, 0, 0\) at pixel \(row 20, col 30\)"):
        dataset[0]


def test_run_data_holds_out_validation_tiles_and_records_the_split(isprs_layout: Layout) -> None:
    root = isprs_layout("vaihingen", "zips")
    run = isprs_run_data("vaihingen", root, split="fusion-papers", val_tiles=[7])
    assert run.summary["train_tiles"] == ["1", "3", "23", "26", "11", "13", "28", "17", "32", "34", "37"]
    assert run.val is not None and run.val.tile_ids == ("7",)
    assert run.summary["test_tiles"] == ["5", "21", "15", "30"] and run.summary["split"] == "fusion-papers"
    assert run.gsd_m == 0.09 and run.optical_bands == ("IR", "R", "G")
    assert run.summary["gsd_source"] == "benchmark"
    default = isprs_run_data("vaihingen", root)
    assert default.val is not None and default.val.tile_ids == ("7", "34")
    assert len(default.train.tiles) == 14
    assert isprs_run_data("vaihingen", root, val_tiles=[]).val is None
    with pytest.raises(ValueError, match="never uses the test split"):
        isprs_run_data("vaihingen", root, split="fusion-papers", val_tiles=[5])


def test_contradicting_overrides_warn(isprs_layout: Layout) -> None:
    root = isprs_layout("potsdam", "arranged")
    with pytest.warns(UserWarning) as caught:
        run = isprs_run_data(
            "potsdam",
            root,
            elevation="ndsm",
            gsd_m=0.1,
            normalization={"elevation_mode": "ground_filter"},
        )
    messages = " | ".join(str(w.message) for w in caught)
    assert "data.gsd_m = 0.1 contradicts the benchmark's 0.05 m" in messages
    assert "elevation_mode = 'ground_filter' contradicts Potsdam's 8-bit nDSM" in messages
    assert run.gsd_m == 0.1 and run.summary["elevation"] == "ndsm"
    assert run.summary["elevation_source"] == "1_DSM_normalisation"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        isprs_run_data("potsdam", root, elevation="ndsm", normalization={"elevation_scale_m": 255.0})


def test_rasters_in_zips_stay_open_per_process(isprs_layout: Layout) -> None:
    root = isprs_layout("potsdam", "zips")
    tiles = potsdam_tiles(root, tile_ids=["2_10", "6_7"])
    dataset = RandomCropDataset(tiles, 16, 8, CONFIG)
    first = [dataset[i]["mask"] for i in range(8)]
    assert len(dataset.rasters._open) == 6 and dataset.rasters.limit == 6
    copy = pickle.loads(pickle.dumps(dataset))  # as a DataLoader worker gets it
    assert not copy.rasters._open
    assert all(torch.equal(a, copy[i]["mask"]) for i, a in enumerate(first))
    small = RandomCropDataset(tiles, 16, 8, CONFIG)
    small.rasters.limit = 2
    small[0], small[1]
    assert len(small.rasters._open) == 2 and all(not d.closed for d in small.rasters._open.values())
