"""``geofuse:finetune``: adapt a model to the user's imagery from a few digitised training polygons.

The QGIS side of ``backend.finetune``: the toolbox, the modeler, batch mode, ``processing.run``,
``qgis_process`` and the dock's "Improve with my polygons" all run this algorithm. It checks here what QGIS
already knows (an empty or non-polygon layer, a missing or empty class field, polygons beside the optical
layer, a model whose bands the optical layer cannot give), so those mistakes are told at once instead of
after the worker's start; hands the worker files it can open (a polygon layer that is not a plain file is
exported to a temporary GeoPackage, as non-file rasters are exported to GeoTIFF); and makes sure a cancel or
a failure leaves nothing behind, even when the worker had to be killed in the middle of a step.
"""

from __future__ import annotations

import glob
import re
import shutil
import time
from pathlib import Path
from typing import Any

from qgis.core import (
    NULL,
    QgsFeatureRequest,
    QgsFeatureSource,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterBand,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingUtils,
    QgsRasterLayer,
    QgsWkbTypes,
)

from ...backend.locking import OutputBusyError, output_lock
from ...backend.paths import DEMO_MODEL
from ..dock.card import CardError, read_card
from ..labels import class_label, number
from ..worker_client import WorkerCancelledError, run_worker
from .common import (
    DOUBLE,
    FILE,
    INTEGER,
    POLYGON_GEOMETRY,
    TYPE_POLYGON,
    DeviceParameter,
    GeoFuseAlgorithm,
    advanced,
)
from .inputs import RasterInput

VECTOR_FORMATS = ["gpkg", "shp", "geojson", "json", "sqlite", "fgb"]
"""Files the worker reads as they are (through OGR); any other polygon source is exported to GeoPackage."""


def finetune_folders(output: Path) -> set[Path]:
    """The hidden working folders of fine-tuning runs writing ``output`` (``.<stem>.finetune-*``)."""
    if not output.parent.is_dir():
        return set()
    pattern = f".{glob.escape(output.stem)}.finetune-*"
    return {folder for folder in output.parent.glob(pattern) if folder.is_dir()}


def named_export(path: str, name: str) -> str:
    """A polygon file in Processing's temporary folder (an export, named after the parameter) copied to a
    file named after its layer, so the new model's lineage names the polygons the user knows; any other
    file is returned as it is."""
    exported = Path(path)
    if not exported.resolve().is_relative_to(Path(QgsProcessingUtils.tempFolder()).resolve()):
        return path
    stem = re.sub(r"[^\w-]+", "_", name).strip("_") or "polygons"
    named = QgsProcessingUtils.generateTempFilename(f"{stem}{exported.suffix}")
    shutil.copyfile(exported, named)
    journal = exported.with_name(exported.name + "-wal")  # a GeoPackage's pages not yet in the file
    if journal.is_file():
        shutil.copyfile(journal, named + "-wal")
    return named


def is_blank(value: Any) -> bool:
    """Whether a class value says nothing (NULL, None or only spaces)."""
    return value is None or value == NULL or (isinstance(value, str) and not value.strip())


class FinetuneAlgorithm(GeoFuseAlgorithm):
    """Optical + elevation + training polygons with a class field + base model → an improved model (.pt)."""

    OPTICAL = "OPTICAL"
    ELEVATION = "ELEVATION"
    POLYGONS = "POLYGONS"
    CLASS_FIELD = "CLASS_FIELD"
    MODEL = "MODEL"
    OPTICAL_BANDS = "OPTICAL_BANDS"
    MINUTES = "MINUTES"
    STEPS = "STEPS"
    FREEZE_STEPS = "FREEZE_STEPS"
    BATCH_SIZE = "BATCH_SIZE"
    CROP_SIZE = "CROP_SIZE"
    DEVICE = "DEVICE"
    SEED = "SEED"
    OUTPUT = "OUTPUT"
    NEW_CLASSES = "NEW_CLASSES"

    def name(self) -> str:
        """Stable id: ``geofuse:finetune``."""
        return "finetune"

    def displayName(self) -> str:
        """Shown in the toolbox."""
        return self.tr("Improve model with training polygons")

    def shortHelpString(self) -> str:
        """The help panel beside the dialog."""
        return self.tr(
            "Adapts a GeoFuse model to your own imagery from a few polygons you digitised on it, each with "
            "a class in the class field (a class name such as building or tree, or a class number of the "
            "model). Pixels outside the polygons are not used. A class name the model does not know (for "
            "example pool) becomes a new class of the improved model.\n\n"
            "The polygons may be in any CRS and any vector format; a layer that is not a file (a memory "
            "layer, a selection) is exported for the run. Draw a few polygons per class, inside objects of "
            "that class, over the optical layer.\n\n"
            "Model: the model to start from (empty: the bundled demo model). Time budget: the run stops "
            "after this many minutes or after the given number of steps, whichever comes first. The improved "
            "model (.pt) records which model and which polygons it came from; use it in 'Segment land "
            "cover'. A cancelled or failed run leaves no file behind.\n\n"
            "Training runs in the GeoFuse runtime, a separate Python with PyTorch; a GPU helps a lot."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """Declare the parameters: inputs, then training and outputs."""
        self._add_inputs()
        self._add_training_and_outputs()

    def _add_inputs(self) -> None:
        """The layers, the training polygons and their class field, the model and its bands."""
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.OPTICAL, self.tr("Optical layer (RGB or IRRG)"))
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(self.ELEVATION, self.tr("Elevation layer (DSM or nDSM)"))
        )
        self.addParameter(
            QgsProcessingParameterFeatureSource(self.POLYGONS, self.tr("Training polygons"), [TYPE_POLYGON])
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.CLASS_FIELD,
                self.tr("Class field (class names or class numbers)"),
                defaultValue="class",
                parentLayerParameterName=self.POLYGONS,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.MODEL,
                self.tr("Model to improve (GeoFuse checkpoint; empty: bundled demo model)"),
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

    def _add_training_and_outputs(self) -> None:
        """The training budget and schedule, the device, and where the model goes."""
        self.addParameter(
            QgsProcessingParameterNumber(
                self.MINUTES,
                self.tr("Time budget (minutes; 0 = only the step count)"),
                DOUBLE,
                defaultValue=5.0,
                minValue=0.0,
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.STEPS, self.tr("Training steps (at most)"), INTEGER, defaultValue=1000, minValue=1
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.FREEZE_STEPS,
                    self.tr("First steps with the encoders frozen"),
                    INTEGER,
                    defaultValue=0,
                    minValue=0,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.BATCH_SIZE, self.tr("Crops per step"), INTEGER, defaultValue=4, minValue=1
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.CROP_SIZE, self.tr("Crop size (pixels)"), INTEGER, defaultValue=256, minValue=32
                )
            )
        )
        self.addParameter(DeviceParameter(self.DEVICE, self.tr("Device")))
        self.addParameter(
            advanced(QgsProcessingParameterNumber(self.SEED, self.tr("Random seed"), INTEGER, 0))
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT, self.tr("Improved model"), self.tr("GeoFuse checkpoints (*.pt)")
            )
        )
        self.addOutput(QgsProcessingOutputString(self.NEW_CLASSES, self.tr("New classes (comma-separated)")))

    def resolve_inputs(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """The layers, model and polygons of this run, checked as far as QGIS can, on the main thread.

        Raises:
            QgsProcessingException: With one clear line for each input the run cannot use.
        """
        optical = self.parameterAsRasterLayer(parameters, self.OPTICAL, context)
        if optical is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, self.OPTICAL))
        elevation = self.parameterAsRasterLayer(parameters, self.ELEVATION, context)
        if elevation is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, self.ELEVATION))
        if optical.id() == elevation.id() or optical.source() == elevation.source():
            raise QgsProcessingException(
                self.tr(
                    "The optical and the elevation layer are the same layer; choose two different layers."
                )
            )
        model = self.parameterAsFile(parameters, self.MODEL, context) or str(DEMO_MODEL)
        try:
            bands = self.band_numbers(parameters, self.OPTICAL_BANDS, context) or []
        except ValueError:
            raise QgsProcessingException(
                self.tr("Optical bands must be band numbers separated by commas, such as 3,2,1.")
            ) from None
        self.check_model(model, optical, bands)
        source = self.parameterAsSource(parameters, self.POLYGONS, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.POLYGONS))
        class_field = self.check_polygons(
            source, self.parameterAsString(parameters, self.CLASS_FIELD, context), optical, context
        )
        polygons, layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, self.POLYGONS, context, VECTOR_FORMATS, "gpkg", feedback
        )
        return {
            "optical": RasterInput(optical, context),
            "elevation": RasterInput(elevation, context, reference=optical),
            "polygons": named_export(polygons, source.sourceName()),
            "layer": layer or "",
            "class_field": class_field,
            "model": model,
            "optical_bands": bands,
        }

    def request(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """The worker request, from the inputs :meth:`resolve_inputs` prepared and the output.

        Raises:
            QgsProcessingException: For an input the run cannot use, or an output that is the model itself.
        """
        inputs = self.prepared_inputs()
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        if not output.lower().endswith(".pt"):
            output += ".pt"
        if Path(output).resolve() == Path(inputs["model"]).resolve():
            raise QgsProcessingException(
                self.tr("The improved model would replace the model it starts from; choose another file.")
            )
        return {
            "command": "finetune",
            **inputs,
            "optical": inputs["optical"].path(feedback),
            "elevation": inputs["elevation"].path(feedback),
            "output": output,
            "minutes": self.parameterAsDouble(parameters, self.MINUTES, context),
            "steps": self.parameterAsInt(parameters, self.STEPS, context),
            "freeze_encoder_steps": self.parameterAsInt(parameters, self.FREEZE_STEPS, context),
            "batch_size": self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            "crop_size": self.parameterAsInt(parameters, self.CROP_SIZE, context),
            "device": self.device(parameters, self.DEVICE, context),
            "seed": self.parameterAsInt(parameters, self.SEED, context),
            "overwrite": True,
        }

    def check_model(self, model: str, optical: QgsRasterLayer, bands: list[int]) -> None:
        """Refuse a model that cannot be read or whose optical bands the optical layer cannot give.

        Raises:
            QgsProcessingException: Naming the model, the bands it needs and the layer's band count.
        """
        try:
            card = read_card(model)
        except CardError as error:
            raise QgsProcessingException(self.tr("The model cannot be used: {}").format(error)) from None
        needed = len(card.optical_bands)
        names = "/".join(card.optical_bands)
        if bands and len(bands) != needed:
            raise QgsProcessingException(
                self.tr("{} optical bands are chosen, but the model {} needs {} ({}).").format(
                    len(bands), Path(model).name, needed, names
                )
            )
        if max(bands or [needed]) > optical.bandCount():
            raise QgsProcessingException(
                self.tr("The optical layer {} has {} band(s), but the model {} needs {} ({}).").format(
                    optical.name(), optical.bandCount(), Path(model).name, needed, names
                )
            )

    def check_polygons(
        self,
        source: QgsFeatureSource,
        class_field: str,
        optical: QgsRasterLayer,
        context: QgsProcessingContext,
    ) -> str:
        """Refuse polygons the run could not learn from; return the class field's name as the layer spells it.

        Raises:
            QgsProcessingException: For a layer of points or lines, no features, a class field that is
                missing or empty in every feature, or no polygon over the optical layer.
        """
        if QgsWkbTypes.geometryType(source.wkbType()) != POLYGON_GEOMETRY:
            raise QgsProcessingException(
                self.tr("The training polygons must be polygons; {} holds {} geometries.").format(
                    source.sourceName(), QgsWkbTypes.displayString(source.wkbType())
                )
            )
        fields = source.fields()
        index = fields.lookupField(class_field) if class_field else -1
        if index < 0:
            raise QgsProcessingException(
                self.tr("The training polygons have no field {}; their fields are: {}.").format(
                    repr(class_field or ""), ", ".join(fields.names()) or "-"
                )
            )
        request = QgsFeatureRequest().setDestinationCrs(optical.crs(), context.transformContext())
        request.setSubsetOfAttributes([index])
        extent = optical.extent()
        features = labelled = overlapping = 0
        for feature in source.getFeatures(request):
            features += 1
            if is_blank(feature.attribute(index)) or not feature.hasGeometry():
                continue
            labelled += 1
            overlapping += feature.geometry().boundingBox().intersects(extent)
        if features == 0:
            raise QgsProcessingException(
                self.tr("The training polygons ({}) have no features; digitise some first.").format(
                    source.sourceName()
                )
            )
        if labelled == 0:
            raise QgsProcessingException(
                self.tr(
                    "The class field {} is empty in every training polygon; fill in a class for each."
                ).format(fields.at(index).name())
            )
        if overlapping == 0:
            raise QgsProcessingException(
                self.tr("None of the {} training polygons overlaps the optical layer {}.").format(
                    labelled, optical.name()
                )
            )
        return fields.at(index).name()

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Run the fine-tuning in the worker, holding the output's lock, and clean up after a cancel."""
        request = self.request(parameters, context, feedback)
        output = Path(request["output"])
        if not output.parent.is_dir():
            output.parent.mkdir(parents=True, exist_ok=True)
        try:
            with output_lock(output):
                result = self.run_locked(request, output, feedback)
        except WorkerCancelledError as stop:
            return self.cancelled(feedback, stop)
        except OutputBusyError:
            raise QgsProcessingException(
                self.tr("{} is being written by another run; choose another file.").format(output)
            ) from None
        self.report(result, feedback)
        return {self.OUTPUT: result["model"], self.NEW_CLASSES: ", ".join(result.get("new_classes") or [])}

    def run_locked(
        self, request: dict[str, Any], output: Path, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Run the worker; after a cancel or a failure remove what it could not (a killed worker leaves its
        hidden working folder, and a cancel in the last instant the finished model)."""
        before = finetune_folders(output)
        existed = output.exists()
        started = time.time()
        try:
            return run_worker(request, feedback)
        except QgsProcessingException:
            for folder in finetune_folders(output) - before:
                shutil.rmtree(folder, ignore_errors=True)
            if not existed and output.is_file() and output.stat().st_mtime >= started - 1:
                output.unlink(missing_ok=True)
            raise

    def report(self, result: dict[str, Any], feedback: QgsProcessingFeedback) -> None:
        """Labelled pixels per class, ignored overlaps and new classes, in the log."""
        summary = result.get("polygons") or {}
        pixels = summary.get("labelled_pixels") or {}
        feedback.pushInfo(
            self.tr("Labelled pixels per class: {}").format(
                ", ".join(f"{class_label(name)} {number(count)}" for name, count in pixels.items())
            )
        )
        if summary.get("overlap_pixels"):
            feedback.pushInfo(
                self.tr("{} pixels where polygons of different classes overlap were ignored.").format(
                    number(summary["overlap_pixels"])
                )
            )
        new = result.get("new_classes") or []
        if new:
            feedback.pushInfo(self.tr("New classes: {}").format(", ".join(new)))
        else:
            feedback.pushInfo(self.tr("All classes are known to the base model."))
        feedback.pushInfo(
            self.tr("Improved model written to {} ({} steps).").format(result["model"], result.get("steps"))
        )
