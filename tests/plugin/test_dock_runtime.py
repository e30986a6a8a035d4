"""The dock's runtime line in a real QgsApplication: a missing, unfinished or failing runtime is one short
line with the button beside it, Segment is disabled until it is set up again, and messages time out."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from qgis.core import Qgis, QgsApplication, QgsSettings
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from segment_inputs import geofuse_provider

from geofuse.plugin import runtime
from geofuse.plugin.dock.widget import GeoFuseDock

__all__ = ["geofuse_provider"]
pytestmark = pytest.mark.usefixtures("geofuse_provider")
SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.fixture
def no_configured_runtime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No GEOFUSE_PYTHON, no setting, the created runtime's place in tmp_path, QGIS's Python without torch."""
    monkeypatch.delenv("GEOFUSE_PYTHON", raising=False)
    QgsSettings().remove(runtime.SETTINGS_KEY)
    monkeypatch.setattr(runtime, "runtime_venv_dir", lambda: tmp_path / "runtime")
    if runtime.has_runtime_packages(SYSTEM_PYTHON):
        pytest.skip("this system's Python has torch and rasterio: it would be the runtime")
    monkeypatch.setattr(runtime, "qgis_python", lambda: SYSTEM_PYTHON)
    return tmp_path / "runtime"


@pytest.fixture
def dock(qgis_iface) -> Iterator[GeoFuseDock]:
    widget = GeoFuseDock(qgis_iface)
    yield widget
    widget.shutdown()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def wait_for_check(dock: GeoFuseDock) -> None:
    deadline = time.monotonic() + 60
    while dock.runtime.is_running():
        assert time.monotonic() < deadline, "the runtime check did not finish"
        QgsApplication.processEvents()
        time.sleep(0.01)


def test_no_runtime_is_one_short_line_beside_the_set_up_button(
    dock: GeoFuseDock, no_configured_runtime: Path
) -> None:
    dock.runtime.check()
    wait_for_check(dock)

    assert dock.runtime.status.text() == "No GeoFuse runtime yet."
    assert dock.runtime.setup_button.text() == "Set up runtime"
    assert "geofuse:install_runtime" in dock.runtime.status.toolTip()
    assert not dock.segment_button.isEnabled()


def test_an_unfinished_runtime_is_incomplete_and_segment_is_disabled(
    dock: GeoFuseDock, no_configured_runtime: Path
) -> None:
    python = runtime.venv_python(no_configured_runtime)
    python.parent.mkdir(parents=True)
    python.symlink_to(SYSTEM_PYTHON)  # what an interrupted set-up left: a venv without packages

    dock.runtime.check()
    wait_for_check(dock)

    assert dock.runtime.status.text() == "GeoFuse runtime: incomplete — Set up runtime again."
    assert str(no_configured_runtime) in dock.runtime.status.toolTip()
    assert not dock.segment_button.isEnabled()


def test_a_runtime_failing_its_check_is_incomplete_with_the_whole_reason_in_the_tooltip(
    dock: GeoFuseDock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEOFUSE_PYTHON", str(SYSTEM_PYTHON))
    if runtime.has_runtime_packages(SYSTEM_PYTHON):
        pytest.skip("this system's Python has torch and rasterio")

    dock.runtime.check()
    wait_for_check(dock)

    assert dock.runtime.status.text() == "GeoFuse runtime: incomplete — Set up runtime again."
    reason = dock.runtime.status.toolTip()
    assert not reason.rstrip().endswith(":") and len(reason.splitlines()) > 1
    assert not dock.segment_button.isEnabled()
    assert dock.runtime.copy_button.isEnabled()


def test_a_working_runtime_enables_segment_again(dock: GeoFuseDock, monkeypatch: pytest.MonkeyPatch) -> None:
    dock._runtime_usable(False)
    monkeypatch.setenv("GEOFUSE_PYTHON", sys.executable)

    dock.runtime.check()
    wait_for_check(dock)

    assert dock.runtime.status.text().startswith("GeoFuse runtime: Python")
    assert dock.segment_button.isEnabled()


def test_error_messages_time_out(dock: GeoFuseDock, qgis_iface, monkeypatch: pytest.MonkeyPatch) -> None:
    bar = QgsMessageBar()
    monkeypatch.setattr(qgis_iface, "messageBar", lambda: bar)

    dock.notify("Segmentation failed: out of memory", Qgis.MessageLevel.Critical)

    assert bar.currentItem() is not None
    assert bar.currentItem().duration() > 0
