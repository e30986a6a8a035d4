"""Styling GeoFuse's classified rasters: a paletted renderer built from the model's class table.

The worker's result carries the class table (index, name, colour), so the QGIS side needs neither the
checkpoint nor torch to give the output layer class names in the legend and the model's colours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qgis.core import (
    QgsPalettedRasterRenderer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
)
from qgis.PyQt.QtGui import QColor

from .labels import class_label


def paletted_renderer(
    layer: QgsRasterLayer, classes: Sequence[Mapping[str, Any]]
) -> QgsPalettedRasterRenderer:
    """A renderer showing band 1's class indices with the class table's names and colours."""
    entries = [
        QgsPalettedRasterRenderer.Class(
            int(entry["index"]), QColor(*entry["colour"][:3]), class_label(str(entry["name"]))
        )
        for entry in sorted(classes, key=lambda entry: int(entry["index"]))
    ]
    return QgsPalettedRasterRenderer(layer.dataProvider(), 1, entries)


def style_classified_layer(layer: QgsRasterLayer, classes: Sequence[Mapping[str, Any]]) -> None:
    """Apply :func:`paletted_renderer` and refresh the layer (and its legend)."""
    layer.setRenderer(paletted_renderer(layer, classes))
    layer.triggerRepaint()
    layer.emitStyleChanged()


class ClassStyler(QgsProcessingLayerPostProcessorInterface):
    """Styles the algorithm's output layer when Processing loads it into the project.

    Processing keeps only a raw pointer to a post-processor, so the algorithm holds a reference to this
    object until the run's results are handled.
    """

    def __init__(self, classes: Sequence[Mapping[str, Any]]) -> None:
        super().__init__()
        self.classes = [dict(entry) for entry in classes]

    def postProcessLayer(
        self, layer: QgsRasterLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        """Called by Processing on the main thread once the output layer is loaded."""
        if isinstance(layer, QgsRasterLayer) and self.classes:
            style_classified_layer(layer, self.classes)
