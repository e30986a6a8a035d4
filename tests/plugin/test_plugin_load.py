"""The plugin loads in the real QGIS desktop through qgis.utils, registers its Processing provider, and
unload() leaves nothing behind."""

from pathlib import Path

from qgis_desktop import run_in_qgis_desktop

LOAD_UNLOAD_SCRIPT = r"""
import json, os, traceback
import qgis.utils
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QTimer
from qgis.PyQt.QtWidgets import QAction, QDockWidget, QPushButton, QToolBar


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
        "toolbar": [
            a.text() for bar in window.findChildren(QToolBar) for a in bar.actions()
            if a.objectName() == "geofuseAction"
        ],
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


SETUP_DIALOG_SCRIPT = r"""
import json, os, traceback
import qgis.utils
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QPoint, QTimer
from qgis.PyQt.QtWidgets import QDialogButtonBox, QToolBar, QWidget

messages = []
QgsApplication.messageLog().messageReceived.connect(
    lambda text, tag, level: messages.append(f"{tag}: {text}")
)


def settle():
    for _ in range(5):
        QgsApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def check():
    report = {}
    try:
        iface = qgis.utils.iface
        qgis.utils.updateAvailablePlugins()
        qgis.utils.loadPlugin("geofuse")
        qgis.utils.startPlugin("geofuse")
        plugin = qgis.utils.plugins["geofuse"]
        settle()
        report["toolbars_with_button"] = [
            bar.objectName() for bar in iface.mainWindow().findChildren(QToolBar)
            if not bar.isHidden() and any(a.objectName() == "geofuseAction" for a in bar.actions())
        ]
        iface.mainWindow().setGeometry(0, 0, 1600, 1000)  # Xvfb has no window manager to maximise it
        plugin.action.trigger()
        settle()
        dock = plugin.dock
        body = dock.widget().widget()
        report["dock_width"] = dock.width()
        report["clipped"] = [
            w.objectName() or type(w).__name__ for w in body.findChildren(QWidget)
            if w.isVisibleTo(body) and w.mapTo(body, QPoint(w.width(), 0)).x() > body.width()
        ]
        report["sideways_scroll"] = dock.widget().horizontalScrollBar().isVisible()
        report["screenshot"] = dock.grab().save(os.path.join(os.environ["HOME"], "dock.png"))
        plugin.dock.open_runtime_setup()
        dialog = plugin.dock.setup_dialog
        settle()
        report["dialog_shown"] = dialog.isVisible()
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close).click()
        settle()
        report["unloaded"] = qgis.utils.unloadPlugin("geofuse")
        settle()
        report["active_after"] = "geofuse" in qgis.utils.active_plugins
        report["toolbars_after"] = [
            bar.objectName() for bar in iface.mainWindow().findChildren(QToolBar)
            if any(a.objectName() == "geofuseAction" for a in bar.actions())
        ]
        report["providers_after"] = [
            p.id() for p in QgsApplication.processingRegistry().providers() if p.id() == "geofuse"
        ]
    except Exception:
        report["error"] = traceback.format_exc()
    report["messages"] = messages
    with open(os.environ["GEOFUSE_TEST_REPORT"], "w") as f:
        json.dump(report, f)
    QgsApplication.instance().quit()


timer = QTimer(QgsApplication.instance())
timer.setSingleShot(True)
timer.timeout.connect(check)
timer.start(0)
"""


def test_fresh_profile_shows_the_button_and_unload_after_closing_the_setup_dialog_is_clean(
    repo_root: Path, tmp_path: Path
) -> None:
    """A fresh profile shows GeoFuse's toolbar button and opens the dock at QGIS's default dock width with
    nothing clipped; closing the set-up dialog with its own Close button and then unloading leaves no error,
    no action, no provider, and QGIS quits (no hang behind an error)."""
    report = run_in_qgis_desktop(SETUP_DIALOG_SCRIPT, tmp_path, plugin_dir=repo_root)

    assert "error" not in report, report.get("error")
    assert report["toolbars_with_button"] == ["GeoFuseToolbar"]
    assert report["screenshot"] and (tmp_path / "dock.png").is_file()
    assert report["dock_width"] < 400  # QGIS's width for a new dock, not one the dock forced
    assert report["clipped"] == [] and not report["sideways_scroll"]
    assert report["dialog_shown"]
    assert report["unloaded"]
    assert not report["active_after"]
    assert report["toolbars_after"] == []
    assert report["providers_after"] == []
    problems = [m for m in report["messages"] if "Error" in m or "Traceback" in m or "deleted" in m]
    assert problems == []
