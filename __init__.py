"""GeoFuse: land-cover segmentation from optical + elevation rasters.

The repository root is both the QGIS plugin folder and the ``geofuse`` Python package. QGIS calls
``classFactory`` at start-up, so nothing heavy (torch, rasterio) is imported here.
"""


def classFactory(iface):  # noqa: ANN001, ANN201 - QGIS's entry-point signature
    """Return the plugin instance QGIS asks for."""
    from .plugin.geofuse_plugin import GeoFusePlugin

    return GeoFusePlugin(iface)
