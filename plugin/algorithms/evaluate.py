"""``geofuse:evaluate``: score a classified raster against ground truth (OA, per-class F1/IoU, mF1, mIoU)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
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

from ..worker_client import run_worker
from .common import FILE, INTEGER, NO_GEOMETRY, TYPE_TABLE, GeoFuseAlgorithm, advanced, raster_input_path

SCORES = ("precision", "recall", "f1", "iou")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def report_html(
    metrics: Mapping[str, Any], matrix: Sequence[Sequence[int]], prediction: str, truth: str
) -> str:
    """A self-contained HTML page: summary scores, per-class table and the confusion matrix as a heat map."""
    classes = metrics["classes"]
    names = [html.escape(str(entry["name"])) for entry in classes]
    rows = "".join(
        f"<tr><th>{name}</th>" + "".join(f"<td>{_percent(entry[score])}</td>" for score in SCORES)
        + f"<td>{entry['support']}</td></tr>"
        for name, entry in zip(names, classes, strict=True)
    )  # fmt: skip
    largest = max((max(row) for row in matrix if row), default=0) or 1
    cells = "".join(
        f"<tr><th>{names[i]}</th>"
        + "".join(
            f'<td style="background: rgba(31, 119, 180, {count / largest:.3f}); '
            f'color: {"white" if count / largest > 0.5 else "black"}">{count}</td>'
            for count in row
        )
        + "</tr>"
        for i, row in enumerate(matrix)
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>GeoFuse evaluation</title>
<style>body {{ font-family: sans-serif; }} table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}</style></head>
<body><h1>GeoFuse evaluation</h1>
<p>Classified: {html.escape(prediction)}<br>Ground truth: {html.escape(truth)}<br>
Pixels counted: {metrics["total"]}</p>
<table><tr><th>Overall accuracy</th><td>{_percent(metrics["overall_accuracy"])}</td></tr>
<tr><th>Mean F1</th><td>{_percent(metrics["mean_f1"])}</td></tr>
<tr><th>Mean IoU</th><td>{_percent(metrics["mean_iou"])}</td></tr></table>
<h2>Per class</h2>
<table><tr><th>Class</th><th>Precision</th><th>Recall</th><th>F1</th><th>IoU</th><th>Pixels (truth)</th></tr>
{rows}</table>
<h2>Confusion matrix</h2><p>Rows: ground truth; columns: classified.</p>
<table><tr><th></th>{"".join(f"<th>{name}</th>" for name in names)}</tr>{cells}</table>
</body></html>
"""


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

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Score in the worker, then write the report and the table here."""
        layers = {}
        for name in (self.PREDICTION, self.TRUTH):
            layer = self.parameterAsRasterLayer(parameters, name, context)
            if layer is None:
                raise QgsProcessingException(self.invalidRasterError(parameters, name))
            layers[name] = raster_input_path(layer, context, feedback)
        result = run_worker(
            {"command": "evaluate", "prediction": layers[self.PREDICTION], "truth": layers[self.TRUTH]},
            feedback,
        )
        metrics, matrix = result["metrics"], result["confusion_matrix"]
        report = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        Path(report).write_text(
            report_html(metrics, matrix, layers[self.PREDICTION], layers[self.TRUTH]), encoding="utf-8"
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
                _percent(metrics["overall_accuracy"]),
                _percent(metrics["mean_f1"]),
                _percent(metrics["mean_iou"]),
            )
        )
        return results
