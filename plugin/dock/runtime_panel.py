"""The dock's runtime line: what ``geofuse:diagnostics`` found, the devices it offers, set-up and copy.

Both steps of the check run in the background, never on the GUI thread: :class:`RuntimeLookup` finds the
runtime (which may start a Python to look for its packages), then ``geofuse:diagnostics`` starts it (it
imports torch: seconds). The dock offers Auto and CPU until the check has answered, and asks
:meth:`RuntimePanel.problem` (the last answer, kept) instead of looking for the runtime itself. The
diagnostics come back as values (versions, devices), which the panel words itself; the report text is only
for the clipboard.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsTask
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..runtime import NoRuntimeError, Runtime, RuntimeIncompleteError, RuntimeNotFoundError, find_runtime
from .task import AlgorithmRun


@dataclass(frozen=True)
class DeviceInfo:
    """One device of the runtime, as ``geofuse:diagnostics`` lists it in its DEVICES output."""

    id: str
    name: str
    total_memory_mb: int | None = None
    free_memory_mb: int | None = None

    @classmethod
    def from_output(cls, entry: Mapping[str, Any]) -> DeviceInfo:
        """One entry of the DEVICES list; memory sizes that are not numbers are unknown."""

        def megabytes(key: str) -> int | None:
            value = entry.get(key)
            return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

        return cls(
            str(entry.get("id", "?")),
            str(entry.get("name") or ""),
            megabytes("total_memory_mb"),
            megabytes("free_memory_mb"),
        )


@dataclass(frozen=True)
class RuntimeSummary:
    """What the dock shows of a runtime that passed its check."""

    python: str
    torch: str
    cuda: bool
    devices: tuple[DeviceInfo, ...] = field(default_factory=tuple)

    @classmethod
    def from_results(cls, results: Mapping[str, Any]) -> RuntimeSummary:
        """The summary of ``geofuse:diagnostics``'s outputs (PYTHON_VERSION, TORCH_VERSION, DEVICES, ...)."""
        try:
            entries = json.loads(results.get("DEVICES") or "[]")
        except ValueError:
            entries = []
        devices = tuple(DeviceInfo.from_output(entry) for entry in entries if isinstance(entry, Mapping))
        return cls(
            python=str(results.get("PYTHON_VERSION") or "?"),
            torch=str(results.get("TORCH_VERSION") or "?"),
            cuda=bool(results.get("CUDA_AVAILABLE")),
            devices=devices,
        )


class RuntimeLookup(QgsTask):
    """Finds the runtime with :func:`~geofuse.plugin.runtime.find_runtime` in QGIS's task manager.

    ``found`` fires on the main thread when it is done; then :attr:`runtime` is the runtime, or
    :attr:`missing` the kind of :class:`RuntimeNotFoundError` and :attr:`message` its message. The error
    itself is not kept (its traceback would hold the frames it passed through).
    """

    found = pyqtSignal()

    def __init__(self, description: str) -> None:
        super().__init__(description, QgsTask.Flag.CanCancel)
        self.runtime: Runtime | None = None
        self.missing: type[RuntimeNotFoundError] | None = None
        self.message = ""

    def run(self) -> bool:
        """Look for the runtime (in the task's thread)."""
        try:
            self.runtime = find_runtime()
        except RuntimeNotFoundError as error:
            self.missing, self.message = type(error), str(error)
        return True

    def finished(self, result: bool) -> None:
        """Tell the panel (on the main thread)."""
        self.found.emit()


class RuntimePanel(QWidget):
    """Status line, "Set up / repair runtime" and "Copy diagnostics"; emits the devices once checked."""

    devices_found = pyqtSignal(list)
    """Emitted with the :class:`DeviceInfo` of each GPU once a check has passed."""
    setup_requested = pyqtSignal()
    usable_changed = pyqtSignal(bool)
    """Emitted when a check ends: False while the runtime is missing or fails its self-check."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lookup: RuntimeLookup | None = None
        self.finished_lookup: RuntimeLookup | None = None  # like finished_run: kept past its own signal
        self.run: AlgorithmRun | None = None
        self.finished_run: AlgorithmRun | None = None  # not freed inside its own finished signal
        self.report = ""
        self.summary: RuntimeSummary | None = None
        self.found_problem: str | None = None
        """Why the last check found the runtime unusable; None when it passed or has not answered yet."""
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
        """Look for the runtime, then run ``geofuse:diagnostics``; both in the background, one at a time."""
        if self.is_running():
            return
        self.status.setText(self.tr("GeoFuse runtime: checking…"))
        self.status.setToolTip("")
        self.report = ""
        self.lookup = RuntimeLookup(self.tr("Looking for the GeoFuse runtime"))
        self.lookup.found.connect(self._found)
        QgsApplication.taskManager().addTask(self.lookup)

    def problem(self) -> str | None:
        """Why the runtime cannot run, as the last check found (never looks itself: no GUI-thread wait).

        None while no check has answered: a run then finds the runtime in its own task and says what is
        missing there.
        """
        return self.found_problem

    def is_running(self) -> bool:
        """Whether a check is under way."""
        return self.lookup is not None or self.run is not None

    def cancel(self) -> None:
        """Stop a check under way."""
        if self.lookup is not None:
            self.lookup.cancel()
        if self.run is not None:
            self.run.cancel()

    def _found(self) -> None:
        lookup, self.lookup = self.lookup, None
        assert lookup is not None
        self.finished_lookup = lookup
        if lookup.missing is not None:
            if issubclass(lookup.missing, NoRuntimeError):
                status = self.tr("No GeoFuse runtime yet.")
            elif issubclass(lookup.missing, RuntimeIncompleteError):
                status = self._incomplete()
            else:
                status = lookup.message
            self._not_usable(status, lookup.message, self.tr("Set up runtime"))
            return
        try:
            self.run = AlgorithmRun("geofuse:diagnostics", {}, self.tr("Checking the GeoFuse runtime"))
        except LookupError as error:
            self.status.setText(self.tr("GeoFuse runtime: cannot check ({})").format(error))
            return
        self.run.finished.connect(self._checked)
        self.run.start()

    def _checked(self, ok: bool, results: dict) -> None:
        run, self.run = self.run, None
        assert run is not None
        self.finished_run = run
        self.report = str(results.get("REPORT") or "\n".join(run.feedback.errors))
        self.copy_button.setEnabled(bool(self.report))
        if ok:
            self.summary = RuntimeSummary.from_results(results)
            self.found_problem = None
            self.status.setText(
                self.tr("GeoFuse runtime: Python {}, torch {}, CUDA: {}").format(
                    self.summary.python,
                    self.summary.torch,
                    self.tr("yes") if self.summary.cuda else self.tr("no"),
                )
            )
            self.status.setToolTip(self.report)
            self.setup_button.setText(self.tr("Repair runtime"))
            self.devices_found.emit([device for device in self.summary.devices if device.id != "cpu"])
            self.usable_changed.emit(True)
            return
        reason = run.feedback.errors[-1] if run.feedback.errors else self.tr("the check failed")
        self._not_usable(self._incomplete(), reason, self.tr("Set up runtime"))

    def _incomplete(self) -> str:
        return self.tr("GeoFuse runtime: incomplete — Set up runtime again.")

    def _not_usable(self, status: str, reason: str, button: str) -> None:
        """One short status line; the whole reason in its tooltip, the log and Copy diagnostics."""
        self.summary = None
        self.found_problem = reason
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
