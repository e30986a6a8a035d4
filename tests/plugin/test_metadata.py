"""metadata.txt is complete for the official plugin repository, read by QGIS's own parser."""

import configparser
from pathlib import Path

import qgis.utils
from qgis.core import QgsApplication

REQUIRED = (
    "name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
    "repository", "tracker", "homepage", "tags", "category", "icon", "experimental", "license",
)  # fmt: skip


def test_metadata_has_every_field_the_plugin_repository_asks_for(repo_root: Path) -> None:
    parser = configparser.ConfigParser()
    parser.read(repo_root / "metadata.txt", encoding="utf-8")
    general = parser["general"]
    missing = [key for key in REQUIRED if not general.get(key, "").strip()]
    assert not missing
    assert general["name"] == "GeoFuse"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["category"] == "Raster"
    assert (repo_root / general["icon"]).is_file()


def test_qgis_reads_the_metadata_and_processing_is_up(repo_root: Path) -> None:
    parsed = qgis.utils.findPlugins(str(repo_root.parent))
    names = {meta.get("general", "name") for _, meta in parsed}
    assert "GeoFuse" in names
    assert QgsApplication.processingRegistry().algorithmById("native:buffer") is not None
