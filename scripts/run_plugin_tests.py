"""Run the plugin tests in a real QgsApplication (pytest-qgis), or say loudly why they cannot run here."""

import gc
import importlib.util
import os
import sys

import pytest

if importlib.util.find_spec("qgis") is None:
    reason = "PyQGIS is not importable from this Python; install QGIS (see `make setup`)."
    if os.environ.get("CI") or os.environ.get("GEOFUSE_WITHOUT_QGIS") != "1":
        sys.exit(f"plugin tests cannot run: {reason}")
    print(f"SKIPPED: plugin tests ({reason} GEOFUSE_WITHOUT_QGIS=1)", file=sys.stderr)
    sys.exit(0)

# Known defect, not fixed yet (also on 0.2.0): around the dock's cancel test (a run on QGIS's task manager)
# the process can crash, in the garbage collector at the end of the session (seen in two CI runs) or, more
# rarely, while the main thread processes events. Until it is found, the plugin session runs without
# automatic collections and ends without the interpreter's final one; the plugin tests use no hypothesis,
# whose summary hook imported itself at the crash.
gc.disable()
status = pytest.main(["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "tests/plugin", *sys.argv[1:]])
sys.stdout.flush()
sys.stderr.flush()
os._exit(int(status))
