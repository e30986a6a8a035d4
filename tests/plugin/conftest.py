"""Plugin tests run inside pytest-qgis's QgsApplication with Processing initialised."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, scope="session")
def _processing(qgis_processing: None) -> None:
    """Every plugin test runs with the Processing framework initialised, as in QGIS."""


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The plugin folder (the repository root)."""
    return REPO_ROOT
