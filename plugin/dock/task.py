"""Run a Processing algorithm from the dock as a background task, and hear its progress on the main thread.

The task, its context and its feedback must outlive the run (QGIS holds raw pointers to the context and
feedback, Python would collect them otherwise), so :class:`AlgorithmRun` keeps all three until the task has
finished and its results were handled. The feedback lives on the main thread; the algorithm calls it from
the task's thread and it only records and emits signals (the worker's progress as a
:class:`~geofuse.plugin.worker_client.WorkerProgress`), which Qt queues to the dock.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProject,
)
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..worker_client import WorkerFeedback


class DockFeedback(WorkerFeedback):
    """Keeps the run's error messages; the worker's progress arrives as values in ``worker_progress``."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def reportError(self, error: str, fatalError: bool = False) -> None:
        """Keep the message for the dock's notice; after a cancel it is no error (the dock says so, once)."""
        self.errors.append(error)
        if not self.isCanceled():
            super().reportError(error, fatalError)


class AlgorithmRun(QObject):
    """One algorithm run in QGIS's task manager; ``finished(ok, results)`` fires on the main thread.

    Everything a slot of ``finished`` needs (the context with its layers to load, the feedback) is still
    alive when it fires; the object drops its task afterwards.
    """

    finished = pyqtSignal(bool, dict)

    def __init__(self, algorithm_id: str, parameters: dict[str, Any], description: str) -> None:
        super().__init__()
        algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
        if algorithm is None:
            raise LookupError(f"the Processing algorithm {algorithm_id} is not available")
        self.algorithm = algorithm
        self.parameters = parameters
        self.context = QgsProcessingContext()
        self.context.setProject(QgsProject.instance())
        self.feedback = DockFeedback()
        self.task: QgsProcessingAlgRunnerTask | None = QgsProcessingAlgRunnerTask(
            algorithm, parameters, self.context, self.feedback
        )
        self.task.setDescription(description)
        self.task.executed.connect(self._executed)
        self.done = False

    def start(self) -> None:
        """Hand the task to QGIS's task manager."""
        assert self.task is not None
        QgsApplication.taskManager().addTask(self.task)

    def cancel(self) -> None:
        """Ask the task (and through its feedback, the worker) to stop."""
        if self.task is not None and not self.done:
            self.task.cancel()

    def _executed(self, ok: bool, results: dict) -> None:
        self.done = True
        self.task = None  # the task manager deletes it
        self.finished.emit(bool(ok) and not self.feedback.isCanceled(), dict(results or {}))
