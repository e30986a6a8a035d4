"""The dock's guesses and results in a real QgsApplication: the elevation guess skips class rasters, the
tile estimate follows the canvas, a re-run replaces its layer, results lie above the mask polygons, and a
cancel is reported as information, not repeated as an error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from qgis.core import (
    Qgis,
    QgsApplication,
    QgsFeature,
    QgsGeometry,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QObject, Qt
from segment_inputs import SegmentInputs, build_inputs

from geofuse.plugin.dock.widget import AREA_CANVAS, AREA_POLYGONS, AREA_WHOLE, GeoFuseDock

pytestmark = pytest.mark.usefixtures("geofuse_provider", "qgis_new_project")
SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
TIMEOUT_S = 120


def add(path: Path, name: str) -> QgsRasterLayer:
    layer = QgsRasterLayer(str(path), name, "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer


def run_to_end(dock: GeoFuseDock) -> None:
    assert dock.start(), dock.problem()
    deadline = time.monotonic() + TIMEOUT_S
    while dock.run is not None:
        assert time.monotonic() < deadline, "the segmentation task did not finish"
        QgsApplication.processEvents()
        time.sleep(0.01)


def test_the_elevation_guess_skips_class_rasters_and_prefers_elevation_names(dock: GeoFuseDock) -> None:
    """The demo project's layers: the one-band class rasters come before the DSM in the layer order."""
    add(SAMPLE / "optical.tif", "optical")
    truth = add(SAMPLE / "labels.tif", "truth")
    assert truth.bandCount() == 1
    add(SAMPLE / "labels.tif", "scan 2")  # a one-band class raster with a neutral name
    elevation = add(SAMPLE / "elevation.tif", "surface model dsm")

    assert dock.elevation_combo.currentLayer() is elevation


def test_the_tile_estimate_follows_the_canvas(dock: GeoFuseDock, qgis_iface) -> None:
    optical = add(SAMPLE / "optical.tif", "optical")
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(optical.crs())
    canvas.setExtent(optical.extent())
    dock.area_combo.setCurrentIndex(dock.area_combo.findData(AREA_CANVAS))
    dock.tile_spin.setValue(64)
    dock.overlap_spin.setValue(0)
    whole = dock.tile_count.text()

    extent = optical.extent()
    canvas.setExtent(
        QgsRectangle(extent.xMinimum(), extent.yMinimum(), extent.center().x(), extent.center().y())
    )

    assert dock.tile_count.text() != whole
    assert "About" in dock.tile_count.text()


def test_the_dock_takes_the_engines_overlap_rule(dock: GeoFuseDock) -> None:
    """Any overlap up to one pixel less than the tile runs (the engine's rule); a whole tile does not."""
    add(SAMPLE / "optical.tif", "optical")
    add(SAMPLE / "elevation.tif", "dsm")
    dock.tile_spin.setValue(64)
    dock.overlap_spin.setValue(40)  # past half the tile: refused before the rule had one home

    assert dock.tile_count.text().startswith("About")
    assert dock._tiling_problem(dock.card()) is None

    dock.overlap_spin.setValue(64)

    assert dock.tile_count.text() == "The overlap (64) must be less than the tile size (64)."
    assert dock.problem() == dock.tile_count.text()


def filled_mask(optical: QgsRasterLayer) -> QgsVectorLayer:
    mask = QgsVectorLayer("Polygon", "mask", "memory")
    mask.setCrs(optical.crs())
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromRect(optical.extent().buffered(-optical.extent().width() / 4)))
    mask.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayer(mask)  # on top of the rasters, as a digitised mask is
    return mask


def test_a_rerun_replaces_its_layer_above_the_mask_polygons(
    dock: GeoFuseDock, segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    optical = add(segment_inputs.optical, "optical")
    add(segment_inputs.elevation, "elevation")
    mask = filled_mask(optical)
    output = tmp_path / "landcover.tif"
    dock.model_widget.setFilePath(str(segment_inputs.model))
    dock.device_combo.setCurrentIndex(dock.device_combo.findData("cpu"))
    dock.tile_spin.setValue(64)
    dock.overlap_spin.setValue(16)
    dock.output_widget.setFilePath(str(output))
    dock.area_combo.setCurrentIndex(dock.area_combo.findData(AREA_POLYGONS))
    dock.mask_combo.setLayer(mask)

    run_to_end(dock)
    run_to_end(dock)

    results = [layer for layer in QgsProject.instance().mapLayers().values() if layer.source() == str(output)]
    assert len(results) == 1
    order = QgsProject.instance().layerTreeRoot().layerOrder()
    assert order.index(results[0]) < order.index(mask)


class LogListener(QObject):
    """Keeps what QGIS's message log receives, on the main thread."""

    def __init__(self, logged: list) -> None:
        super().__init__()
        self.logged = logged

    def receive(self, text: str, tag: str, level: Qgis.MessageLevel) -> None:
        self.logged.append((text, tag, level))


def test_cancel_is_information_and_not_repeated_as_an_error(
    dock: GeoFuseDock, segment_inputs: SegmentInputs, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    scene = build_inputs(tmp_path_factory.getbasetemp() / "geofuse_slow", size=256, seed=5)
    add(scene.optical, "optical")
    add(scene.elevation, "elevation")
    dock.model_widget.setFilePath(str(segment_inputs.model))
    dock.device_combo.setCurrentIndex(dock.device_combo.findData("cpu"))
    dock.tile_spin.setValue(32)
    dock.overlap_spin.setValue(8)
    dock.output_widget.setFilePath(str(tmp_path / "out.tif"))
    dock.area_combo.setCurrentIndex(dock.area_combo.findData(AREA_WHOLE))
    logged: list[tuple[str, str, Qgis.MessageLevel]] = []
    listener = LogListener(logged)
    # Queued: QGIS logs from the task's thread too, and the list is only touched on the main thread.
    QgsApplication.messageLog().messageReceived.connect(listener.receive, Qt.ConnectionType.QueuedConnection)
    try:
        assert dock.start(), dock.problem()
        deadline = time.monotonic() + TIMEOUT_S
        while dock.progress.value() == 0 and dock.run is not None:
            assert time.monotonic() < deadline
            QgsApplication.processEvents()
            time.sleep(0.01)
        dock.run.cancel()
        while dock.run is not None:
            assert time.monotonic() < deadline
            QgsApplication.processEvents()
            time.sleep(0.01)
        QgsApplication.processEvents()
    finally:
        QgsApplication.messageLog().messageReceived.disconnect(listener.receive)

    about_cancel = [(tag, level) for text, tag, level in logged if "ancel" in text]
    assert ("GeoFuse", Qgis.MessageLevel.Info) in about_cancel
    # Once, as information: nothing logs the user's own choice as an error (QGIS's task runner would, for
    # an algorithm that raised on cancel).
    assert [level for tag, level in about_cancel if tag == "GeoFuse"] == [Qgis.MessageLevel.Info], (
        about_cancel
    )
    assert Qgis.MessageLevel.Critical not in [level for _, level in about_cancel], about_cancel
