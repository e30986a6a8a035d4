"""The dock's "Improve with my polygons" section: fine-tune the dock's model on the user's training polygons.

Runs ``geofuse:finetune`` through :class:`~.task.AlgorithmRun`, like Segment runs ``geofuse:segment``,
so the dock has no training code of its own. Before a run it says which classes of the polygons the model
does not know yet (the rule of ``backend.classes.new_class_names``, the one fine-tuning applies); after it,
the new model becomes the dock's model, and its card line says what it was fine-tuned from.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import (
    NULL,
    Qgis,
    QgsApplication,
    QgsFeatureRequest,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsSettings,
    QgsVectorLayer,
)
from qgis.gui import QgsCollapsibleGroupBox, QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QLocale, QTimer
from qgis.PyQt.QtWidgets import QFormLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QWidget

from ...backend.classes import new_class_names
from ...backend.paths import DEMO_MODEL
from ..worker_client import WorkerProgress
from .card import CardError, CardInfo
from .task import AlgorithmRun

if TYPE_CHECKING:
    from .widget import GeoFuseDock

CLASS_FIELD_NAMES = ("class", "classe", "klasse", "label", "landcover", "land_cover", "clase", "classname")
"""Field names taken for the class field, in this order, compared case-insensitively."""
MINUTES_KEY = "geofuse/dock/improve_minutes"
IMPROVED_SUFFIX = re.compile(r"_improved(_\d+)?$")


def guess_class_field(names: list[str]) -> str | None:
    """The field that most likely holds the classes: a name of :data:`CLASS_FIELD_NAMES`, else the first
    name that contains one of them (``landcover_2024``, ``Klasse_neu``); None when no name looks like one."""
    folded = {name.casefold(): name for name in reversed(names)}
    for wanted in CLASS_FIELD_NAMES:
        if wanted in folded:
            return folded[wanted]
    return next((name for name in names if any(w in name.casefold() for w in CLASS_FIELD_NAMES)), None)


def models_folder() -> Path:
    """Where improved models go: the project's folder when the project is saved, else the GeoFuse folder of
    the QGIS profile."""
    project_folder = QgsProject.instance().absolutePath()
    if project_folder and Path(project_folder).is_dir():
        return Path(project_folder)
    return Path(QgsApplication.qgisSettingsDirPath()) / "geofuse" / "models"


def unique_model_path(folder: Path, base: Path) -> Path:
    """``<base>_improved.pt`` in ``folder``, or ``_improved_2``, ``_3``… : the first name not taken."""
    stem = IMPROVED_SUFFIX.sub("", base.stem) + "_improved"
    candidate, number = folder / f"{stem}.pt", 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{stem}_{number}.pt"
    return candidate


class ImprovePanel(QgsCollapsibleGroupBox):
    """The collapsible "Improve with my polygons" group of the dock (object name ``improveGroup``)."""

    def __init__(self, dock: GeoFuseDock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dock = dock
        self.run: AlgorithmRun | None = None
        self.finished_run: AlgorithmRun | None = None
        """The last run, kept until the next one: it must not be freed inside its own ``finished`` signal."""
        self.output: Path | None = None
        self.started = 0.0
        self.stepping = False
        self.watched: QgsVectorLayer | None = None
        """The polygon layer whose edits update the new-classes line."""
        self.overrides: dict[str, Any] = {}
        """Parameters added to every run, over the dock's (scripts set the step count or the crop size)."""
        self.setTitle(self.tr("Improve with my polygons"))
        self.setObjectName("improveGroup")
        self.setCollapsed(True)
        self._build()
        self.polygon_combo.layerChanged.connect(self._layer_changed)
        self.field_combo.fieldChanged.connect(self.update_classes)
        self.dock.model_widget.fileChanged.connect(self.update_classes)
        self.button.clicked.connect(self._clicked)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._tick)

    def _build(self) -> None:
        form = QFormLayout(self)
        intro = QLabel(
            self.tr(
                "Digitise a few polygons per class over the optical layer, with a class field, to adapt the "
                "model to your imagery. A class name the model does not know becomes a new class."
            ),
            self,
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.polygon_combo = QgsMapLayerComboBox(self)
        self.polygon_combo.setObjectName("improvePolygonsCombo")
        self.polygon_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.polygon_combo.setAllowEmptyLayer(True)
        self.polygon_combo.setLayer(None)
        self.field_combo = QgsFieldComboBox(self)
        self.field_combo.setObjectName("improveClassFieldCombo")
        self.minutes_spin = QSpinBox(self)
        self.minutes_spin.setObjectName("improveMinutesSpin")
        self.minutes_spin.setRange(1, 600)
        self.minutes_spin.setSuffix(self.tr(" min"))
        self.minutes_spin.setValue(int(QgsSettings().value(MINUTES_KEY, 5)))
        self.classes_label = QLabel(self)
        self.classes_label.setObjectName("improveClassesLabel")
        self.classes_label.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("improveProgress")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat(self.tr("Ready"))
        self.button = QPushButton(self.tr("Improve model"), self)
        self.button.setObjectName("improveButton")
        form.addRow(self.tr("Training polygons"), self.polygon_combo)
        form.addRow(self.tr("Class field"), self.field_combo)
        form.addRow(self.tr("Time budget"), self.minutes_spin)
        form.addRow(self.classes_label)
        form.addRow(self.progress)
        form.addRow(self.button)

    # ----------------------------------------------------------------------------------- layer, classes

    def _layer_changed(self, layer: Any) -> None:
        if self.watched is not None:
            for signal in self._edit_signals(self.watched):
                with contextlib.suppress(RuntimeError, TypeError):  # the layer may be gone already
                    signal.disconnect(self.update_classes)
        self.watched = layer if isinstance(layer, QgsVectorLayer) else None
        if self.watched is not None:
            for signal in self._edit_signals(self.watched):  # digitised, edited, saved or undone: list again
                signal.connect(self.update_classes)
        self.field_combo.setLayer(layer)
        if isinstance(layer, QgsVectorLayer):
            guess = guess_class_field(layer.fields().names())
            if guess is not None:
                self.field_combo.setField(guess)
        self.update_classes()

    @staticmethod
    def _edit_signals(layer: QgsVectorLayer) -> tuple[Any, ...]:
        return (layer.layerModified, layer.dataChanged, layer.afterRollBack)

    def class_values(self) -> list[Any]:
        """The class field's values, in the layer's order (NULL as None)."""
        layer, field = self.polygon_combo.currentLayer(), self.field_combo.currentField()
        if not isinstance(layer, QgsVectorLayer) or not field or layer.fields().lookupField(field) < 0:
            return []
        index = layer.fields().lookupField(field)
        request = QgsFeatureRequest().setFlags(QgsFeatureRequest.Flag.NoGeometry)
        request.setSubsetOfAttributes([index])
        values = (feature.attribute(index) for feature in layer.getFeatures(request))
        return [None if value == NULL else value for value in values]

    def new_classes(self, card: CardInfo) -> tuple[str, ...]:
        """The polygons' class names that ``card``'s model does not know (compared case-insensitively)."""
        return new_class_names(self.class_values(), [entry.name for entry in card.classes])

    def update_classes(self, *args: Any) -> None:
        """Say which classes of the polygons will be new to the model."""
        if self.polygon_combo.currentLayer() is None or not self.field_combo.currentField():
            self.classes_label.setText("")
            return
        try:
            card = self.dock.card()
        except CardError:
            self.classes_label.setText("")
            return
        new = self.new_classes(card)
        if new:
            self.classes_label.setText(self.tr("New classes: {}").format(", ".join(new)))
        else:
            self.classes_label.setText(self.tr("All classes known to the model"))

    def lineage_text(self, card: CardInfo) -> str:
        """The card line's note on a fine-tuned model ("" for one that was not)."""
        if not card.base_model:
            return ""
        return self.tr("Fine-tuned from {} on {} polygons of {}").format(
            card.base_model, card.polygons_used, card.polygons or "?"
        )

    # ------------------------------------------------------------------------------------------ running

    def is_running(self) -> bool:
        """Whether a fine-tuning run is under way."""
        return self.run is not None

    def problem(self) -> str | None:
        """Why a run cannot start, in the user's words; None when it can."""
        optical, elevation = self.dock.optical_combo.currentLayer(), self.dock.elevation_combo.currentLayer()
        if optical is None or elevation is None:
            return self.tr("Choose an optical layer and an elevation layer.")
        if optical.id() == elevation.id():
            return self.tr(
                "The optical and the elevation layer are the same layer; choose two different layers."
            )
        layer = self.polygon_combo.currentLayer()
        if not isinstance(layer, QgsVectorLayer):
            return self.tr("Choose the layer with your training polygons.")
        if layer.featureCount() == 0:
            return self.tr("The layer {} has no polygons yet; digitise a few per class first.").format(
                layer.name()
            )
        if not self.field_combo.currentField():
            return self.tr("Choose the field that holds the class of each polygon.")
        try:
            card = self.dock.card()
        except CardError as error:
            return self.tr("The model cannot be used: {}").format(error)
        if self.dock.bands.band_numbers() is None:
            return self.tr(
                "The band order does not give the bands the model needs ({}); choose Custom."
            ).format("/".join(card.optical_bands))
        if self.dock.run is not None:
            return self.tr("Wait until the segmentation has finished.")
        return self.dock.runtime.problem()

    def parameters(self, output: Path) -> dict[str, Any]:
        """The ``geofuse:finetune`` parameters for the dock's choices (call after :meth:`problem`)."""
        dock = self.dock
        return {
            "OPTICAL": dock.input_value(dock.optical_combo.currentLayer()),
            "ELEVATION": dock.input_value(dock.elevation_combo.currentLayer()),
            "POLYGONS": dock.input_value(self.polygon_combo.currentLayer()),
            "CLASS_FIELD": self.field_combo.currentField(),
            "MODEL": dock.model_widget.filePath().strip() or str(DEMO_MODEL),
            "OPTICAL_BANDS": dock.bands.band_numbers(),
            "MINUTES": self.minutes_spin.value(),
            "DEVICE": dock.device_combo.currentData() or "auto",
            "OUTPUT": str(output),
        }

    def _clicked(self) -> None:
        if self.run is not None:
            self.button.setEnabled(False)
            self.button.setText(self.tr("Cancelling…"))
            self.run.cancel()
            return
        self.start()

    def start(self) -> bool:
        """Check the set-up and start a run; False (with a message) when it cannot start."""
        problem = self.problem()
        if problem is not None:
            self.dock.notify(problem, Qgis.MessageLevel.Warning)
            return False
        self.update_classes()
        QgsSettings().setValue(MINUTES_KEY, self.minutes_spin.value())
        base = Path(self.dock.model_widget.filePath().strip() or str(DEMO_MODEL))
        folder = models_folder()
        folder.mkdir(parents=True, exist_ok=True)
        self.output = unique_model_path(folder, base)
        try:
            self.run = AlgorithmRun(
                "geofuse:finetune",
                {**self.parameters(self.output), **self.overrides},
                self.tr("GeoFuse: improving the model"),
            )
        except LookupError as error:
            self.dock.notify(str(error), Qgis.MessageLevel.Critical)
            return False
        self.run.feedback.progressChanged.connect(self._progress)
        self.run.feedback.worker_progress.connect(self._worker_progress)
        self.run.finished.connect(self._finished)
        self.started = time.monotonic()
        self.stepping = False
        self.clock.start()
        self.progress.setValue(0)
        self.progress.setFormat(self.tr("Starting the GeoFuse runtime…"))
        self.button.setText(self.tr("Cancel"))
        self.dock.segment_button.setEnabled(False)
        self.run.start()
        return True

    def cancel(self) -> None:
        """Stop a run (plugin unload); it leaves no file behind."""
        if self.run is not None:
            self.run.cancel()

    def _progress(self, percent: float) -> None:
        self.progress.setValue(int(percent))

    def _worker_progress(self, progress: WorkerProgress) -> None:
        """The training step and the time left, in the user's words; the worker's note before the first."""
        if progress.done is None:
            if progress.message:
                self.progress.setFormat(progress.message)
            return
        self.stepping = True
        step = self.tr("Step {}").format(QLocale().toString(progress.done))
        self.progress.setFormat(step + self.dock.time_left(progress.eta_s))

    def _tick(self) -> None:
        if self.run is not None and not self.stepping:
            elapsed = self.dock.duration(time.monotonic() - self.started)
            self.progress.setFormat(self.tr("Starting the GeoFuse runtime… ({})").format(elapsed))

    def _finished(self, ok: bool, results: dict) -> None:
        run, self.run = self.run, None
        assert run is not None
        self.finished_run = run
        self.clock.stop()
        self.button.setEnabled(True)
        self.button.setText(self.tr("Improve model"))
        self.dock.segment_button.setEnabled(self.dock.run is None)
        elapsed = self.dock.duration(time.monotonic() - self.started)
        if not ok:
            self.progress.setValue(0)
            if run.feedback.isCanceled():
                self.progress.setFormat(self.tr("Cancelled"))
                self.dock.notify(self.tr("Improving the model was cancelled."), Qgis.MessageLevel.Info)
            else:
                self.progress.setFormat(self.tr("Failed"))
                reason = run.feedback.errors[-1] if run.feedback.errors else self.tr("unknown error")
                self.dock.notify(
                    self.tr("Improving the model failed: {}").format(reason), Qgis.MessageLevel.Critical
                )
            return
        model = str(results.get("OUTPUT") or self.output)
        self.progress.setValue(100)
        self.progress.setFormat(self.tr("Done in {}").format(elapsed))
        self.dock.model_widget.setFilePath(model)
        self.dock.notify(
            self.tr("Model improved in {}: {} is now the dock's model; press Segment.").format(
                elapsed, model
            ),
            Qgis.MessageLevel.Success,
        )
