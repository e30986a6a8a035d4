"""What the user reads for GeoFuse's names and numbers: the shipped class and band names, translated, and
numbers in the user's locale.

A model's class names are data: they come from its card and go into files unchanged. Only their display
in QGIS is translated, and only for the names GeoFuse ships with (the ISPRS classes of the bundled model);
a user's own class names are shown as they were given.
"""

from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication, QLocale


def _shipped_classes() -> dict[str, str]:
    return {
        "impervious surfaces": QCoreApplication.translate("Labels", "impervious surfaces"),
        "building": QCoreApplication.translate("Labels", "building"),
        "low vegetation": QCoreApplication.translate("Labels", "low vegetation"),
        "tree": QCoreApplication.translate("Labels", "tree"),
        "car": QCoreApplication.translate("Labels", "car"),
        "clutter": QCoreApplication.translate("Labels", "clutter"),
    }


def _shipped_bands() -> dict[str, str]:
    return {
        "R": QCoreApplication.translate("Labels", "R", "red band"),
        "G": QCoreApplication.translate("Labels", "G", "green band"),
        "B": QCoreApplication.translate("Labels", "B", "blue band"),
        "IR": QCoreApplication.translate("Labels", "IR", "near-infrared band"),
    }


def class_label(name: str) -> str:
    """``name`` in the user's language when it is one of the shipped classes, else as given."""
    return _shipped_classes().get(name.strip().lower(), name)


def bands_label(bands: tuple[str, ...] | list[str]) -> str:
    """Band names joined as the dock shows them (``R/G/B``), shipped band letters translated."""
    shipped = _shipped_bands()
    return "/".join(shipped.get(band, band) for band in bands)


def number(value: float, decimals: int = 0) -> str:
    """``value`` with the locale's digit grouping and decimal mark (``2.378,1`` under German)."""
    return QLocale().toString(float(value), "f", decimals)
