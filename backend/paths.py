"""Where GeoFuse's own files are, for every part of it (CLI, worker, QGIS plugin); no torch, no QGIS.

The repository root is at once the ``geofuse`` package and the QGIS plugin folder, so the plugin, the worker
it starts and the command line all find the bundled files from here.
"""

from __future__ import annotations

from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent.parent
"""The repository root: the ``geofuse`` package and the QGIS plugin folder."""
DEMO_MODEL = PLUGIN_DIR / "resources" / "models" / "geofuse_demo_small.pt"
"""The bundled demo model, used when no model is given."""
