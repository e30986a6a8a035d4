"""The GeoFuse dock in a real QgsApplication: guessed pickers, a run identical to the CLI, cancel, set-up
errors that start no task, and the canvas-extent and polygon areas."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from osgeo import gdal
from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsGeometry,
    QgsPalettedRasterRenderer,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest
from segment_inputs import SegmentInputs, build_inputs, cli_output, read

from geofuse.plugin.dock.card import read_card
from geofuse.plugin.dock.widget import AREA_CANVAS, AREA_POLYGONS, GeoFuseDock

pytestmark = pytest.mark.usefixtures("geofuse_provider", "qgis_new_project")
TIMEOUT_S = 120


def add_rasters(*paths: Path) -> list[QgsRasterLayer]:
    layers = [QgsRasterLayer(str(path), path.stem, "gdal") for path in paths]
    assert all(layer.isValid() for layer in layers)
    QgsProject.instance().addMapLayers(layers)
    return layers


def set_up(dock: GeoFuseDock, model: Path, output: Path) -> None:
    """The tiny tiling every run here uses (the CLI reference uses the same)."""
    dock.model_widget.setFilePath(str(model))
    dock.device_combo.setCurrentIndex(dock.device_combo.findData("cpu"))
    dock.tile_spin.setValue(64)
    dock.overlap_spin.setValue(16)
    dock.batch_spin.setValue(4)
    dock.output_widget.setFilePath(str(output))


def wait_until_finished(dock: GeoFuseDock) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while dock.run is not None:
        assert time.monotonic() < deadline, "the segmentation task did not finish"
        QgsApplication.processEvents()
        time.sleep(0.01)


def press_segment(dock: GeoFuseDock) -> None:
    QTest.mouseClick(dock.segment_button, Qt.MouseButton.LeftButton)


def new_rasters(before: set[str]) -> list[QgsRasterLayer]:
    return [
        layer for layer_id, layer in QgsProject.instance().mapLayers().items()
        if layer_id not in before and isinstance(layer, QgsRasterLayer)
    ]  # fmt: skip


def test_guesses_the_layers_and_adds_a_styled_result_equal_to_the_cli(
    dock: GeoFuseDock, segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    optical, elevation = add_rasters(segment_inputs.optical, segment_inputs.elevation)
    assert dock.optical_combo.currentLayer() is optical
    assert dock.elevation_combo.currentLayer() is elevation
    before = set(QgsProject.instance().mapLayers())
    set_up(dock, segment_inputs.model, tmp_path / "landcover.tif")

    press_segment(dock)
    assert dock.segment_button.text() == "Cancel"
    wait_until_finished(dock)

    (layer,) = new_rasters(before)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    names = [entry.name for entry in read_card(segment_inputs.model).classes]
    assert [entry.label for entry in renderer.classes()] == names
    order = QgsProject.instance().layerTreeRoot().layerOrder()
    assert order.index(layer) < min(order.index(optical), order.index(elevation))
    expected = cli_output(segment_inputs, segment_inputs.optical, segment_inputs.elevation, tmp_path)
    np.testing.assert_array_equal(read(layer.source())[0], expected)
    assert dock.summary.table.rowCount() == len(names)
    assert dock.segment_button.text() == "Segment"


def test_cancel_leaves_no_layer_and_no_file(
    dock: GeoFuseDock, segment_inputs: SegmentInputs, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    scene = build_inputs(tmp_path_factory.getbasetemp() / "geofuse_slow", size=256, seed=5)
    add_rasters(scene.optical, scene.elevation)
    before = set(QgsProject.instance().mapLayers())
    set_up(dock, segment_inputs.model, tmp_path / "out" / "landcover.tif")
    (tmp_path / "out").mkdir()
    dock.tile_spin.setValue(32)
    dock.overlap_spin.setValue(8)

    press_segment(dock)
    deadline = time.monotonic() + TIMEOUT_S
    while dock.progress.value() == 0 and dock.run is not None:
        assert time.monotonic() < deadline
        QgsApplication.processEvents()
        time.sleep(0.01)
    press_segment(dock)
    wait_until_finished(dock)

    assert new_rasters(before) == []
    assert list((tmp_path / "out").iterdir()) == []
    assert dock.segment_button.text() == "Segment"
    assert dock.segment_button.isEnabled()


def hostile_checkpoint(folder: Path) -> tuple[Path, Path]:
    """A .pt whose unpickling would create ``marker``."""
    marker = folder / "marker"

    class Payload:
        def __reduce__(self) -> tuple:
            return (open, (str(marker), "w"))

    path = folder / "hostile.pt"
    torch.save({"format": "geofuse-checkpoint", "version": 1, "card": Payload()}, path)
    return path, marker


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("same layer", "same layer"),
        ("no overlap", "do not overlap"),
        ("missing model", "model file not found"),
        ("corrupt model", "not a readable checkpoint"),
        ("hostile model", "refused"),
        ("no runtime", "not a file"),
    ],
)
def test_a_bad_setup_gives_a_message_and_starts_no_task(
    dock: GeoFuseDock,
    segment_inputs: SegmentInputs,
    tmp_path: Path,
    qgis_iface,
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    message: str,
) -> None:
    optical, _ = add_rasters(segment_inputs.optical, segment_inputs.elevation)
    set_up(dock, segment_inputs.model, tmp_path / "out.tif")
    marker = None
    if setup == "same layer":
        dock.elevation_combo.setLayer(optical)
    elif setup == "no overlap":
        far = tmp_path / "far.tif"
        gdal.Translate(str(far), str(segment_inputs.elevation), outputBounds=[0, 1000, 96, 904])
        dock.elevation_combo.setLayer(add_rasters(far)[0])
    elif setup == "missing model":
        dock.model_widget.setFilePath(str(tmp_path / "missing.pt"))
    elif setup == "corrupt model":
        (tmp_path / "corrupt.pt").write_bytes(b"PK\x03\x04 truncated")
        dock.model_widget.setFilePath(str(tmp_path / "corrupt.pt"))
    elif setup == "hostile model":
        hostile, marker = hostile_checkpoint(tmp_path)
        dock.model_widget.setFilePath(str(hostile))
    else:
        monkeypatch.setenv("GEOFUSE_PYTHON", str(tmp_path / "no" / "python"))
        dock.runtime.check()  # in the background, as when the dock is first shown
        deadline = time.monotonic() + TIMEOUT_S
        while dock.runtime.is_running():
            assert time.monotonic() < deadline, "the runtime check did not finish"
            QgsApplication.processEvents()
            time.sleep(0.01)
    warnings = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    shown = len(warnings)
    tasks = QgsApplication.taskManager().count()

    if setup == "no runtime":
        assert not dock.segment_button.isEnabled()  # the check disabled Segment; start() still says why
        dock.start()
    else:
        press_segment(dock)

    assert dock.run is None and QgsApplication.taskManager().count() == tasks
    assert len(warnings) == shown + 1 and message in warnings[-1]
    assert dock.segment_button.text() == "Segment"
    assert not (tmp_path / "out.tif").exists()
    if marker is not None:
        assert not marker.exists()


def bounds(path: str) -> tuple[float, float, float, float]:
    _, transform, _ = read(path)
    dataset = gdal.Open(path)
    left, top = transform[0], transform[3]
    return left, top + transform[5] * dataset.RasterYSize, left + transform[1] * dataset.RasterXSize, top


def test_canvas_extent_limits_the_output(
    dock: GeoFuseDock, segment_inputs: SegmentInputs, tmp_path: Path, qgis_iface
) -> None:
    optical, _ = add_rasters(segment_inputs.optical, segment_inputs.elevation)
    before = set(QgsProject.instance().mapLayers())
    set_up(dock, segment_inputs.model, tmp_path / "canvas.tif")
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(optical.crs())
    full = optical.extent()
    x0, y0 = full.xMinimum(), full.yMinimum()
    canvas.setExtent(QgsRectangle(x0 + 1.6, y0 + 2.4, x0 + 6.4, y0 + 7.2))
    view = canvas.extent()
    dock.area_combo.setCurrentIndex(dock.area_combo.findData(AREA_CANVAS))

    press_segment(dock)
    wait_until_finished(dock)

    (layer,) = new_rasters(before)
    left, bottom, right, top = bounds(layer.source())
    pixel = optical.rasterUnitsPerPixelX()
    assert view.xMinimum() - pixel <= left and right <= view.xMaximum() + pixel
    assert view.yMinimum() - pixel <= bottom and top <= view.yMaximum() + pixel
    assert (right - left) * (top - bottom) < 0.9 * full.width() * full.height()


def test_polygon_mask_limits_the_output_and_blanks_outside(
    dock: GeoFuseDock, segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    optical, _ = add_rasters(segment_inputs.optical, segment_inputs.elevation)
    full = optical.extent()
    x0, y0 = full.xMinimum(), full.yMinimum()
    triangle = [QgsPointXY(x0 + dx, y0 + dy) for dx, dy in ((1.0, 1.0), (6.0, 1.0), (1.0, 6.0))]
    to_degrees = QgsCoordinateTransform(
        optical.crs(), QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance().transformContext()
    )
    polygons = QgsVectorLayer("Polygon?crs=EPSG:4326", "area", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromPolygonXY([[to_degrees.transform(p) for p in triangle]]))
    polygons.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayer(polygons)
    before = set(QgsProject.instance().mapLayers())
    set_up(dock, segment_inputs.model, tmp_path / "masked.tif")
    dock.area_combo.setCurrentIndex(dock.area_combo.findData(AREA_POLYGONS))
    dock.mask_combo.setLayer(polygons)

    press_segment(dock)
    wait_until_finished(dock)

    (layer,) = new_rasters(before)
    left, bottom, right, top = bounds(layer.source())
    pixel = optical.rasterUnitsPerPixelX()
    assert x0 + 1.0 - pixel <= left and right <= x0 + 6.0 + pixel
    assert y0 + 1.0 - pixel <= bottom and top <= y0 + 6.0 + pixel
    dataset = gdal.Open(layer.source())
    classes, nodata = dataset.ReadAsArray(), dataset.GetRasterBand(1).GetNoDataValue()
    assert nodata is not None
    assert classes[0, -1] == nodata and classes[-1, 0] != nodata  # top-right is outside the triangle
