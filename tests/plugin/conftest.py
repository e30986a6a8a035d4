"""Plugin tests run inside pytest-qgis's QgsApplication with Processing initialised.

The fixtures every plugin test module may ask for live here (pytest finds them by name, nothing is imported or
re-exported); the plain helpers they use (inputs, reference outputs, stand-in runtimes) live in
``segment_inputs.py``, ``finetune_inputs.py`` and ``stand_ins.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from finetune_inputs import Scene
from qgis.core import QgsApplication, QgsProcessingProvider
from qgis.gui import QgisInterface
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from segment_inputs import SegmentInputs, build_inputs

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, scope="session")
def _processing(qgis_processing: None) -> None:
    """Every plugin test runs with the Processing framework initialised, as in QGIS."""


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The plugin folder (the repository root)."""
    return REPO_ROOT


@pytest.fixture
def geofuse_provider() -> Iterator[QgsProcessingProvider]:
    """The GeoFuse provider registered with Processing for one test, as the plugin's ``initProcessing()``
    does (the fixture holds the Python reference that keeps it alive)."""
    from geofuse.plugin.provider import GeoFuseProvider

    registry = QgsApplication.processingRegistry()
    provider = GeoFuseProvider()
    assert registry.addProvider(provider)
    yield provider
    registry.removeProvider(provider)


@pytest.fixture
def segment_inputs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> SegmentInputs:
    """The shared scene and model, with ``GEOFUSE_PYTHON`` pointing at the runtime for the test's duration."""
    inputs = build_inputs(tmp_path_factory.getbasetemp() / "geofuse_inputs")
    monkeypatch.setenv("GEOFUSE_PYTHON", str(inputs.python))
    return inputs


@pytest.fixture(scope="session")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    """The fine-tuning scene, written once per session."""
    return Scene(tmp_path_factory.getbasetemp() / "finetune_scene")


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs in this test's Python (the venv, with torch)."""
    monkeypatch.setenv("GEOFUSE_PYTHON", sys.executable)


@pytest.fixture
def no_runtime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A runtime that cannot start: an error about it would mean the worker was reached."""
    monkeypatch.setenv("GEOFUSE_PYTHON", str(tmp_path / "no_python_here"))


@pytest.fixture
def dock(qgis_iface: QgisInterface) -> Iterator:
    """A GeoFuse dock on the test's QGIS interface, shut down and deleted afterwards (as on plugin unload)."""
    from geofuse.plugin.dock.widget import GeoFuseDock

    widget = GeoFuseDock(qgis_iface)
    yield widget
    widget.shutdown()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # what QGIS's event loop does
