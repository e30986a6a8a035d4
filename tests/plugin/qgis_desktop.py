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


def run_in_qgis_desktop(
    script: str,
    work: Path,
    plugin_dir: Path | None = None,
    profiles: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> dict:
    """Start ``qgis`` with a throw-away profile and run ``script``.

    Args:
        script: Python run by ``qgis --code``; it writes a JSON report to ``$GEOFUSE_TEST_REPORT`` and quits.
        work: Folder for the script, the report and ``$HOME``.
        plugin_dir: Installed as ``geofuse`` through ``QGIS_PLUGINPATH``; None when the plugin already lies
            in the profile (an unpacked ZIP).
        profiles: The ``--profiles-path`` (default ``work/profiles``).
        env: Further environment variables.
        timeout: Seconds QGIS may run.
    """
    for tool in ("qgis", "xvfb-run"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"'{tool}' not found: `make setup` installs Debian's qgis and xvfb packages")
    script_path = work / "script.py"
    script_path.write_text(script, encoding="utf-8")
    report = work / "report.json"
    hidden = {"PYTHONPATH", "PYTHONHOME", "QT_QPA_PLATFORM", "QGIS_PLUGINPATH"}
    environment = {k: v for k, v in os.environ.items() if k not in hidden}
    environment.update({REPORT_ENV: str(report), "HOME": str(work), **(env or {})})
    if plugin_dir is not None:
        plugins = work / "plugins"
        plugins.mkdir(parents=True)
        (plugins / "geofuse").symlink_to(plugin_dir, target_is_directory=True)
        environment["QGIS_PLUGINPATH"] = str(plugins)
    command = [
        "xvfb-run", "-a", "qgis", "--nologo", "--noversioncheck", "--noplugins",
        "--profiles-path", str(profiles or work / "profiles"), "--code", str(script_path),
    ]  # fmt: skip
    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=timeout, check=False
    )
    if not report.exists():
        raise AssertionError(f"QGIS wrote no report (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(report.read_text(encoding="utf-8"))
