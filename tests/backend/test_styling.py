"""Class styling: colour table, GDAL category names (PAM), QGIS QML."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import rasterio
from affine import Affine

from geofuse.backend.classes import IGNORE_INDEX, ISPRS_CLASSES, ClassInfo
from geofuse.backend.styling import colour_table, hex_colour, pam_xml, qml_text, sidecar_paths, write_qml

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
