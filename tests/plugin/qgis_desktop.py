"""Run a script inside the real QGIS desktop application (under Xvfb) and read back what it reported.

pytest-qgis gives a QgsApplication but only a stand-in ``iface``; menus, toolbars and docks of the real
QgisApp exist only in the ``qgis`` program, so plugin-loading checks run there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

REPORT_ENV = "GEOFUSE_TEST_REPORT"


def run_in_qgis_desktop(script: str, plugin_dir: Path, work: Path, timeout: float = 120) -> dict:
    """Start ``qgis`` with a throw-away profile, ``plugin_dir`` installed as ``geofuse``, and run ``script``.

    The script writes a JSON report to the path in ``$GEOFUSE_TEST_REPORT`` and quits QGIS.
    """
    for tool in ("qgis", "xvfb-run"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"'{tool}' not found: `make setup` installs Debian's qgis and xvfb packages")
    plugins = work / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "geofuse").symlink_to(plugin_dir, target_is_directory=True)
    script_path = work / "script.py"
    script_path.write_text(script, encoding="utf-8")
    report = work / "report.json"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "QT_QPA_PLATFORM"}}
    env.update({"QGIS_PLUGINPATH": str(plugins), REPORT_ENV: str(report), "HOME": str(work)})
    command = [
        "xvfb-run", "-a", "qgis", "--nologo", "--noversioncheck", "--noplugins",
        "--profiles-path", str(work / "profiles"), "--code", str(script_path),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if not report.exists():
        raise AssertionError(f"QGIS wrote no report (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(report.read_text(encoding="utf-8"))
