"""The dock's runtime line: what ``geofuse:diagnostics`` found, the devices it offers, set-up and copy.

The check runs as a background task (it starts the runtime, which imports torch: seconds), never on the GUI
thread; the dock offers Auto and CPU until it has answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qgis.core import Qgis, QgsMessageLog
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..runtime import NoRuntimeError, RuntimeIncompleteError, RuntimeNotFoundError, find_runtime
from .task import AlgorithmRun

DEVICE_LINE = re.compile(r"^\s+(cuda:\d+): (.*?)(?:, (\d+) MB free of (\d+) MB)?$")


@dataclass(frozen=True)
class RuntimeSummary:
    """The parts of a diagnostics report the dock shows."""

    python: str
    torch: str
    cuda: bool
    devices: list[tuple[str, str]] = field(default_factory=list)
    """(id, description) of each CUDA device, e.g. ``("cuda:0", "NVIDIA A100, 40960 MB")``."""


def parse_report(report: str, cuda_available: bool) -> RuntimeSummary:
    """Read :func:`runtime.format_diagnostics`'s text back into a :class:`RuntimeSummary`."""
    python = re.search(r"^python: (\S+)", report, re.MULTILINE)
    torch = re.search(r"^torch: (\S+)", report, re.MULTILINE)
    devices = []
    for line in report.splitlines():
        found = DEVICE_LINE.match(line)
        if found:
            memory = f", {found.group(4)} MB" if found.group(4) else ""
            devices.append((found.group(1), f"{found.group(2)}{memory}"))
    return RuntimeSummary(
        python=python.group(1) if python else "?",
        torch=torch.group(1) if torch else "?",
        cuda=cuda_available,
        devices=devices,
    )


class RuntimePanel(QWidget):
    """Status line, "Set up / repair runtime" and "Copy diagnostics"; emits the devices once checked."""

    devices_found = pyqtSignal(list)
    setup_requested = pyqtSignal()
    usable_changed = pyqtSignal(bool)
    """Emitted when a check ends: False while the runtime is missing or fails its self-check."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run: AlgorithmRun | None = None
        self.finished_run: AlgorithmRun | None = None  # not freed inside its own finished signal
        self.report = ""
        self.summary: RuntimeSummary | None = None
        self.status = QLabel(self.tr("GeoFuse runtime: checking…"), self)
        self.status.setObjectName("runtimeStatus")
        self.status.setWordWrap(True)
        self.setup_button = QPushButton(self.tr("Set up / repair runtime"), self)
        self.setup_button.setObjectName("runtimeSetupButton")
        self.setup_button.clicked.connect(self.setup_requested)
        self.copy_button = QPushButton(self.tr("Copy diagnostics"), self)
        self.copy_button.setObjectName("copyDiagnosticsButton")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_diagnostics)
        # The status on its own line above the buttons: side by side they need more than a default dock.
        buttons = QHBoxLayout()
        buttons.addWidget(self.setup_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def check(self) -> None:
        """Start ``geofuse:diagnostics`` in the background (once at a time)."""
        if self.run is not None:
            return
        self.status.setText(self.tr("GeoFuse runtime: checking…"))
        self.status.setToolTip("")
        self.report = ""
        try:
            find_runtime()
        except NoRuntimeError as error:
            self._not_usable(self.tr("No GeoFuse runtime yet."), str(error), self.tr("Set up runtime"))
            return
        except RuntimeIncompleteError as error:
            self._not_usable(self._incomplete(), str(error), self.tr("Set up runtime"))
            return
        except RuntimeNotFoundError as error:
            self._not_usable(str(error), str(error), self.tr("Set up runtime"))
            return
        try:
            self.run = AlgorithmRun("geofuse:diagnostics", {}, self.tr("Checking the GeoFuse runtime"))
        except LookupError as error:
            self.status.setText(self.tr("GeoFuse runtime: cannot check ({})").format(error))
            return
        self.run.finished.connect(self._checked)
        self.run.start()

    def is_running(self) -> bool:
        """Whether a check is under way."""
        return self.run is not None

    def cancel(self) -> None:
        """Stop a check under way."""
        if self.run is not None:
            self.run.cancel()

    def _checked(self, ok: bool, results: dict) -> None:
        run, self.run = self.run, None
        assert run is not None
        self.finished_run = run
        self.report = str(results.get("REPORT") or "\n".join(run.feedback.errors))
        self.copy_button.setEnabled(bool(self.report))
        if ok:
            self.summary = parse_report(self.report, bool(results.get("CUDA_AVAILABLE")))
            self.status.setText(
                self.tr("GeoFuse runtime: Python {}, torch {}, CUDA: {}").format(
                    self.summary.python,
                    self.summary.torch,
                    self.tr("yes") if self.summary.cuda else self.tr("no"),
                )
            )
            self.status.setToolTip(self.report)
            self.setup_button.setText(self.tr("Repair runtime"))
            self.devices_found.emit(self.summary.devices)
            self.usable_changed.emit(True)
            return
        reason = run.feedback.errors[-1] if run.feedback.errors else self.tr("the check failed")
        self._not_usable(self._incomplete(), reason, self.tr("Set up runtime"))

    def _incomplete(self) -> str:
        return self.tr("GeoFuse runtime: incomplete — Set up runtime again.")

    def _not_usable(self, status: str, reason: str, button: str) -> None:
        """One short status line; the whole reason in its tooltip, the log and Copy diagnostics."""
        self.summary = None
        self.status.setText(status)
        self.status.setToolTip(reason)
        self.report = self.report or reason
        self.copy_button.setEnabled(True)
        self.setup_button.setText(button)
        QgsMessageLog.logMessage(reason, "GeoFuse", Qgis.MessageLevel.Warning)
        self.usable_changed.emit(False)

    def copy_diagnostics(self) -> None:
        """Put the last report on the clipboard, for a bug report."""
        QApplication.clipboard().setText(self.report)
