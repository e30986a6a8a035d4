"""``geofuse:diagnostics``: what the GeoFuse runtime is (versions, CUDA, devices, memory), for bug reports."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputString,
)

from ..runtime import RuntimeNotFoundError, find_runtime, format_diagnostics
from ..worker_client import run_worker
from .common import SetupAlgorithm


class DiagnosticsAlgorithm(SetupAlgorithm):
    """Runs the worker's self-check and logs a report a user can paste into a bug report."""

    REPORT = "REPORT"
    CUDA_AVAILABLE = "CUDA_AVAILABLE"
    RUNTIME = "RUNTIME"

    def name(self) -> str:
        """Stable id: ``geofuse:diagnostics``."""
        return "diagnostics"

    def displayName(self) -> str:
        """Shown in the toolbox."""
        return self.tr("Check GeoFuse runtime")

    def shortHelpString(self) -> str:
        """The help panel beside the dialog."""
        return self.tr(
            "Starts the GeoFuse runtime (the separate Python with PyTorch that runs the models) and reports "
            "where it is, its Python, PyTorch, rasterio and GDAL versions, whether CUDA is available and "
            "each device with its memory. Copy the log into a bug report."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """No inputs; the report is the output."""
        self.addOutput(QgsProcessingOutputString(self.REPORT, self.tr("Diagnostics report")))
        self.addOutput(QgsProcessingOutputString(self.RUNTIME, self.tr("Runtime Python")))
        self.addOutput(QgsProcessingOutputBoolean(self.CUDA_AVAILABLE, self.tr("CUDA available")))

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Find the runtime, run the self-check, log the report."""
        try:
            runtime = find_runtime()
        except RuntimeNotFoundError as error:
            raise QgsProcessingException(str(error)) from error
        report = run_worker({"command": "diagnostics"}, feedback, runtime)
        text = format_diagnostics(runtime, report)
        feedback.pushInfo(text)
        if not report.get("ok"):
            raise QgsProcessingException(
                self.tr("The GeoFuse runtime is not usable:\n{}").format(
                    "\n".join(report.get("problems", []))
                )
            )
        return {
            self.REPORT: text,
            self.RUNTIME: str(runtime.python),
            self.CUDA_AVAILABLE: report["cuda_available"],
        }
