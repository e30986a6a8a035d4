"""The dock's class-area summary: a table (area in m² and share per class) and a bar chart painted with Qt.

Plain ``QPainter``: QGIS's Python on Debian has no matplotlib, and a few bars need none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qgis.PyQt.QtCore import QLocale, QRectF, QSize, Qt
from qgis.PyQt.QtGui import QColor, QIcon, QPainter, QPaintEvent, QPen, QPixmap
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..labels import class_label

BAR_HEIGHT = 14
BAR_GAP = 4
LABEL_GAP = 8


@dataclass(frozen=True)
class ClassShare:
    """One class's part of the output."""

    name: str
    colour: QColor
    pixels: int
    area_m2: float | None
    percent: float


def class_shares(
    areas: Sequence[Mapping[str, Any]], class_table: Sequence[Mapping[str, Any]]
) -> list[ClassShare]:
    """Join the worker's per-class areas with the class colours; percent of the classified pixels."""
    colours = {str(entry["name"]): QColor(*entry["colour"][:3]) for entry in class_table}
    total = sum(int(area.get("pixels") or 0) for area in areas) or 1
    return [
        ClassShare(
            name=class_label(str(area["name"])),
            colour=colours.get(str(area["name"]), QColor("gray")),
            pixels=int(area.get("pixels") or 0),
            area_m2=float(area["area_m2"]) if area.get("area_m2") is not None else None,
            percent=100.0 * int(area.get("pixels") or 0) / total,
        )
        for area in areas
    ]


def percent_text(percent: float) -> str:
    """A share in the user's locale (``12,5 %`` in German)."""
    return f"{QLocale().toString(percent, 'f', 1)} %"


def swatch(colour: QColor, outline: QColor, size: int = 12) -> QIcon:
    """A square of the class colour with an outline, so a white class shows on a white table."""
    pixmap = QPixmap(size, size)
    pixmap.fill(colour)
    painter = QPainter(pixmap)
    painter.setPen(QPen(outline, 1))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pixmap)


class ClassBarChart(QWidget):
    """Horizontal bars, one per class, in the class colour, as long as the class's share."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shares: list[ClassShare] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_shares(self, shares: list[ClassShare]) -> None:
        """Show these shares."""
        self.shares = shares
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def sizeHint(self) -> QSize:
        """Tall enough for every bar."""
        return QSize(240, max(1, len(self.shares)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Name, bar, percentage; the bar's full length is 100 %."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_colour = self.palette().color(self.foregroundRole())
        names = max((self.fontMetrics().horizontalAdvance(share.name) for share in self.shares), default=0)
        label_width = min(names + LABEL_GAP, self.width() // 2)
        bar_space = max(10, self.width() - label_width - 60)
        for row, share in enumerate(self.shares):
            top = BAR_GAP + row * (BAR_HEIGHT + BAR_GAP)
            painter.setPen(text_colour)
            name_width = label_width - LABEL_GAP / 2
            painter.drawText(
                QRectF(0, top, name_width, BAR_HEIGHT),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                self.fontMetrics().elidedText(share.name, Qt.TextElideMode.ElideRight, int(name_width)),
            )
            bar = QRectF(label_width, top, max(1.0, bar_space * share.percent / 100.0), BAR_HEIGHT)
            painter.setPen(QPen(QColor(90, 90, 90), 0.5))
            painter.setBrush(share.colour)
            painter.drawRect(bar)
            painter.setPen(text_colour)
            painter.drawText(
                QRectF(bar.right() + 4, top, 56, BAR_HEIGHT),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                percent_text(share.percent),
            )
        painter.end()


class ClassAreaSummary(QWidget):
    """The table and the chart together; hidden until a run has finished."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("classAreaTable")
        self.table.setHorizontalHeaderLabels([self.tr("Class"), self.tr("Area (m²)"), self.tr("Share")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            self.table.horizontalHeader().setSectionResizeMode(
                column, QHeaderView.ResizeMode.ResizeToContents
            )
        # As tall as its rows (set_shares): no scroll bar to hide the Share column behind.
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chart = ClassBarChart(self)
        self.chart.setObjectName("classAreaChart")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.chart)

    def set_shares(self, shares: list[ClassShare]) -> None:
        """Fill the table and the chart."""
        self.table.setRowCount(len(shares))
        for row, share in enumerate(shares):
            name = QTableWidgetItem(
                swatch(share.colour, self.palette().color(self.foregroundRole())), share.name
            )
            locale = QLocale()
            area = (
                locale.toString(share.area_m2, "f", 1)
                if share.area_m2 is not None
                else self.tr("{} px").format(locale.toString(share.pixels))
            )
            cells = (name, QTableWidgetItem(area), QTableWidgetItem(percent_text(share.percent)))
            for column, item in enumerate(cells):
                if column:
                    item.setTextAlignment(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader().height()
        self.table.setFixedHeight(header + sum(self.table.rowHeight(r) for r in range(len(shares))) + 4)
        self.chart.set_shares(shares)
