"""Run the plugin tests in a real QgsApplication (pytest-qgis), or say loudly why they cannot run here."""

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

# The test process (not the plugin, whose PyTorch runs in a worker) loads QGIS's GDAL beside rasterio's and
# torch, to write inputs and read results. A double free inside the garbage collector was seen once at the
# end of a passing session, as hypothesis's plugin imported itself for the summary: the plugin tests use no
# hypothesis, and the process ends without the interpreter's final collection once the result is known.
status = pytest.main(["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "tests/plugin", *sys.argv[1:]])
sys.stdout.flush()
sys.stderr.flush()
os._exit(int(status))
