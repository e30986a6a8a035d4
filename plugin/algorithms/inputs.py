"""Raster inputs resolved on the main thread, where QGIS's layers live, and written for the worker later.

QGIS calls an algorithm's ``prepareAlgorithm`` on the main thread and its ``processAlgorithm`` on a task
thread (the dock, the toolbox's background runs). Opening or reading a layer on the task thread while the
main thread processes events crashed QGIS now and then, so GeoFuse's algorithms look at layers only in
``prepareAlgorithm`` (see :meth:`~geofuse.plugin.algorithms.common.GeoFuseAlgorithm.prepareAlgorithm`): a
:class:`RasterInput` keeps plain values, and, for a layer that is not a plain file, a copy of its
provider, from which the task thread writes the temporary GeoTIFF without touching the layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingUtils,
    QgsProviderRegistry,
    QgsRasterDataProvider,
    QgsRasterFileWriter,
    QgsRasterLayer,
    QgsRasterPipe,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QCoreApplication

from .common import SIZE_CAPABILITY


def file_source(layer: QgsRasterLayer) -> str | None:
    """The path of a layer that is a plain raster file, or None if it must be exported first.

    Only plain files are passed by path: the worker opens inputs as files, so GDAL sources with a layer
    name or options (``GPKG:file.gpkg:table``), virtual file systems (``/vsimem/``, ``/vsizip/``) and VRTs of
    in-memory datasets are exported.
    """
    if layer.providerType() != "gdal":
        return None
    source = layer.source()
    path = QgsProviderRegistry.instance().decodeUri("gdal", source).get("path") or source
    if path != source or path.startswith("/vsi") or not Path(path).is_file():
        return None
    if path.lower().endswith(".vrt") and "MEM:::" in Path(path).read_text(encoding="utf-8", errors="replace"):
        return None
    return path


@dataclass
class _Export:
    """What writing a layer to a GeoTIFF needs, without the layer: its provider's copy, grid and CRS."""

    provider: QgsRasterDataProvider
    columns: int
    rows: int
    region: QgsRectangle
    crs: QgsCoordinateReferenceSystem
    transform_context: QgsCoordinateTransformContext
    path: str


class RasterInput:
    """A raster layer as the worker (another process) will read it: a file, or a GeoTIFF still to write.

    Made on the main thread from the layer; :meth:`path` may run on any thread. File-backed GDAL layers
    are passed as they are; anything else (WMS, XYZ, database rasters, in-memory ``/vsimem/`` data, VRTs of
    memory data) is exported over ``extent`` (or the layer's extent) at the layer's own resolution, or the
    ``reference`` layer's when it has none.

    Raises:
        QgsProcessingException: If a layer to export has no resolution of its own and no reference gives one.
    """

    def __init__(
        self,
        layer: QgsRasterLayer,
        context: QgsProcessingContext,
        extent: QgsRectangle | None = None,
        extent_crs: Any = None,
        reference: QgsRasterLayer | None = None,
    ) -> None:
        self.name = layer.name()
        self.file = file_source(layer)
        self.export = None if self.file else _plan_export(layer, context, extent, extent_crs, reference)

    def path(self, feedback: QgsProcessingFeedback) -> str:
        """The file for the worker, written first when the layer is not a plain file.

        Raises:
            QgsProcessingException: If GDAL cannot write the temporary GeoTIFF.
        """
        if self.file is not None:
            return self.file
        export, self.export = self.export, None  # the pipe takes the provider's copy and deletes it
        assert export is not None
        feedback.pushInfo(
            QCoreApplication.translate("GeoFuseAlgorithm", "Exporting {} to a temporary GeoTIFF").format(
                self.name
            )
        )
        pipe = QgsRasterPipe()
        pipe.set(export.provider)
        writer = QgsRasterFileWriter(export.path)
        writer.setOutputFormat("GTiff")
        error = writer.writeRaster(
            pipe, export.columns, export.rows, export.region, export.crs, export.transform_context
        )
        if error != QgsRasterFileWriter.NoError:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GeoFuseAlgorithm", "Could not export {} to a GeoTIFF (error {})."
                ).format(self.name, int(error))
            )
        self.file = export.path
        return self.file


def _plan_export(
    layer: QgsRasterLayer,
    context: QgsProcessingContext,
    extent: QgsRectangle | None,
    extent_crs: Any,
    reference: QgsRasterLayer | None,
) -> _Export:
    """The grid of ``layer``'s export in its own CRS, to a file in Processing's temporary folder (removed
    when QGIS exits)."""
    region = layer.extent()
    if extent is not None and not extent.isNull():
        region = extent
        if extent_crs is not None and extent_crs.isValid() and extent_crs != layer.crs():
            region = QgsCoordinateTransform(
                extent_crs, layer.crs(), context.transformContext()
            ).transformBoundingBox(extent)
        region = region.intersect(layer.extent()) if layer.extent().isFinite() else region
    provider = layer.dataProvider()
    if provider.capabilities() & SIZE_CAPABILITY and provider.xSize() > 0:
        x_res, y_res = layer.rasterUnitsPerPixelX(), layer.rasterUnitsPerPixelY()
    elif reference is not None and reference.crs() == layer.crs():
        x_res, y_res = reference.rasterUnitsPerPixelX(), reference.rasterUnitsPerPixelY()
    else:
        # No trailing comma after the text: pylupdate5 drops a translate() call that has one.
        message = QCoreApplication.translate(
            "GeoFuseAlgorithm",
            "{} has no resolution of its own; export it to a GeoTIFF at the resolution you want first."
        )  # fmt: skip
        raise QgsProcessingException(message.format(layer.name()))
    return _Export(
        provider=provider.clone(),
        columns=max(1, round(region.width() / x_res)),
        rows=max(1, round(region.height() / y_res)),
        region=QgsRectangle(region),
        crs=QgsCoordinateReferenceSystem(layer.crs()),
        transform_context=QgsCoordinateTransformContext(context.transformContext()),
        path=QgsProcessingUtils.generateTempFilename(f"geofuse_{layer.id() or 'input'}.tif"),
    )
