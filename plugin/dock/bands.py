"""Which optical layer bands feed the model: the layer's band order (RGB, IRRG) or a custom choice per band.

The model card names its bands in the order it expects them (``R/G/B``, ``IR/R/G``); a preset names the
layer's bands 1, 2, 3, and the mapping between the two gives ``geofuse:segment``'s OPTICAL_BANDS.
"""

from __future__ import annotations

from collections.abc import Sequence

from qgis.core import QgsRasterLayer
from qgis.gui import QgsRasterBandComboBox
from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QVBoxLayout, QWidget

PRESETS: dict[str, tuple[str, ...]] = {"RGB": ("R", "G", "B"), "IRRG": ("IR", "R", "G")}
CUSTOM = "custom"


def preset_bands(layer_order: Sequence[str], model_bands: Sequence[str]) -> list[int] | None:
    """Band numbers (1-based) of the layer, in the model's order; None if the layer lacks a model band."""
    if not all(band in layer_order for band in model_bands):
        return None
    return [layer_order.index(band) + 1 for band in model_bands]


class BandMapping(QWidget):
    """A preset combo (defaulted from the model) and, for "Custom", one band picker per model band."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_bands: tuple[str, ...] = ()
        self.layer: QgsRasterLayer | None = None
        self.preset = QComboBox(self)
        self.preset.setObjectName("bandOrderCombo")
        for name in PRESETS:
            self.preset.addItem(name, name)
        self.preset.addItem(self.tr("Custom"), CUSTOM)
        self.preset.currentIndexChanged.connect(self._show_custom)
        self.custom = QWidget(self)
        self.custom_form = QFormLayout(self.custom)
        self.custom_form.setContentsMargins(0, 0, 0, 0)
        self.pickers: list[QgsRasterBandComboBox] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.preset)
        layout.addWidget(self.custom)
        self.custom.setVisible(False)

    def set_model_bands(self, bands: Sequence[str]) -> None:
        """Rebuild the pickers for the model's bands and default the preset to the model's own order."""
        self.model_bands = tuple(bands)
        while self.custom_form.rowCount():
            self.custom_form.removeRow(0)
        self.pickers = []
        for number, band in enumerate(self.model_bands, start=1):
            picker = QgsRasterBandComboBox(self.custom)
            picker.setObjectName(f"bandPicker{number}")
            picker.setLayer(self.layer)
            picker.setBand(number)
            self.pickers.append(picker)
            self.custom_form.addRow(self.tr("Model band {}").format(band), picker)
        own = next((name for name, order in PRESETS.items() if order == self.model_bands), None)
        self.preset.setCurrentIndex(self.preset.findData(own if own is not None else CUSTOM))

    def set_layer(self, layer: QgsRasterLayer | None) -> None:
        """The optical layer whose bands the custom pickers list."""
        self.layer = layer if isinstance(layer, QgsRasterLayer) else None
        for number, picker in enumerate(self.pickers, start=1):
            picker.setLayer(self.layer)
            picker.setBand(number)

    def band_numbers(self) -> list[int] | None:
        """OPTICAL_BANDS for the current choice; None when it cannot give every model band."""
        choice = self.preset.currentData()
        if choice == CUSTOM:
            bands = [picker.currentBand() for picker in self.pickers]
            return bands if all(band >= 1 for band in bands) else None
        bands = preset_bands(PRESETS[choice], self.model_bands)
        if bands is None or (self.layer is not None and max(bands, default=0) > self.layer.bandCount()):
            return None
        return bands

    def _show_custom(self) -> None:
        self.custom.setVisible(self.preset.currentData() == CUSTOM)
