"""The dock's model path: shown elided in the middle (the folder's start and the file name stay readable),
the whole path in the tooltip; the file widget's browse button and drag and drop still choose the file."""

from __future__ import annotations

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QResizeEvent
from qgis.PyQt.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedPathLabel(QLabel):
    """A one-line label that elides its path in the middle to whatever width it gets."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_path(self, path: str) -> None:
        """Show ``path``; the tooltip holds it whole."""
        self.path = path
        self.setToolTip(path)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Elide again for the new width."""
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(
            self.fontMetrics().elidedText(self.path, Qt.TextElideMode.ElideMiddle, max(self.width(), 1))
        )


def show_path_elided(widget: QgsFileWidget) -> ElidedPathLabel:
    """Replace the file widget's line edit by an :class:`ElidedPathLabel` that follows its file path."""
    label = ElidedPathLabel(widget)
    label.setObjectName(f"{widget.objectName()}Path")
    widget.lineEdit().setVisible(False)
    widget.layout().insertWidget(0, label, 1)
    widget.fileChanged.connect(label.set_path)
    label.set_path(widget.filePath())
    return label
