"""The dock's layout and wording in a real QgsApplication: it fits QGIS's default dock width without clipped
controls, numbers follow the locale, light class colours show, tile size 0 reads "Auto", the model path's
tooltip is the whole path, and the progress text stays the worker's once it reports."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QLocale, QPoint
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtWidgets import QWidget

from geofuse.plugin.dock.chart import ClassShare
from geofuse.plugin.dock.widget import GeoFuseDock
from geofuse.plugin.worker_client import WorkerProgress

pytestmark = pytest.mark.usefixtures("geofuse_provider", "qgis_new_project")
SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
DEFAULT_DOCK_WIDTH = 300
"""About what QGIS gives a newly added dock on the right (measured in the Xvfb desktop at 1600 px)."""


def shares() -> list[ClassShare]:
    return [
        ClassShare("Impervious surfaces", QColor(255, 255, 255), 4000, 2378.1, 40.0),
        ClassShare("Low vegetation (grass, fields)", QColor(0, 255, 255), 6000, 3567.15, 60.0),
    ]


def settle() -> None:
    for _ in range(5):
        QgsApplication.processEvents()


def test_the_dock_fits_the_default_dock_width_without_clipped_controls(dock: GeoFuseDock) -> None:
    long_name = "Orthophoto 2024 Musterstadt Nord, 8 cm, RGB (Landesvermessung)"
    QgsProject.instance().addMapLayer(QgsRasterLayer(str(SAMPLE / "optical.tif"), long_name, "gdal"))
    dock.summary.set_shares(shares())
    dock.summary.setVisible(True)
    dock.resize(DEFAULT_DOCK_WIDTH, 1400)
    dock.show()
    settle()
    scroll = dock.widget()
    body = scroll.widget()

    assert dock.minimumSizeHint().width() <= DEFAULT_DOCK_WIDTH
    assert not scroll.horizontalScrollBar().isVisible()
    clipped = [
        widget.objectName() or type(widget).__name__
        for widget in body.findChildren(QWidget)
        if widget.isVisibleTo(body) and widget.mapTo(body, QPoint(widget.width(), 0)).x() > body.width()
    ]
    assert clipped == []
    table = dock.summary.table
    share_column = table.horizontalHeader().sectionViewportPosition(2) + table.columnWidth(2)
    assert share_column <= table.viewport().width()
    assert not table.verticalScrollBar().isVisible()


def test_numbers_follow_the_locale(dock: GeoFuseDock) -> None:
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        dock.summary.set_shares(shares())
        table = dock.summary.table
        assert table.item(0, 1).text() == "2.378,1"
        assert table.item(1, 2).text() == "60,0 %"
    finally:
        QLocale.setDefault(previous)


def test_a_white_class_has_an_outline(dock: GeoFuseDock) -> None:
    dock.summary.set_shares(shares())
    icon = dock.summary.table.item(0, 0).icon().pixmap(12, 12).toImage()
    assert QColor(icon.pixel(0, 0)).lightness() < 200  # the outline, not the white fill
    assert QColor(icon.pixel(6, 6)) == QColor(255, 255, 255)
    assert "□" in dock.card_label.text()  # the bundled model's white class in the card


def test_tile_size_zero_reads_auto_and_the_model_tooltip_is_the_whole_path(dock: GeoFuseDock) -> None:
    dock.tile_spin.setValue(0)
    assert dock.tile_spin.text() == "Auto"
    path = "/home/analyst/projects/2024 Musterstadt/models/fine-tuned/geofuse_musterstadt_v3.pt"
    dock.model_widget.setFilePath(path)
    dock.resize(300, 900)
    dock.show()
    settle()
    shown = dock.model_path.text()
    assert dock.model_path.toolTip() == path
    assert shown.startswith("/home") and shown.endswith("_v3.pt") and "…" in shown


def test_progress_text_is_the_workers_once_it_reports(dock: GeoFuseDock) -> None:
    dock.started = time.monotonic() - 27
    dock.worker_talking = False
    dock.run = object()  # a run under way, as far as the clock is concerned
    try:
        dock._tick()
        assert dock.progress.format().startswith("Starting the GeoFuse runtime")
        dock._worker_progress(WorkerProgress(0.25, done=1, total=4, eta_s=20.0))
        dock._tick()
        assert dock.progress.format() == "1 / 4 tiles, about 20 s left"
    finally:
        dock.run = None
