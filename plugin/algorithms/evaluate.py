"""``geofuse:evaluate``: score a classified raster against ground truth (OA, per-class F1/IoU, mF1, mIoU)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QVariant

from ...backend.report_html import SCORES, percent, report_html
from ..worker_client import WorkerCancelledError, run_worker
from .common import FILE, INTEGER, NO_GEOMETRY, TYPE_TABLE, GeoFuseAlgorithm, advanced
from .inputs import RasterInput


class EvaluateAlgorithm(GeoFuseAlgorithm):
    """Classified raster + ground truth → HTML report and a per-class score table."""

    PREDICTION = "PREDICTION"
    TRUTH = "TRUTH"
    CLASSES = "CLASSES"
    ERODED_RADIUS = "ERODED_RADIUS"
    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_TABLE = "OUTPUT_TABLE"
    OVERALL_ACCURACY = "OVERALL_ACCURACY"
    MEAN_F1 = "MEAN_F1"
    MEAN_IOU = "MEAN_IOU"

    def name(self) -> str:
        """Stable id: ``geofuse:evaluate``."""
        return "evaluate"

    def displayName(self) -> str:
        """Shown in the toolbox."""
        return self.tr("Evaluate land cover against ground truth")

    def shortHelpString(self) -> str:
        """The help panel beside the dialog."""
        return self.tr(
            "Compares a classified raster (e.g. the output of 'Segment land cover') with a ground-truth "
            "raster of the same classes, pixel by pixel, and reports the overall accuracy, precision, "
            "recall, F1 and IoU of each class, their means (mF1, mIoU) and the confusion matrix. Ground "
            "truth may be class indices or the class colours; nodata pixels are not counted."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """Declare the parameters."""
        self.addParameter(QgsProcessingParameterRasterLayer(self.PREDICTION, self.tr("Classified raster")))
        self.addParameter(QgsProcessingParameterRasterLayer(self.TRUTH, self.tr("Ground-truth raster")))
        self.addParameter(
            advanced(
                QgsProcessingParameterFile(
                    self.CLASSES,
                    self.tr("Class table (CSV index,name,r,g,b; empty: ISPRS classes)"),
                    FILE,
                    extension="csv",
                    optional=True,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.ERODED_RADIUS,
                    self.tr("Leave out pixels this close to a class boundary (ISPRS: 3; 0 = none)"),
                    INTEGER,
                    0,
                    minValue=0,
                    maxValue=20,
                )
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_HTML, self.tr("Evaluation report"), self.tr("HTML files (*.html)")
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT_TABLE, self.tr("Scores per class"), TYPE_TABLE, optional=True
            )
        )
        self.addOutput(QgsProcessingOutputNumber(self.OVERALL_ACCURACY, self.tr("Overall accuracy")))
        self.addOutput(QgsProcessingOutputNumber(self.MEAN_F1, self.tr("Mean F1")))
        self.addOutput(QgsProcessingOutputNumber(self.MEAN_IOU, self.tr("Mean IoU")))

    def resolve_inputs(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, RasterInput]:
        """The two rasters, on the main thread."""
        rasters = {}
        for name in (self.PREDICTION, self.TRUTH):
            layer = self.parameterAsRasterLayer(parameters, name, context)
            if layer is None:
                raise QgsProcessingException(self.invalidRasterError(parameters, name))
            rasters[name] = RasterInput(layer, context)
        return rasters

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Score in the worker, then write the report and the table here."""
        layers = {name: raster.path(feedback) for name, raster in self.prepared_inputs().items()}
        try:
            result = run_worker(
                {"command": "evaluate", "prediction": layers[self.PREDICTION], "truth": layers[self.TRUTH]},
                feedback,
            )
        except WorkerCancelledError as stop:
            return self.cancelled(feedback, stop)
        metrics, matrix = result["metrics"], result["confusion_matrix"]
        report = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        Path(report).write_text(
            report_html(
                [("", metrics, matrix)],
                {"Classified": layers[self.PREDICTION], "Ground truth": layers[self.TRUTH]},
            ),
            encoding="utf-8",
        )
        results = {
            self.OUTPUT_HTML: report,
            self.OVERALL_ACCURACY: metrics["overall_accuracy"],
            self.MEAN_F1: metrics["mean_f1"],
            self.MEAN_IOU: metrics["mean_iou"],
        }
        fields = QgsFields()
        fields.append(QgsField("class_index", QVariant.Int))
        fields.append(QgsField("class", QVariant.String))
        for score in SCORES:
            fields.append(QgsField(score, QVariant.Double))
        fields.append(QgsField("support", QVariant.LongLong))
        fields.append(QgsField("predicted", QVariant.LongLong))
        sink, table = self.parameterAsSink(parameters, self.OUTPUT_TABLE, context, fields, NO_GEOMETRY)
        if sink is not None:
            for index, entry in enumerate(metrics["classes"]):
                feature = QgsFeature(fields)
                feature.setAttributes(
                    [
                        index,
                        entry["name"],
                        *(entry[score] for score in SCORES),
                        entry["support"],
                        entry["predicted"],
                    ]
                )
                sink.addFeature(feature, QgsFeatureSink.FastInsert)
            results[self.OUTPUT_TABLE] = table
        feedback.pushInfo(
            self.tr("Overall accuracy {}, mean F1 {}, mean IoU {}").format(
                percent(metrics["overall_accuracy"]),
                percent(metrics["mean_f1"]),
                percent(metrics["mean_iou"]),
            )
        )
        return results
