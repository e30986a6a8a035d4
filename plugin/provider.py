"""The GeoFuse Processing provider (id ``geofuse``): segment, evaluate, train, fine-tune, runtime tools."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .algorithms.common import ICON_PATH
from .algorithms.diagnostics import DiagnosticsAlgorithm
from .algorithms.evaluate import EvaluateAlgorithm
from .algorithms.finetune import FinetuneAlgorithm
from .algorithms.install_runtime import InstallRuntimeAlgorithm
from .algorithms.segment import SegmentAlgorithm
from .algorithms.train import TrainAlgorithm


class GeoFuseProvider(QgsProcessingProvider):
    """Registers GeoFuse's algorithms under ``geofuse:``; ids are stable, names translated."""

    def id(self) -> str:
        """Prefix of every algorithm id."""
        return "geofuse"

    def name(self) -> str:
        """Shown as the toolbox folder."""
        return QCoreApplication.translate("GeoFuseProvider", "GeoFuse")

    def longName(self) -> str:
        """Name with what it does."""
        return QCoreApplication.translate("GeoFuseProvider", "GeoFuse land-cover segmentation")

    def icon(self) -> QIcon:
        """The GeoFuse icon."""
        return QIcon(str(ICON_PATH))

    def loadAlgorithms(self) -> None:
        """Add one instance of each algorithm."""
        for algorithm in (
            SegmentAlgorithm(),
            EvaluateAlgorithm(),
            TrainAlgorithm(),
            FinetuneAlgorithm(),
            InstallRuntimeAlgorithm(),
            DiagnosticsAlgorithm(),
        ):
            self.addAlgorithm(algorithm)

    def supportedOutputRasterLayerExtensions(self) -> list[str]:
        """The worker writes GeoTIFF (tiled, compressed, with the class colour table)."""
        return ["tif"]
