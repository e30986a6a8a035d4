"""The first hour for real: a fresh QGIS profile without a runtime, *Set up runtime* in the dock (the real
``geofuse:install_runtime`` dialog, real pip with this machine's pip configuration), then *Segment*.

It downloads and installs PyTorch (minutes), so it runs only with ``GEOFUSE_TEST_SETUP=1``
(``make test-setup``), and is skipped when no package index answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from qgis_desktop import run_in_qgis_desktop

pytestmark = pytest.mark.skipif(
    os.environ.get("GEOFUSE_TEST_SETUP") != "1",
    reason="installs PyTorch for real (minutes): run with GEOFUSE_TEST_SETUP=1 (make test-setup)",
)
SETUP_TIMEOUT_S = 1800

SCRIPT = r"""
import json, os, time, traceback
import qgis.utils
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QProgressBar, QTextEdit

REPO = os.environ["GEOFUSE_REPO"]
state = {"phase": "setup", "report": {"progress": []}}


def finish():
    with open(os.environ["GEOFUSE_TEST_REPORT"], "w") as stream:
        json.dump(state["report"], stream)
    QgsApplication.instance().quit()


def start():
    try:
        qgis.utils.updateAvailablePlugins()
        qgis.utils.loadPlugin("geofuse") and qgis.utils.startPlugin("geofuse")
        layers = [
            QgsRasterLayer(os.path.join(REPO, "resources", "sample", f"{name}.tif"), name, "gdal")
            for name in ("optical", "elevation")
        ]
        QgsProject.instance().addMapLayers(layers)
        plugin = qgis.utils.plugins["geofuse"]
        plugin.action.trigger()
        dock = state["dock"] = plugin.dock
        dock.device_combo.setCurrentIndex(dock.device_combo.findData("cpu"))
        dock.open_runtime_setup()
        dialog = state["dialog"] = dock.setup_dialog
        dialog.algorithmFinished.connect(set_up_finished)
        dialog.runButton().click()
        poll.start(1000)
    except Exception:
        state["report"]["error"] = traceback.format_exc()
        finish()


def set_up_finished(ok, results):
    state["set_up_ok"] = state["report"]["set_up_ok"] = ok
    state["log"] = state["dialog"].findChild(QTextEdit, "txtLog").toPlainText()


def check():
    dock, report = state["dock"], state["report"]
    try:
        if state["phase"] == "setup":
            if not sip.isdeleted(state["dialog"]):  # it closes itself after a successful run
                report["progress"].append(state["dialog"].findChild(QProgressBar, "progressBar").value())
            if state.get("set_up_ok") is False:
                raise RuntimeError("set-up failed:\n" + state["log"][-5000:])
            if "set_up_ok" not in state or dock.runtime.is_running() or dock.runtime.summary is None:
                return
            report["runtime"] = dock.runtime.status.text()
            state["phase"] = "segment"
            if not dock.start():
                raise RuntimeError("the dock refused to start: " + str(dock.problem()))
            return
        if dock.run is not None:
            return
        report["result"] = dock.progress.text()
        report["layers"] = [layer.name() for layer in QgsProject.instance().mapLayers().values()]
        poll.stop()
        finish()
    except Exception:
        report["error"] = traceback.format_exc()
        poll.stop()
        finish()


poll = QTimer(QgsApplication.instance())
poll.timeout.connect(check)
QTimer.singleShot(1000, start)
"""


def package_index_answers() -> bool:
    """Whether pip (with this machine's configuration) finds numpy on some index."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-deps",
            "--ignore-installed",
            "--quiet",
            "numpy",
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode == 0


def test_a_fresh_profile_sets_up_the_runtime_from_the_dock_and_segments(
    repo_root: Path, tmp_path: Path
) -> None:
    if not package_index_answers():
        pytest.skip("no package index is reachable")
    profiles = tmp_path / "profiles"

    report = run_in_qgis_desktop(
        SCRIPT,
        tmp_path,
        plugin_dir=repo_root,
        profiles=profiles,
        env={"GEOFUSE_PYTHON": "", "GEOFUSE_REPO": str(repo_root)},
        timeout=SETUP_TIMEOUT_S,
    )

    assert "error" not in report, report.get("error")
    runtime = profiles / "profiles" / "default" / "geofuse" / "runtime"
    assert (runtime / "geofuse-runtime.json").is_file()
    assert [path.name for path in runtime.parent.iterdir()] == ["runtime"]  # no building folder left
    assert report["runtime"].startswith("GeoFuse runtime: Python")
    assert len(set(report["progress"])) > 4  # the bar moved through the set-up, not parked at one value
    assert report["result"].startswith("Done in")
    assert "Land cover (optical)" in report["layers"]
