"""``geofuse:segment``: classify land cover from an optical and an elevation raster layer.

The one QGIS-side implementation of segmentation: the toolbox, the graphical modeler, batch mode,
``processing.run``, ``qgis_process`` and the dock all run this algorithm. The model runs in the GeoFuse
worker process; this side only resolves layers to files, relays progress and styles the result.
"""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsFeatureRequest,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBand,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingUtils,
    QgsRasterLayer,
    QgsRectangle,
)

from ...backend.outputs import leftover_temporaries
from ...backend.paths import DEMO_MODEL
from ...backend.tiling import tiling_problem
from ..dock.card import CardError, read_card
from ..labels import class_label, number
from ..styling import ClassStyler
from ..worker_client import WorkerCancelledError, run_worker
from .common import (
    FILE,
    INTEGER,
    TYPE_POLYGON,
    DeviceParameter,
    GeoFuseAlgorithm,
    advanced,
)
from .inputs import RasterInput


def remove_partial_outputs(output: str, confidence: str | None) -> None:
    """Remove exactly what a worker that was killed (cancel) or crashed left at these outputs: the files its
    journal in the lock files lists, and the lock files (the engine's own rule, ``backend/outputs.py``).
    Never a file found by a pattern, so a concurrent run's temporaries beside the same output are safe; an
    output whose lock another run holds is left alone: those files are its."""
    leftover_temporaries(output, confidence)


class SegmentAlgorithm(GeoFuseAlgorithm):
    """Optical + elevation → classified raster (and optionally a confidence raster)."""

    OPTICAL = "OPTICAL"
    ELEVATION = "ELEVATION"
    MODEL = "MODEL"
    OPTICAL_BANDS = "OPTICAL_BANDS"
    DEVICE = "DEVICE"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    BATCH_SIZE = "BATCH_SIZE"
    EXTENT = "EXTENT"
    MASK = "MASK"
    OUTPUT = "OUTPUT"
    CONFIDENCE = "CONFIDENCE"
    TILES = "TILES"
    ELAPSED = "ELAPSED"
    CLASS_AREAS = "CLASS_AREAS"

    def __init__(self) -> None:
        super().__init__()
        self.stylers: list[ClassStyler] = []  # Processing holds raw pointers; batch runs add one per row

    def name(self) -> str:
        """Stable id: ``geofuse:segment``."""
        return "segment"

    def displayName(self) -> str:
        """Shown in the toolbox."""
        return self.tr("Segment land cover (optical + elevation)")

    def shortHelpString(self) -> str:
        """The help panel beside the dialog."""
        return self.tr(
            "Classifies every pixel of the optical layer into land-cover classes (impervious surfaces, "
            "building, low vegetation, tree, car, clutter for the bundled model) using the optical layer and "
            "an elevation layer (DSM or nDSM) together.\n\n"
            "The output has the optical layer's grid; the elevation is resampled onto it. Layers that are "
            "not files (WMS, XYZ, database rasters) are exported to a temporary GeoTIFF first.\n\n"
            "Model: a GeoFuse checkpoint (.pt); empty uses the bundled demo model. Optical bands: the band "
            "numbers fed to the model, in the model's band order (empty: the first bands). Tile size and "
            "overlap set how the raster is cut into windows; lower them (or the batch size) if memory runs "
            "out.\n\n"
            "The model runs in the GeoFuse runtime, a separate Python with PyTorch (see "
            "'Create GeoFuse runtime'); QGIS itself never loads PyTorch."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """Declare the parameters: inputs, tiling, then the area and the outputs."""
        self._add_inputs()
        self._add_tiling()
        self._add_area_and_outputs()

    def _add_inputs(self) -> None:
        """The layers, the model, its bands and the device."""
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.OPTICAL, self.tr("Optical layer (RGB or IRRG)"))
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.ELEVATION, self.tr("Elevation layer (DSM or nDSM)"))
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.MODEL,
                self.tr("Model (GeoFuse checkpoint; empty: bundled demo model)"),
                behavior=FILE,
                extension="pt",
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterBand(
                self.OPTICAL_BANDS,
                self.tr("Optical bands, in the model's order (empty: the first bands)"),
                parentLayerParameterName=self.OPTICAL,
                optional=True,
                allowMultiple=True,
            )
        )
        self.addParameter(DeviceParameter(self.DEVICE, self.tr("Device")))

    def _add_tiling(self) -> None:
        """How the raster is cut into tiles and batched."""
        self.addParameter(
            QgsProcessingParameterNumber(
                self.TILE_SIZE,
                self.tr("Tile size (pixels; 0 = the model's default: 512 or its training crop if larger)"),
                INTEGER,
                defaultValue=0,
                minValue=0,
                maxValue=8192,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.OVERLAP,
                self.tr("Tile overlap (pixels)"),
                INTEGER,
                defaultValue=64,
                minValue=0,
                maxValue=4096,
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.BATCH_SIZE,
                    self.tr("Tiles per batch"),
                    INTEGER,
                    defaultValue=4,
                    minValue=1,
                    maxValue=256,
                )
            )
        )

    def _add_area_and_outputs(self) -> None:
        """Which part of the raster, and what is written and returned."""
        self.addParameter(
            QgsProcessingParameterExtent(
                self.EXTENT, self.tr("Extent (empty: the whole optical layer)"), optional=True
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterFeatureSource(
                    self.MASK,
                    self.tr("Area: polygons (pixels outside become nodata; empty: no mask)"),
                    [TYPE_POLYGON],
                    optional=True,
                )
            )
        )
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Land cover")))
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.CONFIDENCE, self.tr("Confidence"), optional=True, createByDefault=False
            )
        )
        self.addOutput(QgsProcessingOutputNumber(self.TILES, self.tr("Tiles processed")))
        self.addOutput(QgsProcessingOutputNumber(self.ELAPSED, self.tr("Seconds taken")))
        self.addOutput(
            QgsProcessingOutputString(self.CLASS_AREAS, self.tr("Class areas and class table (JSON)"))
        )

    def checkParameterValues(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[bool, str]:
        """Refuse what the QGIS side can already tell is wrong, before the runtime starts: an overlap that
        leaves no stride (the engine's own rule, :func:`~geofuse.backend.tiling.tiling_problem`), the same
        layer twice, a model that is not a GeoFuse checkpoint, bands that do not match the model."""
        problem = self.tiling_message(parameters, context)
        if problem:
            return False, problem
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        problem = self.input_problem(parameters, context)
        return (False, problem) if problem else (True, "")

    def tiling_message(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str | None:
        """Why the tile size and overlap cannot run (tile 0: the model's default tile); None when they can.

        The parameters' bounds allow no negative overlap and no negative tile, so the one problem left to
        word is an overlap of a whole tile or more.
        """
        tile = self.parameterAsInt(parameters, self.TILE_SIZE, context)
        overlap = self.parameterAsInt(parameters, self.OVERLAP, context)
        if not tile:
            model = self.parameterAsFile(parameters, self.MODEL, context) or str(DEMO_MODEL)
            try:
                tile = read_card(model).tile
            except CardError:
                return None  # input_problem reports the model
        if tiling_problem(tile, overlap) is None:
            return None
        return self.tr("The overlap ({}) must be less than the tile size ({}).").format(overlap, tile)

    def input_problem(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str | None:
        """What is wrong with the layers, bands and model, in one sentence; None when nothing is."""
        optical = self.parameterAsRasterLayer(parameters, self.OPTICAL, context)
        elevation = self.parameterAsRasterLayer(parameters, self.ELEVATION, context)
        if optical is None or elevation is None:
            return None  # Processing reports a missing layer itself
        if optical.id() == elevation.id() or optical.source() == elevation.source():
            return self.tr(
                "The optical and the elevation layer are the same layer ({}); choose two different layers."
            ).format(optical.name())
        model = self.parameterAsFile(parameters, self.MODEL, context) or str(DEMO_MODEL)
        try:
            card = read_card(model)
        except CardError as error:
            return self.tr("The model cannot be used: {}").format(error)
        try:
            bands = self.band_numbers(parameters, self.OPTICAL_BANDS, context)
        except ValueError:
            return self.tr("Optical bands must be band numbers separated by commas, such as 3,2,1.")
        needed, names = len(card.optical_bands), "/".join(card.optical_bands)
        if bands is None and optical.bandCount() < needed:
            return self.tr("{} has {} band(s); the model needs {} optical bands ({}).").format(
                optical.name(), optical.bandCount(), needed, names
            )
        if bands is not None and len(bands) != needed:
            return self.tr("{} optical band(s) were given; the model needs {} ({}).").format(
                len(bands), needed, names
            )
        missing = [band for band in bands or [] if band > optical.bandCount()]
        if missing:
            return self.tr("{} has no band {}; it has {} band(s).").format(
                optical.name(), missing[0], optical.bandCount()
            )
        return None

    def resolve_inputs(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """The layers, the area and the mask of this run, resolved on the main thread (the request's inputs:
        :class:`~geofuse.plugin.algorithms.inputs.RasterInput` where the request holds a path)."""
        optical = self.parameterAsRasterLayer(parameters, self.OPTICAL, context)
        if optical is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, self.OPTICAL))
        elevation = self.parameterAsRasterLayer(parameters, self.ELEVATION, context)
        if elevation is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, self.ELEVATION))
        extent_rectangle = None
        extent = None
        if parameters.get(self.EXTENT):
            extent_rectangle = self.parameterAsExtent(parameters, self.EXTENT, context, optical.crs())
            extent = [
                extent_rectangle.xMinimum(),
                extent_rectangle.yMinimum(),
                extent_rectangle.xMaximum(),
                extent_rectangle.yMaximum(),
            ]
        return {
            "optical": RasterInput(optical, context, extent_rectangle, optical.crs()),
            "elevation": RasterInput(elevation, context, extent_rectangle, optical.crs(), reference=optical),
            "extent": extent,
            "mask": self.mask_path(parameters, context, optical, extent_rectangle),
        }

    def request(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """The worker request for these parameters, from the inputs :meth:`resolve_inputs` prepared (layers
        exported to files the worker can read, here on the task's thread)."""
        inputs = self.prepared_inputs()
        model = self.parameterAsFile(parameters, self.MODEL, context) or None
        if model is None and not DEMO_MODEL.is_file():
            raise QgsProcessingException(
                self.tr("No model given and the bundled demo model is missing ({}).").format(DEMO_MODEL)
            )
        request = {
            "command": "segment",
            "optical": inputs["optical"].path(feedback),
            "elevation": inputs["elevation"].path(feedback),
            "output": self.parameterAsOutputLayer(parameters, self.OUTPUT, context),
            "model": model or str(DEMO_MODEL),
            "optical_bands": self.band_numbers(parameters, self.OPTICAL_BANDS, context),
            "device": self.device(parameters, self.DEVICE, context),
            "tile": self.parameterAsInt(parameters, self.TILE_SIZE, context) or None,
            "overlap": self.parameterAsInt(parameters, self.OVERLAP, context),
            "batch_size": self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            "extent": inputs["extent"],
            "confidence": self.parameterAsOutputLayer(parameters, self.CONFIDENCE, context) or None,
            "overwrite": True,
            "class_band_description": self.tr("land-cover class"),
            "confidence_band_description": self.tr("confidence (max softmax probability)"),
        }
        if inputs["mask"] is not None:
            request["mask"] = inputs["mask"]
        return request

    def mask_path(
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        optical: QgsRasterLayer,
        extent: QgsRectangle | None,
    ) -> str | None:
        """Write the MASK polygons, in the optical layer's CRS, to a temporary GeoJSON for the worker.

        Raises:
            QgsProcessingException: If the polygons do not overlap the optical layer (and the extent).
        """
        source = self.parameterAsSource(parameters, self.MASK, context)
        if source is None:
            return None
        request = QgsFeatureRequest().setDestinationCrs(optical.crs(), context.transformContext())
        area = optical.extent() if extent is None else optical.extent().intersect(extent)
        features = []
        for feature in source.getFeatures(request):
            geometry = feature.geometry()
            if geometry.isEmpty() or not geometry.boundingBox().intersects(area):
                continue
            features.append({"type": "Feature", "properties": {}, "geometry": json.loads(geometry.asJson())})
        if not features:
            raise QgsProcessingException(
                self.tr("The mask polygons do not overlap the optical layer (or the extent).")
            )
        path = QgsProcessingUtils.generateTempFilename("geofuse_mask.geojson")
        with open(path, "w", encoding="utf-8") as stream:
            json.dump({"type": "FeatureCollection", "features": features}, stream)
        return path

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Run the worker and hand the styled output back to Processing."""
        request = self.request(parameters, context, feedback)
        try:
            result = run_worker(request, feedback)
        except QgsProcessingException as error:
            remove_partial_outputs(request["output"], request["confidence"])
            if isinstance(error, WorkerCancelledError):
                return self.cancelled(feedback, error)
            raise
        output = request["output"]
        for area in result.get("classes") or []:
            if area.get("area_m2") is not None:
                feedback.pushInfo(
                    self.tr("{}: {} m²").format(class_label(area["name"]), number(area["area_m2"], 1))
                )
            else:
                feedback.pushInfo(
                    self.tr("{}: {} pixels").format(class_label(area["name"]), number(area["pixels"]))
                )
        if context.willLoadLayerOnCompletion(output):
            self.stylers.append(ClassStyler(result.get("class_table") or []))
            context.layerToLoadOnCompletionDetails(output).setPostProcessor(self.stylers[-1])
        return {
            self.OUTPUT: output,
            self.CONFIDENCE: request["confidence"],
            self.TILES: result.get("tiles"),
            self.ELAPSED: result.get("elapsed_s"),
            self.CLASS_AREAS: json.dumps(
                {"classes": result.get("classes") or [], "class_table": result.get("class_table") or []}
            ),
        }
