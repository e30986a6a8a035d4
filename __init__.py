"""GeoFuse: land-cover segmentation from optical + elevation rasters.

The repository root is both the QGIS plugin folder and the ``geofuse`` Python package. QGIS calls
``classFactory`` at start-up, so nothing heavy (torch, rasterio) is imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qgis.gui import QgisInterface

    from .plugin.geofuse_plugin import GeoFusePlugin


def classFactory(iface: QgisInterface) -> GeoFusePlugin:
    """Return the plugin instance QGIS asks for."""
    from .plugin.geofuse_plugin import GeoFusePlugin

    return GeoFusePlugin(iface)
