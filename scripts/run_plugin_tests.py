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

sys.exit(pytest.main(["-p", "no:cacheprovider", "tests/plugin", *sys.argv[1:]]))
