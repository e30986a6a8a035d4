"""``geofuse demo``'s ``demo.qgz`` opened in a real QgsProject: the project CRS, every layer valid, styled,
in the layer tree, switchable, and rendering — written through PyQGIS, and as XML where PyQGIS is absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from qgis.core import (
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

from geofuse.backend.classes import ISPRS_CLASSES
from geofuse.backend.commands.demo import write_project
from geofuse.backend.styling import write_qml

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
EXPECTED = [  # top first: name, renderer, switched on
    ("prediction", "paletted", True),
    ("truth", "paletted", False),
    ("elevation", "singlebandgray", False),
    ("optical", "multibandcolor", True),
]


def demo_folder(folder: Path) -> Path:
    """The files ``geofuse demo`` leaves before it writes the project (the truth stands in for classes)."""
    for source, target in (("optical", "optical"), ("elevation", "elevation"), ("labels", "truth")):
        shutil.copyfile(SAMPLE / f"{source}.tif", folder / f"{target}.tif")
    shutil.copyfile(folder / "truth.tif", folder / "classes.tif")
    write_qml(folder / "classes.qml", ISPRS_CLASSES)
    return folder


def painted_pixels(layer: QgsRasterLayer, project: QgsProject) -> int:
    """How many of 32×32 rendered pixels the layer paints (not transparent)."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(project.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(32, 32))
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    return sum(image.pixelColor(x, y).alpha() > 0 for x in range(32) for y in range(32))


@pytest.mark.parametrize("through_qgis", [True, False], ids=["pyqgis", "xml"])
def test_demo_project_opens_with_every_layer_valid_styled_and_rendering(
    tmp_path: Path, through_qgis: bool
) -> None:
    folder = tmp_path / "demo-output"
    folder.mkdir()
    demo_folder(folder)
    path = write_project(folder, ISPRS_CLASSES, folder / "demo.qgz", through_qgis=through_qgis)
    moved = shutil.move(str(folder), str(tmp_path / "elsewhere"))  # the paths must be relative

    project = QgsProject()
    assert project.read(str(Path(moved) / path.name))

    assert project.crs().isValid()
    optical = QgsRasterLayer(str(SAMPLE / "optical.tif"), "reference", "gdal")
    assert project.crs() == optical.crs()
    nodes = project.layerTreeRoot().findLayers()
    assert [node.name() for node in nodes] == [name for name, _, _ in EXPECTED]
    for node, (name, renderer, visible) in zip(nodes, EXPECTED, strict=True):
        layer = node.layer()
        assert layer is not None and layer.isValid(), name
        assert layer.renderer().type() == renderer, name
        assert node.itemVisibilityChecked() == visible, name
        assert painted_pixels(layer, project) > 900, name
    assert len(project.mapLayers()) == len(EXPECTED)
