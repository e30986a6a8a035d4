"""Screenshots for the README: the GeoFuse dock with a finished result, the map with the styled result, and
the dock's "Improve with my polygons" before and after improving the model.

The dock keeps the width QGIS gives a new dock; the script fails if any control of it is clipped there.

``make screenshots`` runs this under Xvfb. It starts the real QGIS desktop with a throw-away profile and the
repository installed as the ``geofuse`` plugin, loads the bundled sample (resources/sample/optical.tif and
elevation.tif), opens the dock, runs Segment with the bundled demo model in the GeoFuse runtime (this venv's
Python, through ``GEOFUSE_PYTHON``), waits for the result, then runs a short Improve model on training squares
drawn from the sample's labels, and saves PNGs into docs/images/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_BYTES = 300_000

IN_QGIS = r"""
import json, os, time, traceback
import qgis.utils
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QPoint, QTimer
from qgis.PyQt.QtGui import QImage
from qgis.PyQt.QtWidgets import QWidget

REPO, OUT, REPORT = os.environ["GEOFUSE_REPO"], os.environ["GEOFUSE_OUT"], os.environ["GEOFUSE_REPORT"]
MAX_BYTES = int(os.environ["GEOFUSE_MAX_BYTES"])
state = {"started": time.monotonic(), "report": {}, "done_at": None}


def finish():
    with open(REPORT, "w") as stream:
        json.dump(state["report"], stream)
    QgsApplication.instance().quit()


def save(widget_or_image, name):
    image = widget_or_image if isinstance(widget_or_image, QImage) else widget_or_image.grab().toImage()
    path = os.path.join(OUT, name)
    scale = 1.0
    while True:
        scaled = image if scale == 1.0 else image.scaledToWidth(int(image.width() * scale), 1)
        scaled.save(path, "PNG", 9)
        if os.path.getsize(path) < MAX_BYTES or scale < 0.3:
            break
        scale *= 0.85
    entry = [name, scaled.width(), scaled.height(), os.path.getsize(path)]
    state["report"].setdefault("images", []).append(entry)


def start():
    try:
        iface = qgis.utils.iface
        window = iface.mainWindow()
        window.setGeometry(0, 0, 1600, 1000)  # Xvfb has no window manager to maximise it
        qgis.utils.updateAvailablePlugins()
        assert qgis.utils.loadPlugin("geofuse") and qgis.utils.startPlugin("geofuse")
        layers = [
            QgsRasterLayer(os.path.join(REPO, "resources", "sample", f"{name}.tif"), name, "gdal")
            for name in ("optical", "elevation")
        ]
        QgsProject.instance().addMapLayers(layers)
        iface.setActiveLayer(layers[0])
        iface.mapCanvas().setExtent(layers[0].extent())
        plugin = qgis.utils.plugins["geofuse"]
        plugin.action.trigger()
        dock = plugin.dock  # at the width QGIS gives it: the README shows what a user sees
        dock.device_combo.setCurrentIndex(dock.device_combo.findData("cpu"))
        dock.output_widget.setFilePath("")
        dock.confidence_check.setChecked(False)
        state["dock"] = dock
        QgsApplication.processEvents()
        if not dock.start():
            raise RuntimeError("the dock refused to start: " + str(dock.problem()))
        poll.start(500)
    except Exception:
        state["report"]["error"] = traceback.format_exc()
        finish()


def check():
    dock = state["dock"]
    if time.monotonic() - state["started"] > float(os.environ["GEOFUSE_TIMEOUT"]):
        state["report"]["error"] = "timed out waiting for the segmentation or the improvement"
        poll.stop()
        finish()
        return
    if dock.is_running():
        return
    if state["done_at"] is None:
        state["done_at"] = time.monotonic()  # let the canvas render and the layout settle
        return
    if time.monotonic() - state["done_at"] < 3:
        return
    state["done_at"] = None
    try:
        if "progress" not in state["report"]:
            save_segmentation(dock)
            start_improvement(dock)
            return
        poll.stop()
        state["report"]["improve"] = dock.improve.progress.text()
        save(dock.widget().widget(), "dock_improved.png")  # the card line names the base and the polygons
    except Exception:
        state["report"]["error"] = traceback.format_exc()
    finish()


def save_segmentation(dock):
    body = dock.widget().widget()
    clipped = [
        w.objectName() or type(w).__name__ for w in body.findChildren(QWidget)
        if w.isVisibleTo(body) and w.mapTo(body, QPoint(w.width(), 0)).x() > body.width()
    ]
    if clipped or dock.widget().horizontalScrollBar().isVisible():
        raise RuntimeError(f"the dock ({dock.width()} px) clips {clipped}")
    state["report"]["dock_width"] = dock.width()
    state["report"]["progress"] = dock.progress.text()
    state["report"]["runtime"] = dock.runtime.status.text()
    iface = qgis.utils.iface
    save(dock.widget().widget(), "dock_result.png")  # the whole dock content, not just what fits
    save(iface.mapCanvas(), "map_result.png")
    dock.widget().ensureWidgetVisible(dock.summary)
    QgsApplication.processEvents()
    save(iface.mainWindow(), "qgis_dock_result.png")


def training_polygons(crs):
    # Squares an analyst could digitise on the sample: three per class, inside objects of that class, with
    # roads marked as a class of their own ("road", which the model does not know).
    import numpy as np
    from osgeo import gdal
    from qgis.core import QgsFeature, QgsGeometry, QgsRectangle, QgsVectorLayer

    dataset = gdal.Open(os.path.join(REPO, "resources", "sample", "labels.tif"))
    labels = dataset.GetRasterBand(1).ReadAsArray()
    left, width, _, top, _, height = dataset.GetGeoTransform()
    layer = QgsVectorLayer("Polygon?field=class:string", "training areas", "memory")
    layer.setCrs(crs)
    side = 24
    features = []
    for name, index in (("building", 1), ("tree", 3), ("low vegetation", 2), ("road", 0)):
        blocks = labels[: labels.shape[0] // side * side, : labels.shape[1] // side * side] == index
        rows, cols = np.nonzero(blocks.reshape(blocks.shape[0] // side, side, -1, side).all(axis=(1, 3)))
        for pick in np.linspace(0, len(rows) - 1, 3).astype(int):
            x, y = left + int(cols[pick]) * side * width, top + int(rows[pick]) * side * height
            feature = QgsFeature(layer.fields())
            feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(x, y + side * height, x + side * width, y)))
            feature.setAttributes([name])
            features.append(feature)
    layer.dataProvider().addFeatures(features)
    layer.updateExtents()
    return layer


def start_improvement(dock):
    layer = training_polygons(dock.optical_combo.currentLayer().crs())
    QgsProject.instance().addMapLayer(layer)
    panel = dock.improve
    panel.setCollapsed(False)
    panel.polygon_combo.setLayer(layer)
    panel.overrides = {"STEPS": 4, "CROP_SIZE": 128, "BATCH_SIZE": 2}  # a short run: for the picture
    QgsApplication.processEvents()
    dock.widget().ensureWidgetVisible(panel)
    save(panel, "dock_improve.png")  # before the run: the class field guessed, the new classes listed
    if not panel.start():
        raise RuntimeError("the dock refused to improve the model: " + str(panel.problem()))


poll = QTimer(QgsApplication.instance())
poll.timeout.connect(check)
QTimer.singleShot(1500, start)
"""


def main() -> int:
    """Run QGIS with the script above and check what it saved."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the segmentation")
    arguments = parser.parse_args()
    for tool in ("qgis",):
        if shutil.which(tool) is None:
            sys.exit(f"'{tool}' not found: `make setup` installs Debian's qgis package")
    if not os.environ.get("DISPLAY"):
        sys.exit("no X display: run under xvfb-run (make screenshots does)")
    arguments.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="geofuse_screenshots_") as folder:
        work = Path(folder)
        plugins = work / "plugins"
        plugins.mkdir()
        (plugins / "geofuse").symlink_to(REPO, target_is_directory=True)
        script = work / "screenshots_in_qgis.py"
        script.write_text(IN_QGIS, encoding="utf-8")
        report = work / "report.json"
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "PYTHONHOME", "QT_QPA_PLATFORM", "VIRTUAL_ENV"}
        }
        environment.update(
            QGIS_PLUGINPATH=str(plugins),
            HOME=str(work),
            GEOFUSE_PYTHON=os.environ.get("GEOFUSE_PYTHON") or sys.executable,
            GEOFUSE_REPO=str(REPO),
            GEOFUSE_OUT=str(arguments.output.resolve()),
            GEOFUSE_REPORT=str(report),
            GEOFUSE_MAX_BYTES=str(MAX_BYTES),
            GEOFUSE_TIMEOUT=str(arguments.timeout),
            GDAL_PAM_ENABLED="NO",  # no .aux.xml statistics files beside the bundled sample
        )
        command = [
            "qgis", "--nologo", "--noversioncheck", "--noplugins", "--profiles-path", str(work / "profiles"),
            "--code", str(script),
        ]  # fmt: skip
        done = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=arguments.timeout + 120
        )
        if not report.is_file():
            output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            sys.exit(f"QGIS wrote no report (exit {done.returncode}):\n{output}")
        result = json.loads(report.read_text(encoding="utf-8"))
    if "error" in result:
        sys.exit(f"screenshots failed:\n{result['error']}")
    for name, width, height, size in result["images"]:
        print(f"{arguments.output / name}: {width}×{height}, {size / 1000:.0f} kB")
    print(
        f"dock ({result['dock_width']} px wide): {result['progress']}; {result['runtime']}; "
        f"improve: {result['improve']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
