"""The plugin loads in the real QGIS desktop through qgis.utils, registers its Processing provider, and
unload() leaves nothing behind."""

from pathlib import Path

from qgis_desktop import run_in_qgis_desktop

LOAD_UNLOAD_SCRIPT = r"""
import json, os, traceback
import qgis.utils
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QTimer
from qgis.PyQt.QtWidgets import QAction, QDockWidget, QPushButton


def geofuse_state():
    iface = qgis.utils.iface
    window = iface.mainWindow()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    submenus = [a.menu() for a in iface.rasterMenu().actions() if a.menu() is not None]
    return {
        "menus": [m.title() for m in submenus if m.title().replace("&", "") == "GeoFuse"],
        "menu_entries": [
            x.text() for m in submenus if m.title().replace("&", "") == "GeoFuse" for x in m.actions()
        ],
        "toolbar": [a.text() for a in iface.rasterToolBar().actions() if a.objectName() == "geofuseAction"],
        "actions": len(window.findChildren(QAction, "geofuseAction")),
        "docks": [d.isVisible() for d in window.findChildren(QDockWidget, "GeoFuseDock")],
        "dock_buttons": [
            b.text() for d in window.findChildren(QDockWidget, "GeoFuseDock")
            for b in d.findChildren(QPushButton, "segmentButton")
        ],
        "active": "geofuse" in qgis.utils.active_plugins,
        "algorithms": sorted(
            a.id() for a in QgsApplication.processingRegistry().algorithms() if a.provider().id() == "geofuse"
        ),
    }


def check():
    report = {}
    try:
        report["before"] = geofuse_state()
        qgis.utils.updateAvailablePlugins()  # what QGIS does at start-up; --noplugins skips it
        report["loaded"] = qgis.utils.loadPlugin("geofuse")
        report["started"] = qgis.utils.startPlugin("geofuse")
        plugin = qgis.utils.plugins["geofuse"]
        plugin.action.trigger()
        QgsApplication.processEvents()
        report["running"] = geofuse_state()
        report["unloaded"] = qgis.utils.unloadPlugin("geofuse")
        report["after"] = geofuse_state()
    except Exception:
        report["error"] = traceback.format_exc()
    with open(os.environ["GEOFUSE_TEST_REPORT"], "w") as f:
        json.dump(report, f)
    QgsApplication.instance().quit()


timer = QTimer(QgsApplication.instance())  # parented, so it outlives this script's namespace
timer.setSingleShot(True)
timer.timeout.connect(check)
timer.start(0)
"""


def test_plugin_loads_adds_its_actions_and_unloads_cleanly(repo_root: Path, tmp_path: Path) -> None:
    report = run_in_qgis_desktop(LOAD_UNLOAD_SCRIPT, tmp_path, plugin_dir=repo_root)

    assert "error" not in report, report.get("error")
    nothing = {
        "menus": [],
        "menu_entries": [],
        "toolbar": [],
        "actions": 0,
        "docks": [],
        "dock_buttons": [],
        "active": False,
        "algorithms": [],
    }
    assert report["before"] == nothing
    assert report["loaded"] and report["started"]
    running = report["running"]
    assert running["menus"] == ["&GeoFuse"]
    assert running["menu_entries"] == ["GeoFuse"]
    assert running["toolbar"] == ["GeoFuse"]
    assert running["actions"] == 1
    assert running["docks"] == [True]
    assert running["dock_buttons"] == ["Segment"]
    assert running["active"]
    assert running["algorithms"] == [
        "geofuse:diagnostics",
        "geofuse:evaluate",
        "geofuse:finetune",
        "geofuse:install_runtime",
        "geofuse:segment",
        "geofuse:train",
    ]
    assert report["unloaded"]
    assert report["after"] == nothing
