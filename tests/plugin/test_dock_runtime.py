"""The dock's runtime line in a real QgsApplication: a missing, unfinished or failing runtime is one short
line with the button beside it, Segment is disabled until it is set up again, and messages time out. The
check runs off the GUI thread and its findings arrive as values (versions, devices)."""

from __future__ import annotations

import json
import platform
import sys
import threading
import time
from importlib.metadata import version as package_version
from pathlib import Path

import pytest
from qgis.core import Qgis, QgsApplication, QgsSettings
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import QLocale

from geofuse.plugin import runtime
from geofuse.plugin.dock import runtime_panel
from geofuse.plugin.dock.widget import GeoFuseDock

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


def test_a_working_runtime_enables_segment_again_and_reports_its_versions_as_values(
    dock: GeoFuseDock, monkeypatch: pytest.MonkeyPatch
) -> None:
    dock._runtime_usable(False)
    monkeypatch.setenv("GEOFUSE_PYTHON", sys.executable)

    dock.runtime.check()
    wait_for_check(dock)

    python = platform.python_version()
    assert dock.runtime.status.text().startswith(f"GeoFuse runtime: Python {python}, torch")
    assert dock.segment_button.isEnabled()
    summary = dock.runtime.summary
    assert summary is not None and summary.python == platform.python_version()
    assert summary.torch == package_version("torch") and summary.torch.split("+")[0] in dock.runtime.report
    assert "cpu" in [device.id for device in summary.devices]
    assert dock.runtime.problem() is None


def test_the_runtime_is_looked_for_off_the_gui_thread(
    dock: GeoFuseDock, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    on_gui_thread: list[bool] = []

    def slow_lookup() -> runtime.Runtime:
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        release.wait(30)  # a has_runtime_packages() that takes its time
        raise runtime.NoRuntimeError("no runtime on this machine")

    monkeypatch.setattr(runtime_panel, "find_runtime", slow_lookup)

    dock.runtime.check()  # returns at once: on the GUI thread this would wait for the release below

    assert dock.runtime.is_running() and dock.runtime.problem() is None
    release.set()
    wait_for_check(dock)
    assert on_gui_thread == [False]
    assert dock.runtime.status.text() == "No GeoFuse runtime yet."
    assert dock.runtime.problem() == "no runtime on this machine"
    assert not dock.segment_button.isEnabled()


def test_gpus_are_offered_with_their_memory_in_the_users_locale(dock: GeoFuseDock) -> None:
    results = {
        "PYTHON_VERSION": "3.11.2",
        "TORCH_VERSION": "2.13.0",
        "CUDA_AVAILABLE": True,
        "DEVICES": json.dumps(
            [
                {"id": "cpu", "name": "x86_64"},
                {"id": "cuda:0", "name": "NVIDIA A100", "total_memory_mb": 40960, "free_memory_mb": 39000},
            ]
        ),
    }
    summary = runtime_panel.RuntimeSummary.from_results(results)
    default = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        dock.runtime.devices_found.emit([device for device in summary.devices if device.id != "cpu"])
    finally:
        QLocale.setDefault(default)

    labels = [dock.device_combo.itemText(index) for index in range(dock.device_combo.count())]
    assert labels[2:] == ["cuda:0: NVIDIA A100, 40.960 MB"]
    assert dock.device_combo.itemData(2) == "cuda:0"
    assert summary.cuda and summary.devices[1].free_memory_mb == 39000


def test_error_messages_time_out(dock: GeoFuseDock, qgis_iface, monkeypatch: pytest.MonkeyPatch) -> None:
    bar = QgsMessageBar()
    monkeypatch.setattr(qgis_iface, "messageBar", lambda: bar)

    dock.notify("Segmentation failed: out of memory", Qgis.MessageLevel.Critical)

    assert bar.currentItem() is not None
    assert bar.currentItem().duration() > 0
