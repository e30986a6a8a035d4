"""``geofuse:install_runtime``: create the GeoFuse runtime (a venv with PyTorch) and check it works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
)

from ..runtime import (
    Runtime,
    RuntimeInstallError,
    detect_cuda_version,
    format_diagnostics,
    install_runtime,
    qgis_python,
    runtime_venv_dir,
)
from ..worker_client import run_worker
from .common import FILE, FOLDER, SetupAlgorithm, advanced

BUILDS = ("auto", "cpu", "cuda")


class InstallRuntimeAlgorithm(SetupAlgorithm):
    """Makes the venv, pip-installs pinned torch (CUDA or CPU build) and the backend's packages, verifies."""

    BUILD = "BUILD"
    BASE_PYTHON = "BASE_PYTHON"
    TARGET = "TARGET"
    PYTHON = "PYTHON"
    CUDA_AVAILABLE = "CUDA_AVAILABLE"
    REPORT = "REPORT"

    def name(self) -> str:
        """Stable id: ``geofuse:install_runtime``."""
        return "install_runtime"

    def displayName(self) -> str:
        """Shown in the toolbox."""
        return self.tr("Create GeoFuse runtime")

    def shortHelpString(self) -> str:
        """The help panel beside the dialog."""
        return self.tr(
            "Creates the GeoFuse runtime: a separate Python environment (venv) in your QGIS profile with "
            "PyTorch, numpy and rasterio, so that QGIS's own Python is never modified. Needs internet access "
            "and a few GB of disk space. pip's own configuration (index, extra index, proxy, certificates: "
            "pip.conf and PIP_* variables) is used; the PyTorch download index is added as an extra index "
            "when it is reachable. The runtime is built in a temporary folder and replaces the old one only "
            "once it has passed its self-check.\n\n"
            "PyTorch build: 'auto' installs the CUDA build when nvidia-smi reports an NVIDIA GPU, otherwise "
            "the CPU build. At the end the runtime checks itself and reports whether CUDA works."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """Declare the parameters."""
        self.addParameter(
            QgsProcessingParameterEnum(
                self.BUILD,
                self.tr("PyTorch build"),
                options=list(BUILDS),
                defaultValue="auto",
                usesStaticStrings=True,
            )
        )
        base = qgis_python()
        self.addParameter(
            advanced(
                QgsProcessingParameterFile(
                    self.BASE_PYTHON,
                    self.tr("Python to create the venv from"),
                    behavior=FILE,
                    defaultValue=str(base) if base is not None else None,
                    optional=True,
                    fileFilter=self.tr("All files (*)"),  # interpreters have no extension on Linux/macOS
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterFile(
                    self.TARGET,
                    self.tr("Runtime folder (empty: in the QGIS profile)"),
                    behavior=FOLDER,
                    optional=True,
                )
            )
        )
        self.addOutput(QgsProcessingOutputString(self.PYTHON, self.tr("Runtime Python")))
        self.addOutput(QgsProcessingOutputBoolean(self.CUDA_AVAILABLE, self.tr("CUDA available")))
        self.addOutput(QgsProcessingOutputString(self.REPORT, self.tr("Diagnostics report")))

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Install, streaming pip's output, then run the worker's self-check in the new runtime."""
        base = self.parameterAsFile(parameters, self.BASE_PYTHON, context) or (str(qgis_python() or ""))
        if not base or not Path(base).is_file():
            raise QgsProcessingException(
                self.tr("No Python to create the runtime from; set 'Python to create the venv from'.")
            )
        target = Path(self.parameterAsFile(parameters, self.TARGET, context) or runtime_venv_dir())
        build = self.parameterAsEnumString(parameters, self.BUILD, context) or "auto"
        cuda = detect_cuda_version() if build != "cpu" else None
        if build == "cuda" and cuda is None:
            raise QgsProcessingException(
                self.tr("The CUDA build was asked for, but nvidia-smi reports no NVIDIA GPU.")
            )
        feedback.pushInfo(
            self.tr("NVIDIA driver supports CUDA {}").format(cuda)
            if cuda
            else self.tr("No NVIDIA GPU found: CPU build")
        )

        def progress(percent: float, label: str) -> None:
            feedback.setProgress(percent)
            feedback.setProgressText(label)

        report: dict[str, Any] = {}

        def verify(python: Path) -> None:
            """The worker's self-check in the built venv, before it is moved into place."""
            check = run_worker({"command": "diagnostics"}, feedback, Runtime(python, "new GeoFuse runtime"))
            if not check.get("ok"):
                raise RuntimeInstallError(
                    self.tr("The runtime was built but does not work, so it was not installed:\n{}").format(
                        "\n".join(check.get("problems", []))
                    )
                )
            report.update(check)

        try:
            python = install_runtime(
                target, Path(base), feedback.pushConsoleInfo, progress, feedback.isCanceled, verify, cuda
            )
        except (RuntimeInstallError, QgsProcessingException) as error:
            raise QgsProcessingException(str(error)) from error
        runtime = Runtime(python, "runtime created by GeoFuse")
        text = format_diagnostics(runtime, report)
        feedback.pushInfo(text)
        if cuda and not report.get("cuda_available"):
            feedback.reportError(
                self.tr("PyTorch's CUDA build is installed but CUDA is not available in it."), False
            )
        feedback.setProgress(100)
        return {
            self.PYTHON: str(python),
            self.CUDA_AVAILABLE: bool(report.get("cuda_available")),
            self.REPORT: text,
        }
