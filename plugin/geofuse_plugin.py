"""Plugin entry: the Processing provider, the Raster ▸ GeoFuse menu entry, its own toolbar and the dock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qgis.core import QgsApplication, QgsProcessingProvider
from qgis.gui import QgisInterface
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QToolBar

from .algorithms.common import ICON_PATH
from .translation import install_translator, remove_translator

if TYPE_CHECKING:
    from .dock.widget import GeoFuseDock


class GeoFusePlugin:
    """What QGIS loads: ``initGui()`` adds the actions, ``unload()`` takes every one of them away again."""

    def __init__(self, iface: QgisInterface) -> None:
        self.iface = iface
        self.action: QAction | None = None
        self.toolbar: QToolBar | None = None
        self.dock: GeoFuseDock | None = None
        self.provider: QgsProcessingProvider | None = None
        # Installed here, not in initGui: qgis_process only calls initProcessing, and the toolbox names
        # must be translated there too.
        self.translator = install_translator()

    @staticmethod
    def tr(message: str) -> str:
        """Translate with the class name as context, the way pylupdate5 files ``tr()`` strings."""
        return QCoreApplication.translate("GeoFusePlugin", message)

    def initProcessing(self) -> None:
        """Register the Processing provider; QGIS calls this without ``initGui`` under ``qgis_process``."""
        if self.provider is None:
            from .provider import GeoFuseProvider

            self.provider = GeoFuseProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        """Register the provider, add the menu entry and the toolbar button."""
        self.initProcessing()
        self.action = QAction(QIcon(str(ICON_PATH)), self.tr("GeoFuse"), self.iface.mainWindow())
        self.action.setObjectName("geofuseAction")
        self.action.setToolTip(self.tr("Segment land cover from an optical and an elevation layer"))
        self.action.setCheckable(True)
        self.action.toggled.connect(self._set_dock_visible)
        # Its own toolbar, visible in a fresh profile (QGIS hides the Raster toolbar by default).
        self.toolbar = self.iface.addToolBar(self.tr("GeoFuse"))
        self.toolbar.setObjectName("GeoFuseToolbar")
        self.toolbar.addAction(self.action)
        self.iface.addPluginToRasterMenu(self.menu_name(), self.action)

    def menu_name(self) -> str:
        """The Raster menu sub-menu GeoFuse lives in."""
        return self.tr("&GeoFuse")

    def unload(self) -> None:
        """Undo everything ``initGui()`` and the dock did."""
        if self.dock is not None:
            self.dock.shutdown()
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.action is not None:
            self.iface.removePluginRasterMenu(self.menu_name(), self.action)
            self.action.deleteLater()
            self.action = None
        if self.toolbar is not None:
            self.iface.mainWindow().removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None

    def _set_dock_visible(self, visible: bool) -> None:
        if self.dock is None:
            if not visible:
                return
            self.dock = self._create_dock()
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.setUserVisible(visible)

    def _create_dock(self) -> GeoFuseDock:
        from .dock.widget import GeoFuseDock  # imported when first opened, as QuickOSM does with its dialogs

        dock = GeoFuseDock(self.iface, self.iface.mainWindow())
        dock.visibilityChanged.connect(self._sync_action)
        return dock

    def _sync_action(self, visible: bool) -> None:
        if self.action is not None and self.action.isChecked() != visible:
            self.action.setChecked(visible)
