"""Inputs of the fine-tuning tests: a small shifted-domain scene, training polygons drawn inside its objects
(a memory layer in any CRS and of any geometry type, or a GeoPackage layer); the ``scene`` fixture of
``conftest.py`` writes it once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsGeometry,
    QgsProject,
    QgsRectangle,
    QgsVectorFileWriter,
    QgsVectorLayer,
)

from geofuse.backend.data.synthetic import generate_scene, write_scene

SIZE = 128
TRAINING = {"STEPS": 2, "MINUTES": 0, "BATCH_SIZE": 1, "CROP_SIZE": 64, "DEVICE": "cpu"}
"""Two steps on one 64-pixel crop: seconds of training, so a run costs little more than the worker's start."""
CLASSES = {"building": 1, "Tree": 3, "pool": 2}
"""Polygon class values and the scene class they are drawn inside; "Tree" is the model's "tree" (case), "pool"
is new (drawn on lawns, as an analyst would mark pools the model does not know)."""


class Scene:
    """A shifted-domain scene on disk and two small squares inside objects of each class (map coordinates)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        scene = generate_scene(7, SIZE, SIZE, domain="shifted")
        self.optical, self.elevation, self.labels = (
            folder / f"{n}.tif" for n in ("optical", "dsm", "labels")
        )
        write_scene(scene, self.optical, self.elevation, self.labels)
        self.crs = QgsCoordinateReferenceSystem(scene.crs)
        self.squares: dict[str, list[QgsRectangle]] = {}
        side = 4
        for name, index in CLASSES.items():
            inside = np.lib.stride_tricks.sliding_window_view(scene.labels == index, (side, side))
            rows, cols = np.nonzero(inside.all(axis=(2, 3)))
            picks = np.linspace(0, len(rows) - 1, 2).astype(int)
            self.squares[name] = []
            for row, col in zip(rows[picks], cols[picks], strict=True):
                left, top = scene.transform * (int(col), int(row))
                right, bottom = scene.transform * (int(col) + side, int(row) + side)
                self.squares[name].append(QgsRectangle(left, bottom, right, top))


def memory_layer(
    scene: Scene,
    crs: str = "EPSG:32632",
    geometry: str = "Polygon",
    values: dict[str, str | None] | None = None,
    field: str = "class",
) -> QgsVectorLayer:
    """The scene's squares as a memory layer ``training`` in ``crs``, added to the project, with the fields
    ``note`` and ``field`` (the class: ``values`` by square name, by default the name)."""
    uri = f"{geometry}?crs={crs}&field=note:string&field={field}:string"
    layer = QgsVectorLayer(uri, "training", "memory")
    transform = QgsCoordinateTransform(
        scene.crs, QgsCoordinateReferenceSystem(crs), QgsProject.instance().transformContext()
    )
    features = []
    for name, squares in scene.squares.items():
        for square in squares:
            shape = QgsGeometry.fromRect(square)
            if geometry == "LineString":
                shape = QgsGeometry.fromPolylineXY(shape.asPolygon()[0])
            elif geometry == "Point":
                shape = shape.centroid()
            shape.transform(transform)
            feature = QgsFeature(layer.fields())
            feature.setGeometry(shape)
            feature.setAttributes(["digitised", name if values is None else values.get(name)])
            features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    layer.updateExtents()
    QgsProject.instance().addMapLayer(layer)
    return layer


def write_geopackage(layer: QgsVectorLayer, path: Path, name: str) -> None:
    """Write ``layer`` as the layer ``name`` of the GeoPackage ``path`` (added beside any other layers)."""
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName, options.layerName = "GPKG", name
    if path.exists():
        options.actionOnExistingFile = QgsVectorFileWriter.ActionOnExistingFile.CreateOrOverwriteLayer
    error = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, str(path), QgsProject.instance().transformContext(), options
    )
    assert error[0] == QgsVectorFileWriter.WriterError.NoError, error
