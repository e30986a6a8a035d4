"""segment_rasters: georeferenced streaming segmentation of real GeoTIFFs written for each test.

The agreement tests need class maps that depend on colour and height the way a trained model's do (a
random network paints nearly everything one class, which makes agreement trivially 100 %), so a tiny
fully-convolutional network is fitted for 60 steps on one small synthetic scene (seconds on a CPU) and
stands in for GeoFuseNet; the engine treats any ``network(optical, elevation) -> logits`` alike. A real
GeoFuseNet checkpoint goes through the same engine in tests/backend/test_segment_cli.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from rasterio.warp import Resampling, calculate_default_transform, reproject
from torch import nn

from geofuse.backend.checkpoint import ModelCard
from geofuse.backend.class_raster import BandDescriptions
from geofuse.backend.classes import IGNORE_INDEX
from geofuse.backend.data.normalize import normalize_elevation, normalize_optical
from geofuse.backend.data.synthetic import generate_scene, write_scene
from geofuse.backend.inference import (
    LoadedModel,
    SegmentationCancelled,
    SegmentationError,
    SegmentOptions,
    segment_rasters,
)
from geofuse.backend.models.network import ModelConfig

CARD = ModelCard(ModelConfig(variant="baseline"))


class TinyNet(nn.Module):
    """Three convolutions over optical ⊕ elevation: a 5-pixel receptive field, seconds to fit."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(4, 12, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(12, 12, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(12, 6, 1),
        )

    def forward(self, optical: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.cat([optical, elevation], dim=1))


@pytest.fixture(scope="module")
def fitted() -> LoadedModel:
    """TinyNet fitted on one 128² synthetic scene normalised like a training crop."""
    torch.manual_seed(0)
    scene = generate_scene(901, 128, 128)
    optical = torch.from_numpy(normalize_optical(scene.optical, CARD.normalization))[None]
    elevation = torch.from_numpy(normalize_elevation(scene.dsm[None], CARD.normalization))[None]
    target = torch.from_numpy(scene.labels.astype(np.int64))[None]
    network = TinyNet()
    optimiser = torch.optim.Adam(network.parameters(), lr=0.02)
    for _ in range(60):
        optimiser.zero_grad()
        nn.functional.cross_entropy(network(optical, elevation), target).backward()
        optimiser.step()
    return LoadedModel(network.eval(), CARD, torch.device("cpu"))


def write_pair(folder: Path, seed: int, size: int = 256) -> tuple[Path, Path, np.ndarray]:
    """A synthetic scene as GeoTIFFs in UTM 32N; returns optical, elevation paths and the labels."""
    scene = generate_scene(seed, size, size)
    optical, elevation = folder / f"optical_{seed}.tif", folder / f"elevation_{seed}.tif"
    write_scene(scene, optical, elevation, folder / f"labels_{seed}.tif")
    return optical, elevation, scene.labels


def read(path: Path) -> np.ndarray:
    with rasterio.open(path) as dataset:
        return dataset.read(1)


def test_fitted_stand_in_learned_the_scene(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, labels = write_pair(tmp_path, 902)
    result = segment_rasters(optical, elevation, tmp_path / "out.tif", fitted, SegmentOptions(tile=128))
    assert (read(result.output_path) == labels).mean() > 0.8


def test_tiled_1024_agrees_with_one_pass_and_keeps_the_optical_grid(
    fitted: LoadedModel, tmp_path: Path
) -> None:
    """Tiling and blending must not change the classes: the DSM's ground is estimated from a halo around
    every tile (``elevation_mode="ground_filter"``), so 512² tiles see what one pass over 1024² sees."""
    assert CARD.normalization.elevation_mode == "ground_filter"
    optical, elevation, _ = write_pair(tmp_path, 903, size=1024)
    model = fitted
    tiled = segment_rasters(
        optical, elevation, tmp_path / "tiled.tif", model, SegmentOptions(tile=512, overlap=64, batch_size=2)
    )
    whole = segment_rasters(optical, elevation, tmp_path / "whole.tif", model, SegmentOptions(tile=1024))
    assert tiled.tiles == 9 and whole.tiles == 1
    assert (read(tiled.output_path) == read(whole.output_path)).mean() >= 0.995
    with rasterio.open(optical) as source, rasterio.open(tiled.output_path) as output:
        assert (output.transform, output.crs, output.shape) == (source.transform, source.crs, source.shape)
        assert output.dtypes[0] == "uint8" and output.nodata == IGNORE_INDEX
        assert output.profile["tiled"] and output.profile["compress"] == "deflate"
        assert output.colormap(1)[1] == (0, 0, 255, 255)


def test_elevation_in_another_crs_gives_the_same_classes(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 904)
    geographic = tmp_path / "elevation_4326.tif"
    with rasterio.open(elevation) as source:
        transform, width, height = calculate_default_transform(
            source.crs, "EPSG:4326", source.width, source.height, *source.bounds
        )
        profile = {
            "driver": "GTiff",
            "count": 1,
            "dtype": "float32",
            "crs": "EPSG:4326",
            "transform": transform,
            "width": width,
            "height": height,
            "nodata": -9999.0,
        }
        with rasterio.open(geographic, "w", **profile) as target:
            reproject(
                rasterio.band(source, 1),
                rasterio.band(target, 1),
                resampling=Resampling.bilinear,
                dst_nodata=-9999.0,
            )
    options = SegmentOptions(tile=128, overlap=32)
    aligned = read(segment_rasters(optical, elevation, tmp_path / "a.tif", fitted, options).output_path)
    warped = read(segment_rasters(optical, geographic, tmp_path / "w.tif", fitted, options).output_path)
    assert (aligned == warped).mean() >= 0.98
    assert (warped == IGNORE_INDEX).mean() < 0.01


def test_nodata_and_nan_in_either_input_become_nodata(fitted: LoadedModel, tmp_path: Path) -> None:
    scene = generate_scene(905, 200, 240)
    scene.optical[:, 10:30, 20:60] = 0
    scene.dsm[100:120, 150:200] = np.nan
    optical, elevation = tmp_path / "o.tif", tmp_path / "e.tif"
    write_scene(scene, optical, elevation, tmp_path / "l.tif")
    with rasterio.open(optical, "r+") as dataset:
        dataset.nodata = 0
    result = segment_rasters(
        optical,
        elevation,
        tmp_path / "out.tif",
        fitted,
        SegmentOptions(tile=96, overlap=16, confidence_path=tmp_path / "conf.tif"),
    )
    labels, confidence = read(result.output_path), read(result.confidence_path)
    expected = np.zeros((200, 240), bool)
    expected[10:30, 20:60] = expected[100:120, 150:200] = True
    assert np.array_equal(labels == IGNORE_INDEX, expected)
    assert np.array_equal(np.isnan(confidence), expected)
    assert confidence[~expected].min() >= 1 / 6 - 1e-6 and confidence[~expected].max() <= 1 + 1e-6
    assert result.nodata_pixels == expected.sum()
    assert sum(area.pixels for area in result.classes) == (~expected).sum()
    assert sum(area.area_m2 for area in result.classes) == pytest.approx((~expected).sum() * 0.01)


def test_only_the_intersection_is_segmented(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 906)
    half = tmp_path / "half.tif"
    with rasterio.open(elevation) as source:
        profile = source.profile | {"width": 128, "tiled": False}
        profile.pop("blockxsize"), profile.pop("blockysize")
        with rasterio.open(half, "w", **profile) as target:
            target.write(source.read(1, window=((0, 256), (128, 256))), 1)
            target.transform = source.window_transform(((0, 256), (128, 256)))
    result = segment_rasters(optical, half, tmp_path / "out.tif", fitted, SegmentOptions(tile=128, overlap=0))
    labels = read(result.output_path)
    assert labels.shape == (256, 256)
    assert (labels[:, :128] == IGNORE_INDEX).all() and (labels[:, 128:] != IGNORE_INDEX).all()
    assert result.tiles == 2


def test_no_overlap_is_a_clear_error(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 907, size=64)
    moved = tmp_path / "moved.tif"
    with rasterio.open(elevation) as source:
        profile = source.profile | {"transform": source.transform * source.transform.translation(1000, 0)}
        with rasterio.open(moved, "w", **profile) as target:
            target.write(source.read())
    with pytest.raises(SegmentationError, match="does not overlap"):
        segment_rasters(optical, moved, tmp_path / "out.tif", fitted)
    assert not (tmp_path / "out.tif").exists()


def test_extent_crops_the_output_to_the_optical_grid(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 908, size=128)
    with rasterio.open(optical) as source:
        left, top = source.transform * (32, 16)
        right, bottom = source.transform * (96.5, 80)
        expected_transform = source.window_transform(((16, 80), (32, 97)))
    whole = read(segment_rasters(optical, elevation, tmp_path / "all.tif", fitted).output_path)
    result = segment_rasters(
        optical, elevation, tmp_path / "part.tif", fitted, SegmentOptions(extent=(left, bottom, right, top))
    )
    with rasterio.open(result.output_path) as output:
        assert output.shape == (64, 65) and output.transform == expected_transform
        assert (output.read(1) == whole[16:80, 32:97]).mean() > 0.95


def test_band_selection_dtypes_and_band_counts(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 909, size=96)
    reference = read(segment_rasters(optical, elevation, tmp_path / "ref.tif", fitted).output_path)
    with rasterio.open(optical) as source:
        rgb, profile = source.read(), source.profile | {"photometric": None}
    variants = {
        "bgr_uint8.tif": (rgb[::-1], "uint8", (3, 2, 1)),
        "uint16.tif": (rgb.astype(np.uint16) * 257, "uint16", None),
        "float.tif": (rgb.astype(np.float32) / 255, "float32", None),
        "rgbn.tif": (np.concatenate([rgb, rgb[:1]]), "uint8", None),
    }
    for name, (data, dtype, bands) in variants.items():
        with rasterio.open(tmp_path / name, "w", **profile | {"dtype": dtype, "count": len(data)}) as target:
            target.write(data)
        out = segment_rasters(
            tmp_path / name, elevation, tmp_path / f"out_{name}", fitted, SegmentOptions(optical_bands=bands)
        )
        assert (read(out.output_path) == reference).mean() > 0.999, name
    with rasterio.open(tmp_path / "two.tif", "w", **profile | {"count": 2}) as target:
        target.write(rgb[:2])
    with pytest.raises(SegmentationError, match="needs 3 optical bands"):
        segment_rasters(tmp_path / "two.tif", elevation, tmp_path / "x.tif", fitted)
    with pytest.raises(SegmentationError, match="do not exist"):
        segment_rasters(
            optical, elevation, tmp_path / "x.tif", fitted, SegmentOptions(optical_bands=(1, 2, 5))
        )
    with pytest.raises(SegmentationError, match="2 bands selected"):
        segment_rasters(optical, elevation, tmp_path / "x.tif", fitted, SegmentOptions(optical_bands=(1, 2)))
    with pytest.raises(SegmentationError, match="one band"):
        segment_rasters(optical, optical, tmp_path / "x.tif", fitted)


def test_overwrite_rules(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 910, size=64)
    output = tmp_path / "out.tif"
    first = segment_rasters(optical, elevation, output, fitted)
    assert first.qml_path == tmp_path / "out.qml" and first.qml_path.is_file()
    assert (tmp_path / "out.tif.aux.xml").is_file()
    with pytest.raises(SegmentationError, match="exists"):
        segment_rasters(optical, elevation, output, fitted)
    output.write_bytes(b"old")
    segment_rasters(optical, elevation, output, fitted, SegmentOptions(overwrite=True))
    assert read(output).shape == (64, 64)
    for target in (optical, elevation):
        with pytest.raises(SegmentationError, match="is an input"):
            segment_rasters(optical, elevation, target, fitted, SegmentOptions(overwrite=True))
    with pytest.raises(SegmentationError, match="written twice"):
        segment_rasters(
            optical, elevation, tmp_path / "n.tif", fitted, SegmentOptions(confidence_path=tmp_path / "n.tif")
        )


def test_cancel_and_errors_leave_nothing_behind(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 911, size=128)
    before = set(tmp_path.iterdir())
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    options = SegmentOptions(tile=64, overlap=16, confidence_path=tmp_path / "conf.tif")
    with pytest.raises(SegmentationCancelled):
        segment_rasters(optical, elevation, tmp_path / "out.tif", fitted, options, cancel=cancel)
    assert set(tmp_path.iterdir()) == before

    def broken(optical: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        segment_rasters(optical, elevation, tmp_path / "out.tif", LoadedModel(broken, CARD), options)
    assert set(tmp_path.iterdir()) == before


def test_cuda_out_of_memory_halves_the_batch_and_continues(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 912, size=160)
    batches: list[int] = []

    def flaky(optical: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
        batches.append(len(optical))
        if len(batches) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")
        return fitted.network(optical, elevation)

    options = SegmentOptions(tile=64, overlap=16, batch_size=4)
    result = segment_rasters(optical, elevation, tmp_path / "oom.tif", LoadedModel(flaky, CARD), options)
    plain = segment_rasters(optical, elevation, tmp_path / "plain.tif", fitted, options)
    assert batches[:2] == [3, 2] and max(batches[1:]) == 2
    assert result.batch_size == 2
    assert np.array_equal(read(result.output_path), read(plain.output_path))


def test_progress_reports_every_tile(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 913, size=128)
    seen = []
    segment_rasters(
        optical,
        elevation,
        tmp_path / "o.tif",
        fitted,
        SegmentOptions(tile=64, overlap=0),
        progress=seen.append,
    )
    assert [p.tiles_done for p in seen] == [1, 2, 3, 4]
    assert seen[-1].fraction == 1.0 and seen[-1].tiles_total == 4 and seen[-1].eta_s == 0.0


def test_missing_inputs_and_missing_model(tmp_path: Path) -> None:
    with pytest.raises(SegmentationError, match="not found"):
        segment_rasters(tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "c.tif")


def test_default_tile_is_512_or_the_training_crop_if_larger(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 903, size=640)
    small = replace(fitted, card=replace(fitted.card, training={"crop_size": 128}))
    large = replace(fitted, card=replace(fitted.card, training={"crop_size": 640}))

    assert segment_rasters(optical, elevation, tmp_path / "a.tif", small, SegmentOptions()).tiles == 4
    assert segment_rasters(optical, elevation, tmp_path / "b.tif", large, SegmentOptions()).tiles == 1


def test_polygon_mask_limits_the_output_to_the_polygons(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 905)
    with rasterio.open(optical) as source:
        left, top, res = source.bounds.left, source.bounds.top, source.res[0]
        whole_shape = source.shape
    # A 40 × 60 px rectangle and a triangle 100 px further right, in the optical CRS.
    square = [[left + 20 * res, top - 30 * res], [left + 80 * res, top - 30 * res],
              [left + 80 * res, top - 70 * res], [left + 20 * res, top - 70 * res]]  # fmt: skip
    triangle = [[left + 180 * res, top - 30 * res], [left + 200 * res, top - 30 * res],
                [left + 180 * res, top - 50 * res]]  # fmt: skip
    mask = tmp_path / "mask.geojson"
    mask.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                    for ring in (square + square[:1], triangle + triangle[:1])
                ],
            }
        )
    )
    options = SegmentOptions(tile=128, overlap=16)
    full = segment_rasters(optical, elevation, tmp_path / "full.tif", fitted, options)
    masked = segment_rasters(optical, elevation, tmp_path / "masked.tif", fitted, replace(options, mask=mask))
    with rasterio.open(masked.output_path) as output:
        labels = output.read(1)
        assert output.shape == (40, 180) and output.transform.c == left + 20 * res
        assert output.shape != whole_shape
    inside = labels != IGNORE_INDEX
    assert inside[:, :60].all() and not inside[:, 60:160].any()
    assert 150 < inside[:, 160:].sum() < 250  # the triangle: 20 × 20 / 2
    reference = read(full.output_path)[30:70, 20:200]
    assert (labels[inside] == reference[inside]).mean() > 0.99
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(SegmentationError, match="no polygons"):
        segment_rasters(optical, elevation, tmp_path / "none.tif", fitted, replace(options, mask=empty))
    assert not (tmp_path / "none.tif").exists()


def test_band_descriptions_are_the_callers(fitted: LoadedModel, tmp_path: Path) -> None:
    optical, elevation, _ = write_pair(tmp_path, 909, size=64)
    default = segment_rasters(optical, elevation, tmp_path / "en.tif", fitted)
    with rasterio.open(default.output_path) as output:
        assert output.descriptions == ("land-cover class",)
    german = BandDescriptions("Landbedeckungsklasse", "Konfidenz (höchste Softmax-Wahrscheinlichkeit)")
    options = SegmentOptions(confidence_path=tmp_path / "de_conf.tif", descriptions=german)
    result = segment_rasters(optical, elevation, tmp_path / "de.tif", fitted, options)
    with rasterio.open(result.output_path) as labels, rasterio.open(tmp_path / "de_conf.tif") as confidence:
        assert labels.descriptions == (german.classes,) and confidence.descriptions == (german.confidence,)
