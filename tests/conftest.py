"""Fixtures shared by the backend and plugin tests: the miniature ISPRS downloads (``isprs_miniature``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from isprs_miniature import Archives, potsdam_archives, vaihingen_archives, write_layout


@pytest.fixture(scope="session")
def isprs_archives() -> dict[str, Archives]:
    """Both miniature downloads, built once per session."""
    return {"vaihingen": vaihingen_archives(), "potsdam": potsdam_archives()}


@pytest.fixture
def isprs_layout(tmp_path: Path, isprs_archives: dict[str, Archives]) -> Callable[[str, str], Path]:
    """``isprs_layout(dataset, layout)`` → a fresh root holding that miniature in that layout."""

    def make(dataset: str, layout: str) -> Path:
        root = tmp_path / f"{dataset}-{layout}"
        if root.exists():
            shutil.rmtree(root)
        return write_layout(root, dataset, layout, isprs_archives[dataset])

    return make
