"""The dock's "Improve with my polygons" in a real QgsApplication: the class field is guessed, the new classes
are listed before a run, Improve model runs ``geofuse:finetune`` and its model becomes the dock's model."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from finetune_inputs import TRAINING, Scene, memory_layer, write_geopackage
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest

from geofuse.backend.paths import DEMO_MODEL
from geofuse.plugin.dock.card import read_card
from geofuse.plugin.dock.improve import guess_class_field, unique_model_path
from geofuse.plugin.dock.widget import GeoFuseDock

pytestmark = pytest.mark.usefixtures("geofuse_provider", "qgis_new_project")
TIMEOUT_S = 300


@pytest.fixture
def dock(dock: GeoFuseDock) -> GeoFuseDock:
    """The shared dock (conftest.py) with the bundled model chosen."""
    dock.model_widget.setFilePath(str(DEMO_MODEL))
    return dock


def add_scene(scene: Scene) -> None:
    layers = [QgsRasterLayer(str(path), path.stem, "gdal") for path in (scene.optical, scene.elevation)]
    assert all(layer.isValid() for layer in layers)
    QgsProject.instance().addMapLayers(layers)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["fid", "note", "Klasse"], "Klasse"),
        (["id", "LABEL", "class"], "class"),
        (["id", "landcover_2024"], "landcover_2024"),
        (["id", "name"], None),
    ],
)
def test_guess_class_field(names: list[str], expected: str | None) -> None:
    assert guess_class_field(names) == expected


def test_new_model_names_never_take_an_existing_file(tmp_path: Path) -> None:
    assert unique_model_path(tmp_path, DEMO_MODEL) == tmp_path / "geofuse_demo_small_improved.pt"
    (tmp_path / "geofuse_demo_small_improved.pt").touch()
    assert unique_model_path(tmp_path, DEMO_MODEL) == tmp_path / "geofuse_demo_small_improved_2.pt"
    improved = tmp_path / "geofuse_demo_small_improved_2.pt"
    improved.touch()
    assert unique_model_path(tmp_path, improved) == tmp_path / "geofuse_demo_small_improved_3.pt"


def test_the_new_classes_line_follows_the_layer_and_the_field(dock: GeoFuseDock, scene: Scene) -> None:
    panel = dock.improve
    known = memory_layer(scene, values={"building": "Building", "Tree": "tree", "pool": "CAR"}, field="Label")
    new = memory_layer(scene, field="landcover")

    panel.polygon_combo.setLayer(known)
    assert panel.field_combo.currentField() == "Label"
    assert panel.classes_label.text() == "All classes known to the model"
    panel.polygon_combo.setLayer(new)
    assert panel.field_combo.currentField() == "landcover"
    assert panel.classes_label.text() == "New classes: pool"
    known.startEditing()
    known.changeAttributeValue(next(known.getFeatures()).id(), 1, "shed")  # digitising goes on
    assert panel.classes_label.text() == "New classes: pool"  # the picked layer is another one
    panel.polygon_combo.setLayer(known)
    assert panel.classes_label.text() == "New classes: shed"
    known.changeAttributeValue(next(known.getFeatures()).id(), 1, "Building")
    assert panel.classes_label.text() == "All classes known to the model"
    known.rollBack()
    panel.field_combo.setField("note")
    assert panel.classes_label.text() == "New classes: digitised"


def test_improve_without_polygons_starts_nothing(dock: GeoFuseDock, scene: Scene, runtime: None) -> None:
    add_scene(scene)
    QTest.mouseClick(dock.improve.button, Qt.MouseButton.LeftButton)
    assert dock.improve.run is None and dock.improve.button.text() == "Improve model"


def test_improve_model_from_a_geopackage_layer_becomes_the_dock_model(
    dock: GeoFuseDock, scene: Scene, runtime: None, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    QgsProject.instance().setFileName(str(project / "project.qgz"))  # improved models go beside it
    add_scene(scene)
    assert dock.optical_combo.currentLayer().source() == str(scene.optical)
    geopackage = tmp_path / "training.gpkg"
    write_geopackage(memory_layer(scene, field="Klasse"), geopackage, "areas")
    layer = QgsVectorLayer(f"{geopackage}|layername=areas", "areas", "ogr")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    dock.device_combo.setCurrentIndex(dock.device_combo.findData("cpu"))
    panel = dock.improve
    panel.polygon_combo.setLayer(layer)
    panel.overrides = {key: value for key, value in TRAINING.items() if key != "DEVICE"}
    assert panel.field_combo.currentField() == "Klasse"
    assert panel.classes_label.text() == "New classes: pool"

    QTest.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    assert panel.button.text() == "Cancel" and not dock.segment_button.isEnabled()
    deadline = time.monotonic() + TIMEOUT_S
    while panel.run is not None:
        assert time.monotonic() < deadline, "the fine-tuning task did not finish"
        QgsApplication.processEvents()
        time.sleep(0.01)

    model = project / "geofuse_demo_small_improved.pt"
    assert dock.model_widget.filePath() == str(model)
    assert [entry.name for entry in read_card(model).classes][-1] == "pool"
    assert "Fine-tuned from geofuse_demo_small.pt on 6 polygons of training.gpkg" in dock.card_label.text()
    assert panel.progress.value() == 100 and panel.button.text() == "Improve model"
    assert dock.segment_button.isEnabled()
    assert sorted(path.name for path in project.iterdir()) == [model.name]  # no working folder left


def test_cancel_keeps_the_model_and_leaves_no_file(
    dock: GeoFuseDock, scene: Scene, runtime: None, tmp_path: Path
) -> None:
    QgsProject.instance().setFileName(str(tmp_path / "project.qgz"))
    add_scene(scene)
    panel = dock.improve
    panel.polygon_combo.setLayer(memory_layer(scene))
    panel.overrides = {**{key: value for key, value in TRAINING.items() if key != "DEVICE"}, "STEPS": 1000}
    dock.device_combo.setCurrentIndex(dock.device_combo.findData("cpu"))

    QTest.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    deadline = time.monotonic() + TIMEOUT_S
    while not panel.stepping:  # training has started: its working folder exists
        assert time.monotonic() < deadline and panel.run is not None, "no training step was reported"
        QgsApplication.processEvents()
        time.sleep(0.01)
    QTest.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    assert panel.button.text() == "Cancelling…"
    while panel.run is not None:
        assert time.monotonic() < deadline, "the cancelled task did not finish"
        QgsApplication.processEvents()
        time.sleep(0.01)

    assert panel.progress.format() == "Cancelled" and panel.button.text() == "Improve model"
    assert dock.model_widget.filePath() == str(DEMO_MODEL) and dock.segment_button.isEnabled()
    assert list(tmp_path.iterdir()) == []
