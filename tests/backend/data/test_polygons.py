"""Training labels from polygons: reading any OGR format and CRS, rasterising on the optical grid, class
matching, overlaps, class-balanced crops, and one clear error per kind of bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import fiona
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import transform as transform_points

from geofuse.backend.classes import IGNORE_INDEX, ISPRS_CLASSES
from geofuse.backend.data.normalize import NormalizationConfig
from geofuse.backend.data.polygons import (
    PolygonCropDataset,
    PolygonError,
    PolygonSource,
    load_polygon_labels,
    match_classes,
    open_pair,
    rasterize_window,
)

CRS = "EPSG:32632"
GSD = 0.2
ORIGIN = Affine(GSD, 0.0, 500_000.0, 0.0, -GSD, 5_400_000.0)
SIZE = 96


def write_pair(
    folder: Path, elevation_transform: Affine = ORIGIN, elevation_size: int = SIZE
) -> tuple[Path, Path]:
    """A 96² uint8 RGB optical raster and a DSM (by default on the same grid) in UTM 32N."""
    optical, elevation = folder / "optical.tif", folder / "elevation.tif"
    rng = np.random.default_rng(0)
    common = {"driver": "GTiff", "crs": CRS}
    with rasterio.open(
        optical, "w", height=SIZE, width=SIZE, count=3, dtype="uint8", transform=ORIGIN, **common
    ) as dst:
        dst.write(rng.integers(0, 255, (3, SIZE, SIZE), dtype=np.uint8))
    with rasterio.open(
        elevation,
        "w",
        height=elevation_size,
        width=elevation_size,
        count=1,
        dtype="float32",
        transform=elevation_transform,
        **common,
    ) as dst:
        dst.write(rng.normal(300.0, 1.0, (1, elevation_size, elevation_size)).astype(np.float32))
    return optical, elevation


def pixel_square(row: int, col: int, side: int) -> list[tuple[float, float]]:
    """The ring of the square of pixels [row, row+side) × [col, col+side) in map coordinates."""
    x0, y0 = ORIGIN * (col, row)
    x1, y1 = ORIGIN * (col + side, row + side)
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


def write_polygons(
    path: Path,
    features: list[tuple[object, list[tuple[float, float]]]],
    crs: str = CRS,
    driver: str = "GPKG",
    field_type: str = "str",
    geometry: str = "Polygon",
) -> Path:
    """A vector file with one class field ``class`` and the given (value, ring) features."""
    schema = {"geometry": geometry, "properties": {"class": field_type}}
    with fiona.open(path, "w", driver=driver, crs=crs, schema=schema) as sink:
        for value, ring in features:
            if geometry == "Polygon":
                shape = {"type": "Polygon", "coordinates": [ring]}
            elif geometry == "Point":
                shape = {"type": "Point", "coordinates": ring[0]}
            else:
                shape = {"type": "LineString", "coordinates": ring}
            sink.write({"geometry": shape, "properties": {"class": value}})
    return path


def labels_of(path: Path, optical: Path, field: str = "class") -> np.ndarray:
    loaded = load_polygon_labels(PolygonSource(str(path), field), optical, ISPRS_CLASSES)
    return rasterize_window(loaded.polygons, ORIGIN, 0, 0, SIZE, SIZE)[0]


@pytest.mark.parametrize(
    ("driver", "suffix"), [("GPKG", ".gpkg"), ("GeoJSON", ".geojson"), ("ESRI Shapefile", ".shp")]
)
def test_each_format_and_a_geographic_crs_land_on_the_same_pixels(
    tmp_path: Path, driver: str, suffix: str
) -> None:
    optical, _ = write_pair(tmp_path)
    ring = pixel_square(10, 20, 8)
    xs, ys = transform_points(CRS, "EPSG:4326", [x for x, _ in ring], [y for _, y in ring])
    geographic = list(zip(xs, ys, strict=True))
    path = write_polygons(tmp_path / f"areas{suffix}", [("Building", geographic)], "EPSG:4326", driver)
    labels = labels_of(path, optical)
    expected = np.full((SIZE, SIZE), IGNORE_INDEX, np.uint8)
    expected[10:18, 20:28] = 1
    # The reprojected square's edges are straight lines in lon/lat, a hair off the pixel edges: pixel centres
    # decide, so allow the border pixels either way and nothing else.
    differ = labels != expected
    assert differ.sum() <= 4 * 8
    assert (labels[11:17, 21:27] == 1).all()
    assert (labels[:9] == IGNORE_INDEX).all() and (labels[:, :19] == IGNORE_INDEX).all()


def test_outside_every_polygon_is_ignored_and_overlaps_of_different_classes_are_counted(
    tmp_path: Path,
) -> None:
    optical, _ = write_pair(tmp_path)
    path = write_polygons(
        tmp_path / "areas.gpkg",
        [
            ("tree", pixel_square(0, 0, 10)),
            ("low vegetation", pixel_square(5, 5, 10)),
            ("tree", pixel_square(2, 2, 4)),
        ],
    )
    loaded = load_polygon_labels(PolygonSource(str(path), "class"), optical, ISPRS_CLASSES)
    labels = rasterize_window(loaded.polygons, ORIGIN, 0, 0, SIZE, SIZE)[0]
    assert loaded.summary["overlap_pixels"] == 25
    assert (labels[5:10, 5:10] == IGNORE_INDEX).all()
    assert (labels[0:5, 0:10] == 3).all() and (labels[10:15, 5:15] == 2).all()
    assert (labels == IGNORE_INDEX).sum() == SIZE * SIZE - (100 + 100 - 25 - 25)
    assert loaded.summary["labelled_pixels"] == {"low vegetation": 75, "tree": 75}
    assert any("overlap" in note for note in loaded.warnings)
    # A window of the raster sees the same labels as the whole.
    window = rasterize_window(loaded.polygons, ORIGIN, 3, 4, 20, 30)[0]
    assert (window == labels[3:23, 4:34]).all()


def test_class_names_match_case_insensitively_indices_are_indices_and_new_names_add_classes() -> None:
    classes, indices, new = match_classes(
        ["Building", " TREE ", "pool", "pool", "Solar Panel"], ISPRS_CLASSES
    )
    assert indices == [1, 3, 6, 6, 7]
    assert new == ("pool", "Solar Panel")
    assert [info.name for info in classes[6:]] == ["pool", "Solar Panel"]
    assert len({info.colour for info in classes}) == len(classes)
    assert match_classes([1, "4", 2.0], ISPRS_CLASSES)[1] == [1, 4, 2]
    with pytest.raises(PolygonError, match=r"class index\(es\) \[9\] are not classes of the base model"):
        match_classes([1, 9], ISPRS_CLASSES)


def test_crops_are_class_balanced_and_hold_the_polygons_labels(tmp_path: Path) -> None:
    optical, elevation = write_pair(tmp_path)
    features = [("car", pixel_square(80, 80, 3))] + [
        ("low vegetation", pixel_square(r, 2, 6)) for r in range(0, 60, 10)
    ]
    path = write_polygons(tmp_path / "areas.gpkg", features)
    loaded = load_polygon_labels(PolygonSource(str(path), "class"), optical, ISPRS_CLASSES)
    dataset = PolygonCropDataset(optical, elevation, loaded, 32, 200, NormalizationConfig(), (1, 2, 3))
    with_car = sum(bool((dataset[i]["mask"] == 4).any()) for i in range(len(dataset)))
    assert 0.35 < with_car / len(dataset) < 0.65  # one 9-pixel car among 216 pixels of grass
    sample = dataset[0]
    assert sample["optical"].shape == (3, 32, 32) and sample["elevation"].shape == (1, 32, 32)
    assert set(np.unique(sample["mask"].numpy())) <= {2, 4, IGNORE_INDEX}
    assert dataset[7]["mask"].equal(dataset[7]["mask"])  # a pure function of (seed, epoch, index)


def test_an_elevation_on_another_grid_is_warped_and_nodata_outside_its_footprint(tmp_path: Path) -> None:
    coarse = Affine(2 * GSD, 0.0, ORIGIN.c, 0.0, -2 * GSD, ORIGIN.f)
    optical, elevation = write_pair(tmp_path, coarse, SIZE // 4)  # covers the top-left half of the optical
    with open_pair(optical, elevation) as (_, warped):
        heights = warped.read(1)
    assert heights.shape == (SIZE, SIZE)
    assert np.isfinite(heights[: SIZE // 2 - 2, : SIZE // 2 - 2]).all()
    assert np.isnan(heights[SIZE // 2 + 2 :, :]).all() and np.isnan(heights[:, SIZE // 2 + 2 :]).all()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("outside", "none of the 1 training polygons of areas.gpkg overlaps"),
        ("empty layer", "has no features"),
        ("empty field", "the field 'class' is empty for every polygon"),
        ("no field", "no field 'kind'; the fields are class"),
        ("points", "holds Point geometries; training areas must be polygons"),
        ("lines", "holds LineString geometries; training areas must be polygons"),
        ("not vector", "not a readable vector file"),
        ("missing", "no such file"),
    ],
)
def test_bad_polygons_get_one_clear_error(tmp_path: Path, case: str, message: str) -> None:
    optical, _ = write_pair(tmp_path)
    path, field = tmp_path / "areas.gpkg", "class"
    if case == "outside":
        write_polygons(path, [("tree", pixel_square(-500, -500, 10))])
    elif case == "empty layer":
        write_polygons(path, [])
    elif case == "empty field":
        write_polygons(path, [("", pixel_square(0, 0, 10)), (None, pixel_square(20, 20, 5))])
    elif case == "no field":
        write_polygons(path, [("tree", pixel_square(0, 0, 10))])
        field = "kind"
    elif case == "points":
        write_polygons(path, [("tree", pixel_square(0, 0, 10))], geometry="Point")
    elif case == "lines":
        write_polygons(path, [("tree", pixel_square(0, 0, 10))], geometry="LineString")
    elif case == "not vector":
        path.write_text("not a GeoPackage")
    with pytest.raises(PolygonError, match=message) as error:
        load_polygon_labels(PolygonSource(str(path), field), optical, ISPRS_CLASSES)
    assert "\n" not in str(error.value)


def test_a_resolution_far_from_the_base_models_is_a_warning(tmp_path: Path) -> None:
    from geofuse.backend.checkpoint import load_checkpoint
    from geofuse.backend.data.kinds import prepare_data
    from geofuse.backend.inference import DEMO_MODEL
    from geofuse.backend.train_config import load_config

    optical, elevation = write_pair(tmp_path)
    path = write_polygons(tmp_path / "areas.gpkg", [("tree", pixel_square(0, 0, 10))])
    overrides = [
        "data.kind='polygons'",
        f"data.optical='{optical}'",
        f"data.elevation='{elevation}'",
        f"data.polygons='{path}'",
    ]
    base = load_checkpoint(DEMO_MODEL).card
    data = prepare_data(load_config(None, overrides), base=base)
    assert data.gsd_m == pytest.approx(GSD) and data.optical_bands == base.optical_bands
    assert any("0.2 m pixels, the base model was trained at 0.1 m" in note for note in data.notes)


def test_a_runtime_without_fiona_gets_one_line_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    optical, _ = write_pair(tmp_path)
    path = write_polygons(tmp_path / "areas.gpkg", [("tree", pixel_square(0, 0, 10))])
    monkeypatch.setitem(sys.modules, "fiona", None)  # what `import fiona` meets where it is not installed
    with pytest.raises(PolygonError, match="needs fiona, which this GeoFuse runtime lacks"):
        load_polygon_labels(PolygonSource(str(path), "class"), optical, ISPRS_CLASSES)
