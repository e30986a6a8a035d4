"""The GeoFuse dock: pick the optical and elevation layers and a model, press Segment, get a styled result.

Runs ``geofuse:segment`` through :class:`~.task.AlgorithmRun` (a ``QgsProcessingAlgRunnerTask``), so the
dock has no segmentation code of its own; it checks the set-up before starting, shows progress, adds the
result above the inputs (styled by the algorithm's post-processor) and summarises the class areas.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateTransform,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsMapLayerProxyModel,
    QgsMessageLog,
    QgsProcessingOutputLayerDefinition,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsReferencedRectangle,
    QgsSettings,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.gui import QgisInterface, QgsCollapsibleGroupBox, QgsDockWidget, QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QLocale, Qt, QTimer, QUrl
from qgis.PyQt.QtGui import QColor, QDesktopServices, QResizeEvent, QShowEvent
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...backend.paths import DEMO_MODEL
from ...backend.tiling import axis_tiles, tiling_problem
from ..algorithms.inputs import file_source
from ..labels import bands_label, class_label
from ..worker_client import WorkerProgress
from .bands import BandMapping
from .card import CardCache, CardError, CardInfo
from .chart import ClassAreaSummary, class_shares
from .improve import ImprovePanel
from .path import show_path_elided
from .runtime_panel import DeviceInfo, RuntimePanel
from .task import AlgorithmRun

HELP_URL = "https://github.com/geofuse/geofuse#segment-your-first-scene"
SETTINGS = "geofuse/dock/"
PROJECT_SCOPE = "geofuse"
LOG_TAG = "GeoFuse"
AREA_WHOLE, AREA_CANVAS, AREA_POLYGONS = "whole", "canvas", "polygons"
MINIMUM_WIDTH = 240
"""Narrower than QGIS's default dock width (about 300 px): the dock fits there without sideways scrolling."""
ELEVATION_NAME = re.compile(
    r"(?<![a-z])(n?dsm|dtm|dem|elev\w*|heights?|h(?:oe|ö)he|lidar)(?![a-z])", re.IGNORECASE
)
"""Layer names that say "elevation"; the elevation guess prefers them."""
WIDE = 380
"""From this dock width on, form labels sit beside their fields."""
LIGHT = 200
"""Class colours lighter than this (HSL lightness, 0–255) get an outline: they vanish on a light panel."""
RESOLUTION_TOLERANCE = 2.0
"""Warn when the optical pixels are this many times larger or smaller than the model's training pixels."""


class GeoFuseDock(QgsDockWidget):
    """The dock widget (object name ``GeoFuseDock``)."""

    def __init__(self, iface: QgisInterface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.setObjectName("GeoFuseDock")
        self.setWindowTitle(self.tr("GeoFuse"))
        self.cards = CardCache()
        self.run: AlgorithmRun | None = None
        self.finished_run: AlgorithmRun | None = None
        """The last run, kept until the next one: it must not be freed inside its own ``finished`` signal."""
        self.started = 0.0
        self.worker_talking = False
        """Whether the running worker has reported progress text (then it is segmenting, not starting)."""
        self.setup_dialog: QWidget | None = None
        self.shut_down = False
        self.runtime_usable: bool | None = None
        """What the last runtime check found; None before it has answered."""
        self._build()
        self._restore_settings()
        self._restore_layers()
        project = QgsProject.instance()
        project.legendLayersAdded.connect(self._guess_layers)
        project.readProject.connect(self._restore_layers)
        self.iface.mapCanvas().extentsChanged.connect(self._canvas_moved)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._tick)

    # ------------------------------------------------------------------------------------------- layout

    def _build(self) -> None:
        """The dock's widgets, top to bottom, in one column that scrolls only downwards."""
        body = QWidget(self)
        self.forms: list[QFormLayout] = []
        layout = QVBoxLayout(body)
        layout.addLayout(self._build_header(body))
        self.runtime = RuntimePanel(body)
        self.runtime.devices_found.connect(self._set_devices)
        self.runtime.setup_requested.connect(self.open_runtime_setup)
        self.runtime.usable_changed.connect(self._runtime_usable)
        layout.addWidget(self.runtime)
        form = self._form()
        self._build_layer_rows(body, form)
        self._build_model_rows(body, form)
        self._build_area_rows(body, form)
        layout.addLayout(form)
        layout.addWidget(self._build_advanced(body))
        layout.addLayout(self._build_output_form(body))
        self._build_run_rows(body)
        layout.addWidget(self.progress)
        layout.addWidget(self.segment_button)
        layout.addWidget(self.summary)
        self.improve = ImprovePanel(self, body)
        layout.addWidget(self.improve)
        layout.addStretch(1)
        for combo in (self.area_combo, self.device_combo, self.bands.preset):
            self._shrinkable(combo)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        # Everything reflows to the dock's width (QGIS opens docks narrow); only scroll downwards.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)
        self.setMinimumWidth(MINIMUM_WIDTH)
        for widget in (self.tile_spin, self.overlap_spin):
            widget.valueChanged.connect(self._update_hints)

    def _build_header(self, body: QWidget) -> QHBoxLayout:
        """The one-line introduction and the guide's "?" button."""
        self.help_button = QToolButton(body)
        self.help_button.setObjectName("helpButton")
        self.help_button.setText("?")
        self.help_button.setToolTip(self.tr("Open the GeoFuse guide"))
        self.help_button.clicked.connect(self.open_help)
        intro = QLabel(self.tr("Segment land cover from an optical and an elevation layer."), body)
        intro.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(intro, 1)
        header.addWidget(self.help_button)
        return header

    def _build_layer_rows(self, body: QWidget, form: QFormLayout) -> None:
        """The optical layer, its band order and the elevation layer."""
        self.optical_combo = self._raster_combo(body, "opticalCombo")
        self.elevation_combo = self._raster_combo(body, "elevationCombo")
        self.bands = BandMapping(body)
        self.optical_combo.layerChanged.connect(self.bands.set_layer)
        self.optical_combo.layerChanged.connect(self._update_hints)
        form.addRow(self.tr("Optical layer"), self.optical_combo)
        form.addRow(self.tr("Band order"), self.bands)
        form.addRow(self.tr("Elevation layer"), self.elevation_combo)

    def _build_model_rows(self, body: QWidget, form: QFormLayout) -> None:
        """The model file, its card and the resolution warning."""
        self.model_widget = QgsFileWidget(body)
        self.model_widget.setObjectName("modelWidget")
        self.model_widget.setFilter(self.tr("GeoFuse checkpoints (*.pt)"))
        self.model_widget.setDialogTitle(self.tr("Choose a GeoFuse model"))
        self.model_widget.fileChanged.connect(self._model_changed)
        self.model_path = show_path_elided(self.model_widget)
        self.card_label = QLabel(body)
        self.card_label.setObjectName("modelCard")
        self.card_label.setWordWrap(True)
        self.resolution_warning = QLabel(body)
        self.resolution_warning.setObjectName("resolutionWarning")
        self.resolution_warning.setWordWrap(True)
        self.resolution_warning.setStyleSheet("color: #b35900;")
        self.card_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        form.addRow(self.tr("Model"), self.model_widget)
        form.addRow(self.card_label)
        form.addRow(self.resolution_warning)

    def _build_area_rows(self, body: QWidget, form: QFormLayout) -> None:
        """The area to segment (whole, canvas, polygons) and the device."""
        self.area_combo = QComboBox(body)
        self.area_combo.setObjectName("areaCombo")
        self.area_combo.addItem(self.tr("Whole intersection of the layers"), AREA_WHOLE)
        self.area_combo.addItem(self.tr("Current map canvas extent"), AREA_CANVAS)
        self.area_combo.addItem(self.tr("Features of a polygon layer"), AREA_POLYGONS)
        self.mask_combo = QgsMapLayerComboBox(body)
        self.mask_combo.setObjectName("maskCombo")
        self.mask_combo.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.area_combo.currentIndexChanged.connect(self._update_hints)
        self.mask_combo.layerChanged.connect(self._update_hints)
        form.addRow(self.tr("Area"), self.area_combo)
        form.addRow(self.tr("Polygons"), self.mask_combo)

        self.device_combo = QComboBox(body)
        self.device_combo.setObjectName("deviceCombo")
        self._set_devices([])
        form.addRow(self.tr("Device"), self.device_combo)

    def _build_advanced(self, body: QWidget) -> QgsCollapsibleGroupBox:
        """The collapsed tiling options and the tile-count estimate."""
        advanced = QgsCollapsibleGroupBox(self.tr("Advanced"), body)
        advanced.setObjectName("advancedGroup")
        advanced.setCollapsed(True)
        advanced_form = self._form()
        advanced.setLayout(advanced_form)
        self.tile_spin = self._spin(advanced, "tileSpin", 0, 8192, 0)
        self.tile_spin.setSpecialValueText(self.tr("Auto"))  # 0: the model's default tile
        self.overlap_spin = self._spin(advanced, "overlapSpin", 0, 4096, 64)
        self.batch_spin = self._spin(advanced, "batchSpin", 1, 256, 4)
        self.tile_count = QLabel(advanced)
        self.tile_count.setObjectName("tileCount")
        advanced_form.addRow(self.tr("Tile size (pixels)"), self.tile_spin)
        advanced_form.addRow(self.tr("Tile overlap (pixels)"), self.overlap_spin)
        advanced_form.addRow(self.tr("Tiles per batch"), self.batch_spin)
        advanced_form.addRow(self.tile_count)
        return advanced

    def _build_output_form(self, body: QWidget) -> QFormLayout:
        """Where the land cover goes, and whether a confidence layer comes too."""
        self.output_widget = QgsFileWidget(body)
        self.output_widget.setObjectName("outputWidget")
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
        self.output_widget.setFilter(self.tr("GeoTIFF (*.tif *.tiff)"))
        self.output_widget.lineEdit().setPlaceholderText(self.tr("[Save to temporary file]"))
        self.confidence_check = QCheckBox(self.tr("Also add a confidence layer"), body)
        self.confidence_check.setObjectName("confidenceCheck")
        output_form = self._form()
        output_form.addRow(self.tr("Output"), self.output_widget)
        output_form.addRow("", self.confidence_check)
        return output_form

    def _build_run_rows(self, body: QWidget) -> None:
        """The progress bar, the Segment button and the class-area summary."""
        self.progress = QProgressBar(body)
        self.progress.setObjectName("progressBar")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat(self.tr("Ready"))
        self.segment_button = QPushButton(self.tr("Segment"), body)
        self.segment_button.setObjectName("segmentButton")
        self.segment_button.clicked.connect(self._segment_clicked)
        self.summary = ClassAreaSummary(body)
        self.summary.setObjectName("classAreaSummary")
        self.summary.setVisible(False)

    def _raster_combo(self, parent: QWidget, name: str) -> QgsMapLayerComboBox:
        combo = QgsMapLayerComboBox(parent)
        combo.setObjectName(name)
        combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        combo.setAllowEmptyLayer(True)
        combo.setLayer(None)
        return self._shrinkable(combo)

    def _form(self) -> QFormLayout:
        """A form whose labels go above their fields when the dock is narrow (see :meth:`resizeEvent`)."""
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.forms.append(form)
        return form

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Below :data:`WIDE` every label sits above its field, so layer names, paths and choices get the
        dock's whole width instead of being cut beside the labels."""
        super().resizeEvent(event)
        policy = (
            QFormLayout.RowWrapPolicy.WrapLongRows
            if event.size().width() >= WIDE
            else QFormLayout.RowWrapPolicy.WrapAllRows
        )
        for form in self.forms:
            if form.rowWrapPolicy() != policy:
                form.setRowWrapPolicy(policy)

    @staticmethod
    def _shrinkable(combo: QComboBox) -> QComboBox:
        """A combo whose width does not follow its longest entry (layer names can be long)."""
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return combo

    @staticmethod
    def _spin(parent: QWidget, name: str, low: int, high: int, value: int) -> QSpinBox:
        spin = QSpinBox(parent)
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setValue(value)
        return spin

    # --------------------------------------------------------------------------------- settings, layers

    def _restore_settings(self) -> None:
        settings = QgsSettings()
        model = str(settings.value(SETTINGS + "model", "") or "")
        self.model_widget.setFilePath(model if model and Path(model).is_file() else str(DEMO_MODEL))
        self.tile_spin.setValue(int(settings.value(SETTINGS + "tile", 0)))
        self.overlap_spin.setValue(int(settings.value(SETTINGS + "overlap", 64)))
        self.batch_spin.setValue(int(settings.value(SETTINGS + "batch", 4)))
        self.confidence_check.setChecked(settings.value(SETTINGS + "confidence", False, type=bool))
        self.output_widget.setFilePath(str(settings.value(SETTINGS + "output", "") or ""))
        self._model_changed(self.model_widget.filePath())

    def _save_settings(self) -> None:
        settings = QgsSettings()
        settings.setValue(SETTINGS + "model", self.model_widget.filePath())
        settings.setValue(SETTINGS + "device", self.device_combo.currentData())
        settings.setValue(SETTINGS + "tile", self.tile_spin.value())
        settings.setValue(SETTINGS + "overlap", self.overlap_spin.value())
        settings.setValue(SETTINGS + "batch", self.batch_spin.value())
        settings.setValue(SETTINGS + "confidence", self.confidence_check.isChecked())
        settings.setValue(SETTINGS + "output", self.output_widget.filePath())

    def _restore_layers(self) -> None:
        """The project's remembered choices, else a guess."""
        project = QgsProject.instance()
        for combo, key in (
            (self.optical_combo, "optical_layer"),
            (self.elevation_combo, "elevation_layer"),
            (self.mask_combo, "mask_layer"),
        ):
            layer_id, found = project.readEntry(PROJECT_SCOPE, key, "")
            layer = project.mapLayer(layer_id) if found and layer_id else None
            if layer is not None:
                combo.setLayer(layer)
        area, found = project.readEntry(PROJECT_SCOPE, "area", AREA_WHOLE)
        self.area_combo.setCurrentIndex(max(0, self.area_combo.findData(area)))
        self._guess_layers()

    def _remember_layers(self) -> None:
        project = QgsProject.instance()
        for combo, key in (
            (self.optical_combo, "optical_layer"),
            (self.elevation_combo, "elevation_layer"),
            (self.mask_combo, "mask_layer"),
        ):
            if combo.currentLayer() is not None:
                project.writeEntry(PROJECT_SCOPE, key, combo.currentLayer().id())
        project.writeEntry(PROJECT_SCOPE, "area", self.area_combo.currentData())

    def _guess_layers(self, *args: Any) -> None:
        """Fill an empty picker: the first raster with 3+ bands is optical; the elevation is a one-band raster
        that is not a class raster, one named like an elevation (dsm, ndsm, elevation, height) first."""
        project = QgsProject.instance()
        ordered = project.layerTreeRoot().layerOrder()
        ordered += [layer for layer in project.mapLayers().values() if layer not in ordered]
        rasters = [layer for layer in ordered if isinstance(layer, QgsRasterLayer) and layer.isValid()]
        if self.optical_combo.currentLayer() is None:
            optical = next((layer for layer in rasters if layer.bandCount() >= 3), None)
            if optical is not None:
                self.optical_combo.setLayer(optical)
        if self.elevation_combo.currentLayer() is None:
            candidates = [
                layer for layer in rasters if layer.bandCount() == 1 and not self._is_class_raster(layer)
            ]
            named = [layer for layer in candidates if ELEVATION_NAME.search(layer.name())]
            elevation = next(iter(named + candidates), None)
            if elevation is not None:
                self.elevation_combo.setLayer(elevation)

    @staticmethod
    def _is_class_raster(layer: QgsRasterLayer) -> bool:
        """Whether a one-band raster holds classes (paletted, or 8-bit integers), not heights."""
        renderer = layer.renderer()
        if renderer is not None and renderer.type() == "paletted":
            return True
        return layer.dataProvider().dataType(1) == Qgis.DataType.Byte and not ELEVATION_NAME.search(
            layer.name()
        )

    def _set_devices(self, devices: list[DeviceInfo]) -> None:
        """Auto, CPU and each GPU the runtime reported, with its memory in the user's locale."""
        wanted = self.device_combo.currentData() or QgsSettings().value(SETTINGS + "device", "auto")
        self.device_combo.clear()
        self.device_combo.addItem(self.tr("Auto (GPU when available)"), "auto")
        self.device_combo.addItem(self.tr("CPU"), "cpu")
        for device in devices:
            label = f"{device.id}: {device.name}"
            if device.total_memory_mb is not None:
                label = self.tr("{}: {}, {} MB").format(
                    device.id, device.name, QLocale().toString(device.total_memory_mb)
                )
            self.device_combo.addItem(label, device.id)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(wanted)))

    # ------------------------------------------------------------------------------------ model, hints

    def card(self) -> CardInfo:
        """The chosen model's card.

        Raises:
            CardError: If the model file cannot be used.
        """
        path = self.model_widget.filePath().strip() or str(DEMO_MODEL)
        return self.cards.get(path)

    def _model_changed(self, path: str) -> None:
        try:
            card = self.card()
        except CardError as error:
            self.card_label.setText(self.tr("This model cannot be used: {}").format(error))
            self.bands.set_model_bands(())
            self._update_hints()
            return
        swatches = " ".join(
            f"{self._swatch(entry.colour)}&nbsp;{class_label(entry.name)}" for entry in card.classes
        )
        self.card_label.setText(
            self.tr("GeoFuse {} ({}), bands {} + elevation, trained at {:g} m/pixel<br>{}").format(
                card.variant, card.width, bands_label(card.optical_bands), card.gsd_m, swatches
            )
            + "".join(f"<br>{line}" for line in (self.improve.lineage_text(card),) if line)
        )
        self.bands.set_model_bands(card.optical_bands)
        self._update_hints()

    @staticmethod
    def _swatch(colour: tuple[int, int, int]) -> str:
        """A class colour square; a light colour as an outlined square in the text colour, so it shows."""
        if QColor(*colour).lightness() > LIGHT:
            return "□"
        return f'<span style="color: rgb{colour}">■</span>'

    def _update_hints(self, *args: Any) -> None:
        """The resolution warning and the tile-count estimate."""
        optical = self.optical_combo.currentLayer()
        self.mask_combo.setEnabled(self.area_combo.currentData() == AREA_POLYGONS)
        try:
            card = self.card()
        except CardError:
            card = None
        self.resolution_warning.setText(self._resolution_warning(optical, card))
        self.resolution_warning.setVisible(bool(self.resolution_warning.text()))
        if optical is None or card is None:
            self.tile_count.setText("")
            return
        tiling = self._tiling_problem(card)
        if tiling:
            self.tile_count.setText(tiling)
            return
        tile, overlap = self.tile_spin.value() or card.tile, self.overlap_spin.value()
        region = self.area_rectangle(optical) or optical.extent()
        columns = max(1, round(region.width() / optical.rasterUnitsPerPixelX()))
        rows = max(1, round(region.height() / optical.rasterUnitsPerPixelY()))
        (tile_w, across), (tile_h, down) = axis_tiles(columns, tile, overlap), axis_tiles(rows, tile, overlap)
        self.tile_count.setText(
            self.tr("About {} tiles of {} × {} pixels ({} × {} pixels in all)").format(
                len(across) * len(down), tile_w, tile_h, columns, rows
            )
        )

    def _tiling_problem(self, card: CardInfo) -> str | None:
        """Why the tile size and overlap cannot run (tile 0: the model's default), by the engine's rule.

        The spin boxes allow no negative overlap and no tile below 1, so the one problem left to word is an
        overlap of a whole tile or more.
        """
        tile, overlap = self.tile_spin.value() or card.tile, self.overlap_spin.value()
        if tiling_problem(tile, overlap) is None:
            return None
        return self.tr("The overlap ({}) must be less than the tile size ({}).").format(overlap, tile)

    def _canvas_moved(self) -> None:
        """The estimate follows the canvas when the area is the canvas extent."""
        if self.area_combo.currentData() == AREA_CANVAS:
            self._update_hints()

    def _resolution_warning(self, optical: QgsRasterLayer | None, card: CardInfo | None) -> str:
        if optical is None or card is None or optical.crs().isGeographic() or not optical.crs().isValid():
            return ""
        metres = optical.rasterUnitsPerPixelX() * QgsUnitTypes.fromUnitToUnitFactor(
            optical.crs().mapUnits(), QgsUnitTypes.DistanceUnit.DistanceMeters
        )
        if 1 / RESOLUTION_TOLERANCE <= metres / card.gsd_m <= RESOLUTION_TOLERANCE:
            return ""
        return self.tr(
            "The optical layer has {:.3g} m pixels but the model was trained at {:g} m: expect poor results; "
            "resample the layer to the model's resolution first."
        ).format(metres, card.gsd_m)

    def area_rectangle(self, optical: QgsRasterLayer) -> QgsRectangle | None:
        """The chosen area in the optical layer's CRS, clipped to it; None for the whole layer."""
        mode = self.area_combo.currentData()
        project = QgsProject.instance()
        if mode == AREA_CANVAS:
            canvas = self.iface.mapCanvas()
            transform = QgsCoordinateTransform(
                canvas.mapSettings().destinationCrs(), optical.crs(), project.transformContext()
            )
            return transform.transformBoundingBox(canvas.extent()).intersect(optical.extent())
        if mode == AREA_POLYGONS and isinstance(self.mask_combo.currentLayer(), QgsVectorLayer):
            mask = self.mask_combo.currentLayer()
            transform = QgsCoordinateTransform(mask.crs(), optical.crs(), project.transformContext())
            return transform.transformBoundingBox(mask.extent()).intersect(optical.extent())
        return None

    # ------------------------------------------------------------------------------------------ running

    def problem(self) -> str | None:
        """Why the current set-up cannot run, in the user's words; None when it can."""
        optical, elevation = self.optical_combo.currentLayer(), self.elevation_combo.currentLayer()
        if optical is None or elevation is None:
            return self.tr("Choose an optical layer and an elevation layer.")
        if optical.id() == elevation.id():
            return self.tr(
                "The optical and the elevation layer are the same layer; choose two different layers."
            )
        project = QgsProject.instance()
        elevation_extent = QgsCoordinateTransform(
            elevation.crs(), optical.crs(), project.transformContext()
        ).transformBoundingBox(elevation.extent())
        if not optical.extent().intersects(elevation_extent):
            return self.tr("The optical layer and the elevation layer do not overlap.")
        try:
            card = self.card()
        except CardError as error:
            return self.tr("The model cannot be used: {}").format(error)
        if self.bands.band_numbers() is None:
            return self.tr(
                "The band order does not give the bands the model needs ({}); choose Custom."
            ).format(bands_label(card.optical_bands))
        tiling = self._tiling_problem(card)
        if tiling:
            return tiling
        mode = self.area_combo.currentData()
        if mode == AREA_POLYGONS and not isinstance(self.mask_combo.currentLayer(), QgsVectorLayer):
            return self.tr("Choose the polygon layer whose features limit the area.")
        if mode != AREA_WHOLE:
            region = self.area_rectangle(optical)
            if region is None or region.isEmpty():
                return self.tr("The chosen area does not overlap the optical layer.")
        return self.runtime.problem()

    def parameters(self) -> dict[str, Any]:
        """The ``geofuse:segment`` parameters for the current choices (call after :meth:`problem`)."""
        optical, elevation = self.optical_combo.currentLayer(), self.elevation_combo.currentLayer()
        project = QgsProject.instance()
        output = self.output_widget.filePath().strip()
        if output and Path(output).suffix.lower() not in {".tif", ".tiff"}:
            output += ".tif"  # the worker writes GeoTIFF whatever the name says
        destination = QgsProcessingOutputLayerDefinition(output or "TEMPORARY_OUTPUT", project)
        destination.destinationName = self.tr("Land cover ({})").format(optical.name())
        parameters: dict[str, Any] = {
            "OPTICAL": self.input_value(optical),
            "ELEVATION": self.input_value(elevation),
            "MODEL": self.model_widget.filePath().strip() or str(DEMO_MODEL),
            "OPTICAL_BANDS": self.bands.band_numbers(),
            "DEVICE": self.device_combo.currentData() or "auto",
            "TILE_SIZE": self.tile_spin.value(),
            "OVERLAP": self.overlap_spin.value(),
            "BATCH_SIZE": self.batch_spin.value(),
            "OUTPUT": destination,
        }
        if self.confidence_check.isChecked():
            confidence = str(Path(output).with_name(Path(output).stem + "_confidence.tif")) if output else ""
            definition = QgsProcessingOutputLayerDefinition(confidence or "TEMPORARY_OUTPUT", project)
            definition.destinationName = self.tr("Confidence ({})").format(optical.name())
            parameters["CONFIDENCE"] = definition
        mode = self.area_combo.currentData()
        if mode == AREA_CANVAS:
            parameters["EXTENT"] = QgsReferencedRectangle(self.area_rectangle(optical), optical.crs())
        elif mode == AREA_POLYGONS:
            parameters["MASK"] = self.input_value(self.mask_combo.currentLayer())
        else:
            common = (
                QgsCoordinateTransform(elevation.crs(), optical.crs(), project.transformContext())
                .transformBoundingBox(elevation.extent())
                .intersect(optical.extent())
            )
            half_pixel = optical.rasterUnitsPerPixelX() / 2
            if any(
                abs(a - b) > half_pixel
                for a, b in zip(self._corners(common), self._corners(optical.extent()), strict=True)
            ):
                parameters["EXTENT"] = QgsReferencedRectangle(common, optical.crs())
        return parameters

    @staticmethod
    def input_value(layer: QgsMapLayer) -> str:
        """How the task names an input layer.

        A plain raster or vector file is passed as its file, so the task's thread opens its own copy and never
        touches the project's layer; other layers (memory, WMS, databases) by id.
        """
        if isinstance(layer, QgsRasterLayer):
            return file_source(layer) or layer.id()
        if layer.providerType() == "ogr" and Path(layer.source().split("|")[0]).is_file():
            return layer.source()
        return layer.id()

    @staticmethod
    def _corners(rectangle: QgsRectangle) -> tuple[float, float, float, float]:
        return (rectangle.xMinimum(), rectangle.yMinimum(), rectangle.xMaximum(), rectangle.yMaximum())

    def _segment_clicked(self) -> None:
        if self.run is not None:
            self.segment_button.setEnabled(False)
            self.segment_button.setText(self.tr("Cancelling…"))
            self.run.cancel()
            return
        self.start()

    def start(self) -> bool:
        """Check the set-up and start a run; False (with a message) when the set-up cannot run."""
        problem = self.problem()
        if problem is not None:
            self.notify(problem, Qgis.MessageLevel.Warning)
            return False
        self._save_settings()
        self._remember_layers()
        parameters = self.parameters()
        try:
            self.run = AlgorithmRun("geofuse:segment", parameters, self.tr("GeoFuse: segmenting land cover"))
        except LookupError as error:
            self.notify(str(error), Qgis.MessageLevel.Critical)
            return False
        self.run.feedback.progressChanged.connect(self._progress)
        self.run.feedback.worker_progress.connect(self._worker_progress)
        self.run.finished.connect(self._finished)
        self.started = time.monotonic()
        self.worker_talking = False
        self.summary.setVisible(False)
        self.progress.setValue(0)
        self.progress.setFormat(self.tr("Starting the GeoFuse runtime…"))
        self.segment_button.setText(self.tr("Cancel"))
        self.clock.start()
        self.run.start()
        return True

    def is_running(self) -> bool:
        """Whether a segmentation (or the runtime check, or an improvement of the model) is under way."""
        return self.run is not None or self.runtime.is_running() or self.improve.is_running()

    def _progress(self, percent: float) -> None:
        self.progress.setValue(int(percent))

    def _worker_progress(self, progress: WorkerProgress) -> None:
        """The worker's progress in the user's words: tiles done of all and the time left, else its note."""
        self.worker_talking = True
        if not progress.total:
            if progress.message:
                self.progress.setFormat(progress.message)
            return
        locale = QLocale()
        tiles = self.tr("{} / {} tiles").format(
            locale.toString(progress.done or 0), locale.toString(progress.total)
        )
        self.progress.setFormat(tiles + self.time_left(progress.eta_s))

    def time_left(self, eta_s: float | None) -> str:
        """The time left as ", about 1 min 35 s left", translated; "" when the worker has no estimate yet."""
        return "" if eta_s is None else self.tr(", about {} left").format(self.duration(eta_s))

    def _tick(self) -> None:
        """Until the worker reports, say it is starting; then its own text stays (tiles, time left)."""
        if self.run is not None and not self.worker_talking:
            elapsed = self.duration(time.monotonic() - self.started)
            self.progress.setFormat(self.tr("Starting the GeoFuse runtime… ({})").format(elapsed))

    def duration(self, seconds: float) -> str:
        """A time span as the dock shows it ("42 s", "3 min 5 s"), translated."""
        if seconds < 90:
            return self.tr("{:.0f} s").format(seconds)
        return self.tr("{:.0f} min {:.0f} s").format(seconds // 60, seconds % 60)

    def _finished(self, ok: bool, results: dict) -> None:
        run, self.run = self.run, None
        assert run is not None
        self.finished_run = run
        self.clock.stop()
        self.segment_button.setEnabled(self.runtime_usable is not False)
        self.segment_button.setText(self.tr("Segment"))
        elapsed = time.monotonic() - self.started
        if not ok:
            self.progress.setValue(0)
            if run.feedback.isCanceled():
                self.progress.setFormat(self.tr("Cancelled"))
                self.notify(self.tr("Segmentation cancelled."), Qgis.MessageLevel.Info)
            else:
                self.progress.setFormat(self.tr("Failed"))
                reason = run.feedback.errors[-1] if run.feedback.errors else self.tr("unknown error")
                self.notify(self.tr("Segmentation failed: {}").format(reason), Qgis.MessageLevel.Critical)
            return
        self._add_outputs(run, str(results.get("OUTPUT") or ""))
        self.progress.setValue(100)
        self.progress.setFormat(self.tr("Done in {}").format(self.duration(elapsed)))
        areas = json.loads(results.get("CLASS_AREAS") or "{}")
        self.summary.set_shares(class_shares(areas.get("classes", []), areas.get("class_table", [])))
        self.summary.setVisible(True)
        self.notify(
            self.tr("Land cover segmented in {} ({} tiles).").format(
                self.duration(elapsed), int(results.get("TILES") or 0)
            ),
            Qgis.MessageLevel.Success,
        )

    def _add_outputs(self, run: AlgorithmRun, output: str) -> None:
        """Load the outputs just above the topmost input layer (the mask polygons included, so a filled mask
        does not hide them), styled by the algorithm's post-processor; an output written to the file of a
        layer already in the project replaces that layer where it lies."""
        project = QgsProject.instance()
        parent, index = self._output_position()
        details = run.context.layersToLoadOnCompletion()
        for path in sorted(details, key=lambda key: key != output):  # the land cover on top
            detail = details[path]
            layer = QgsRasterLayer(path, detail.name or Path(path).stem, "gdal")
            if not layer.isValid():
                self.notify(
                    self.tr("The output {} could not be loaded.").format(path), Qgis.MessageLevel.Critical
                )
                continue
            replaced = self._layers_of_file(path)
            if replaced:
                node = project.layerTreeRoot().findLayer(replaced[0])
                if node is not None:
                    parent, index = node.parent(), node.parent().children().index(node)
                project.removeMapLayers([old.id() for old in replaced])
            project.addMapLayer(layer, False)
            parent.insertLayer(index, layer)
            index += 1
            if detail.postProcessor() is not None:
                detail.postProcessor().postProcessLayer(layer, run.context, run.feedback)

    def _output_position(self) -> tuple[QgsLayerTreeGroup, int]:
        """The group and index just above the topmost of the run's input layers (root top when none)."""
        root = QgsProject.instance().layerTreeRoot()
        layers = [self.optical_combo.currentLayer(), self.elevation_combo.currentLayer()]
        if self.area_combo.currentData() == AREA_POLYGONS:
            layers.append(self.mask_combo.currentLayer())
        nodes = [root.findLayer(layer) for layer in layers if layer is not None]
        nodes = [node for node in nodes if node is not None]
        if not nodes:
            return root, 0
        order = root.layerOrder()
        top = min(nodes, key=lambda node: order.index(node.layer()) if node.layer() in order else len(order))
        return top.parent(), top.parent().children().index(top)

    @staticmethod
    def _layers_of_file(path: str) -> list[QgsMapLayer]:
        """The project's raster layers that show the file ``path``."""
        target = Path(path).resolve()
        return [
            layer
            for layer in QgsProject.instance().mapLayers().values()
            if isinstance(layer, QgsRasterLayer)
            and (source := file_source(layer))
            and Path(source).resolve() == target
        ]

    def notify(self, text: str, level: Qgis.MessageLevel) -> None:
        """Tell the user in the message bar and the GeoFuse log panel.

        Every message times out (errors after 30 s), so an old failure does not stay above later successes;
        the log panel keeps them all.
        """
        duration = 10 if level in (Qgis.MessageLevel.Info, Qgis.MessageLevel.Success) else 30
        self.iface.messageBar().pushMessage(self.tr("GeoFuse"), text, level, duration)
        QgsMessageLog.logMessage(text, LOG_TAG, level)

    # ------------------------------------------------------------------------------------- other actions

    def open_help(self) -> None:
        """The README's first-scene guide in the web browser."""
        QDesktopServices.openUrl(QUrl(HELP_URL))

    def open_runtime_setup(self) -> None:
        """The ``geofuse:install_runtime`` dialog; the runtime line is checked again when it has run."""
        from processing import createAlgorithmDialog

        self.setup_dialog = createAlgorithmDialog("geofuse:install_runtime", {})
        if self.setup_dialog is None:
            self.notify(self.tr("The GeoFuse Processing provider is not loaded."), Qgis.MessageLevel.Critical)
            return
        self.setup_dialog.algorithmFinished.connect(self._runtime_set_up)  # bound method: no cycle
        self.setup_dialog.show()

    def _runtime_usable(self, usable: bool) -> None:
        """Segment stays disabled while the runtime is missing or fails its check (until set up again)."""
        self.runtime_usable = usable
        if self.run is None:
            self.segment_button.setEnabled(usable)

    def _runtime_set_up(self, successful: bool, results: dict) -> None:
        self.runtime.check()

    def showEvent(self, event: QShowEvent) -> None:
        """Check the runtime the first time the dock is shown (in the background)."""
        super().showEvent(event)
        if self.runtime.summary is None and not self.runtime.is_running() and not self.runtime.report:
            self.runtime.check()

    def shutdown(self, timeout_s: float = 15.0) -> None:
        """Cancel what runs and wait for it to end, so no task outlives its context (plugin unload).

        Safe to call twice (QGIS unloads every active plugin again when it quits), and after the set-up
        dialog was closed with its own Close button, which deletes it on the C++ side.
        """
        if not self.shut_down:
            self.shut_down = True
            project = QgsProject.instance()
            project.legendLayersAdded.disconnect(self._guess_layers)
            project.readProject.disconnect(self._restore_layers)
            self.iface.mapCanvas().extentsChanged.disconnect(self._canvas_moved)
        dialog, self.setup_dialog = self.setup_dialog, None
        if dialog is not None and not sip.isdeleted(dialog):
            dialog.close()
            dialog.deleteLater()
        if self.run is not None:
            self.run.cancel()
        self.improve.cancel()
        self.runtime.cancel()
        deadline = time.monotonic() + timeout_s
        while self.is_running() and time.monotonic() < deadline:
            QgsApplication.processEvents()
            time.sleep(0.02)
