"""Run the plugin tests in a real QgsApplication (pytest-qgis), or say loudly why they cannot run here.

Known defect, not fixed yet (also on 0.2.0): the QGIS test process, which loads rasterio's GDAL and torch
beside QGIS's own GDAL to write inputs, can crash after its tests have finished (in the garbage collector
or while QGIS shuts down) and, rarely, around the dock's cancel test. So the session runs in a child
process that records pytest's exit status as the session finishes; a crash after that point is reported
loudly and the recorded status stands, a crash before it fails the run.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


class RecordStatus:
    """Writes pytest's exit status to a file once the session has finished."""

    def __init__(self, path: str) -> None:
        self.path = path

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Record the status; what follows (shutdown) no longer decides the tests' result."""
        Path(self.path).write_text(str(int(exitstatus)), encoding="utf-8")


def child(status_file: str, arguments: list[str]) -> None:
    """Run the session, without automatic garbage collection, and exit without the final collection."""
    import gc

    gc.disable()
    code = pytest.main(
        ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "tests/plugin", *arguments],
        plugins=[RecordStatus(status_file)],
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))


def main() -> int:
    """Run the child session and decide the result from what it recorded."""
    with tempfile.TemporaryDirectory() as folder:
        status_file = str(Path(folder) / "status")
        done = subprocess.run([sys.executable, __file__, "--child", status_file, *sys.argv[1:]], check=False)
        recorded = Path(status_file).read_text(encoding="utf-8") if Path(status_file).exists() else ""
    if done.returncode < 0 and recorded:
        print(
            f"WARNING: the QGIS test process crashed (signal {-done.returncode}) after its tests had "
            f"finished with status {recorded}; see this script's docstring (known defect).",
            file=sys.stderr,
        )
        return int(recorded)
    return done.returncode


if importlib.util.find_spec("qgis") is None:
    reason = "PyQGIS is not importable from this Python; install QGIS (see `make setup`)."
    if os.environ.get("CI") or os.environ.get("GEOFUSE_WITHOUT_QGIS") != "1":
        sys.exit(f"plugin tests cannot run: {reason}")
    print(f"SKIPPED: plugin tests ({reason} GEOFUSE_WITHOUT_QGIS=1)", file=sys.stderr)
    sys.exit(0)

if len(sys.argv) > 2 and sys.argv[1] == "--child":
    child(sys.argv[2], sys.argv[3:])
sys.exit(main())
