"""Write a QGIS project with styled raster layers through PyQGIS (``QgsProject``), so the file is exactly what
QGIS writes: its own layer ids, layer tree, project CRS and default view.

Run as a program by ``geofuse demo`` (the backend never imports QGIS): ``python project_writer.py SPEC.json``
with a Python that has PyQGIS. The spec::

    {"path": ".../demo.qgz", "title": "...", "crs_wkt": "...", "extent": [xmin, ymin, xmax, ymax],
     "layers": [{"name": "...", "source": "/abs/path.tif", "visible": true,
                 "style": {"qml": "/abs/path.qml"} | {"gray": [low, high]} | null}, ...]}

Layers are listed top first. Paths are stored relative to the project file (QGIS's default). Exit status 0
and the project path on stdout, or 1 and one line on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsApplication,
    QgsContrastEnhancement,
    QgsCoordinateReferenceSystem,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsReferencedRectangle,
    QgsSingleBandGrayRenderer,
)


def styled_layer(spec: dict[str, Any]) -> QgsRasterLayer:
    """The raster layer of one spec entry, with its style.

    Raises:
        ValueError: If the raster or its style cannot be loaded.
    """
    layer = QgsRasterLayer(spec["source"], spec["name"], "gdal")
    if not layer.isValid():
        raise ValueError(f"QGIS cannot open {spec['source']}")
    style = spec.get("style") or {}
    if "qml" in style:
        message, ok = layer.loadNamedStyle(style["qml"])
        if not ok:
            raise ValueError(f"QGIS cannot load the style {style['qml']}: {message}")
    elif "gray" in style:
        low, high = style["gray"]
        renderer = QgsSingleBandGrayRenderer(layer.dataProvider(), 1)
        enhancement = QgsContrastEnhancement(layer.dataProvider().dataType(1))
        enhancement.setMinimumValue(low)
        enhancement.setMaximumValue(high)
        enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        renderer.setContrastEnhancement(enhancement)
        layer.setRenderer(renderer)
    return layer


def write_project(spec: dict[str, Any]) -> Path:
    """Build the project of ``spec`` in a fresh ``QgsProject`` and write it.

    Raises:
        ValueError: If a layer cannot be loaded or QGIS cannot write the file.
    """
    project = QgsProject()
    project.setTitle(spec.get("title", ""))
    crs = QgsCoordinateReferenceSystem.fromWkt(spec["crs_wkt"])
    project.setCrs(crs)
    root = project.layerTreeRoot()
    for entry in spec["layers"]:
        layer = styled_layer(entry)
        project.addMapLayer(layer, False)
        root.addLayer(layer).setItemVisibilityChecked(bool(entry.get("visible", True)))
    xmin, ymin, xmax, ymax = spec["extent"]
    project.viewSettings().setDefaultViewExtent(
        QgsReferencedRectangle(QgsRectangle(xmin, ymin, xmax, ymax), crs)
    )
    path = Path(spec["path"])
    if not project.write(str(path)):
        raise ValueError(f"QGIS cannot write {path}: {project.error()}")
    return path


def main(argv: list[str]) -> int:
    """Write the project described by the JSON file ``argv[1]``."""
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    application = QgsApplication([], False)
    application.initQgis()
    try:
        print(write_project(spec))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        application.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
