"""``geofuse:diagnostics``: what the GeoFuse runtime is (versions, CUDA, devices, memory), for bug reports.

Besides the report (English text for a bug report), the algorithm returns what it found as values: the
Python and PyTorch versions and the devices as JSON, so the dock shows them in its own words and never reads
the report back.
"""

from __future__ import annotations

import json
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
    PYTHON_VERSION = "PYTHON_VERSION"
    TORCH_VERSION = "TORCH_VERSION"
    DEVICES = "DEVICES"
    DEVICE_KEYS = ("id", "name", "total_memory_mb", "free_memory_mb", "capability")
    """What DEVICES tells of each device (the keys the worker's report has for it)."""

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
        self.addOutput(QgsProcessingOutputString(self.PYTHON_VERSION, self.tr("Runtime Python version")))
        self.addOutput(QgsProcessingOutputString(self.TORCH_VERSION, self.tr("PyTorch version")))
        self.addOutput(QgsProcessingOutputString(self.DEVICES, self.tr("Devices (JSON)")))

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
        devices = [
            {key: device[key] for key in self.DEVICE_KEYS if key in device}
            for device in report.get("devices", [])
        ]
        return {
            self.REPORT: text,
            self.RUNTIME: str(runtime.python),
            self.CUDA_AVAILABLE: report["cuda_available"],
            self.PYTHON_VERSION: str(report.get("python") or ""),
            self.TORCH_VERSION: str(report.get("torch") or ""),
            self.DEVICES: json.dumps(devices),
        }
