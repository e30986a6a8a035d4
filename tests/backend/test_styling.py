"""Class styling: colour table, GDAL category names (PAM), QGIS QML and the demo's QGIS project."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import rasterio
from affine import Affine

from geofuse.backend.classes import IGNORE_INDEX, ISPRS_CLASSES, ClassInfo
from geofuse.backend.styling import (
    ProjectLayer,
    colour_table,
    gray_renderer,
    hex_colour,
    multiband_renderer,
    paletted_renderer,
    pam_xml,
    qml_text,
    sidecar_paths,
    write_qgz,
    write_qml,
)

CLASSES = (ClassInfo(0, "water, open", (0, 0, 255)), ClassInfo(1, "forest & <scrub>", (0, 128, 0)))


def test_colour_table_has_every_class_and_transparent_nodata() -> None:
    table = colour_table(ISPRS_CLASSES)
    assert table[1] == (0, 0, 255, 255) and table[IGNORE_INDEX] == (0, 0, 0, 0)
    assert len(table) == len(ISPRS_CLASSES) + 1
    assert hex_colour((255, 16, 0)) == "#ff1000"


def test_pam_names_every_class_in_index_order() -> None:
    root = ET.fromstring(pam_xml(tuple(reversed(CLASSES))))
    names = [element.text for element in root.findall("./PAMRasterBand[@band='1']/CategoryNames/Category")]
    assert names == ["water, open", "forest & <scrub>"]


def test_qml_is_a_paletted_renderer_with_labels(tmp_path: Path) -> None:
    text = qml_text(CLASSES)
    assert text.startswith("<!DOCTYPE qgis")
    root = ET.fromstring(text.split("\n", 1)[1])
    renderer = root.find("./pipe/rasterrenderer")
    assert renderer is not None and renderer.get("type") == "paletted" and renderer.get("band") == "1"
    entries = [(e.get("value"), e.get("color"), e.get("label")) for e in renderer.iter("paletteEntry")]
    assert entries == [("0", "#0000ff", "water, open"), ("1", "#008000", "forest & <scrub>")]
    assert write_qml(tmp_path / "x.qml", CLASSES).read_text(encoding="utf-8") == text


def test_sidecar_paths() -> None:
    assert sidecar_paths("/a/b.tif") == (Path("/a/b.tif.aux.xml"), Path("/a/b.qml"))


def test_gdal_reads_the_category_names(tmp_path: Path) -> None:
    gdal = pytest.importorskip("osgeo.gdal", reason="GDAL's Python bindings are not installed")
    raster = tmp_path / "classes.tif"
    profile = {"driver": "GTiff", "width": 8, "height": 8, "count": 1, "dtype": "uint8", "nodata": 255}
    with rasterio.open(
        raster, "w", crs="EPSG:32632", transform=Affine(0.1, 0, 5e5, 0, -0.1, 5e6), **profile
    ) as out:
        out.write(np.zeros((1, 8, 8), np.uint8))
        out.write_colormap(1, colour_table(CLASSES))
    sidecar_paths(raster)[0].write_text(pam_xml(CLASSES), encoding="utf-8")
    dataset = gdal.Open(str(raster))
    band = dataset.GetRasterBand(1)
    band.GetMetadata()  # PAM is read lazily
    assert band.GetCategoryNames() == ["water, open", "forest & <scrub>"]
    assert band.GetColorTable().GetColorEntry(1) == (0, 128, 0, 255)


def write_demo_like_project(folder: Path) -> Path:
    profile = {"driver": "GTiff", "width": 16, "height": 16, "dtype": "uint8", "crs": "EPSG:32632"}
    transform = Affine(0.1, 0, 5e5, 0, -0.1, 5e6)
    for name, count in (("optical.tif", 3), ("elevation.tif", 1), ("classes.tif", 1), ("truth.tif", 1)):
        with rasterio.open(folder / name, "w", count=count, transform=transform, **profile) as out:
            out.write(np.ones((count, 16, 16), np.uint8))
    layers = [
        ProjectLayer("prediction", "./classes.tif", paletted_renderer(ISPRS_CLASSES)),
        ProjectLayer("truth", "./truth.tif", paletted_renderer(ISPRS_CLASSES), visible=False),
        ProjectLayer("elevation", "./elevation.tif", gray_renderer(0.0, 2.0), visible=False),
        ProjectLayer("optical", "./optical.tif", multiband_renderer()),
    ]
    wkt = rasterio.crs.CRS.from_epsg(32632).to_wkt()
    return write_qgz(folder / "demo.qgz", layers, wkt, "EPSG:32632", (5e5, 5e6 - 1.6, 5e5 + 1.6, 5e6))


def test_qgz_holds_a_project_with_relative_styled_layers(tmp_path: Path) -> None:
    project = write_demo_like_project(tmp_path)
    with zipfile.ZipFile(project) as archive:
        assert archive.namelist() == ["demo.qgs"]
        root = ET.fromstring(archive.read("demo.qgs").decode("utf-8").split("\n", 1)[1])
    layers = root.findall("./projectlayers/maplayer")
    assert [layer.findtext("datasource") for layer in layers] == [
        "./classes.tif", "./truth.tif", "./elevation.tif", "./optical.tif",
    ]  # fmt: skip
    assert [layer.find("./pipe/rasterrenderer").get("type") for layer in layers] == [
        "paletted", "paletted", "singlebandgray", "multibandcolor",
    ]  # fmt: skip
    assert [node.get("id") for node in root.findall("./layerorder/layer")] == [
        layer.findtext("id") for layer in layers
    ]


QGIS_CHECK = """
import sys
from qgis.core import QgsApplication, QgsProject
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
assert project.read(sys.argv[1])
layers = list(project.mapLayers().values())
print(len(layers), sum(layer.isValid() for layer in layers),
      sorted(layer.renderer().type() for layer in layers))
"""


def test_qgis_opens_the_project(tmp_path: Path) -> None:
    qgis_python = Path("/usr/bin/python3")
    found = subprocess.run([str(qgis_python), "-c", "import qgis.core"], capture_output=True, check=False)
    if found.returncode != 0:
        pytest.skip("no PyQGIS on the system Python")
    project = write_demo_like_project(tmp_path)
    environment = os.environ | {"QT_QPA_PLATFORM": "offscreen"}
    opened = subprocess.run(
        [str(qgis_python), "-c", QGIS_CHECK, str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert opened.returncode == 0, opened.stderr[-2000:]
    assert opened.stdout.strip().splitlines()[-1] == (
        "4 4 ['multibandcolor', 'paletted', 'paletted', 'singlebandgray']"
    )
