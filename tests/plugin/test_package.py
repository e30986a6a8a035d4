"""The plugin ZIP (`make package`): the repository's rules hold, and the unpacked ZIP installed in a fresh
QGIS profile loads, segments a scene and unloads cleanly in the real QGIS desktop."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProcessingProvider
from qgis_desktop import run_in_qgis_desktop
from segment_inputs import SegmentInputs

REPO = Path(__file__).resolve().parents[2]


def load_package_script() -> ModuleType:
    """scripts/package.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("geofuse_package_script", REPO / "scripts" / "package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


package = load_package_script()


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make package`'s ZIP of HEAD, built once for this module by the script itself."""
    output = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "package.py"), "--output-dir", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (built,) = output.glob("geofuse-*.zip")
    return built


def test_zip_follows_the_plugin_repository_rules(plugin_zip: Path) -> None:
    version = package.read_metadata((REPO / "metadata.txt").read_text(encoding="utf-8"))["version"]
    assert plugin_zip.name == f"geofuse-{version}.zip"
    with zipfile.ZipFile(plugin_zip) as archive:
        names = archive.namelist()
        assert package.archive_problems(archive, plugin_zip.stat().st_size) == []
    assert plugin_zip.stat().st_size <= 25 * 2**20
    assert {name.split("/")[0] for name in names} == {"geofuse"}
    for required in ("LICENSE", "README.md", "metadata.txt", "i18n/geofuse_de.qm", "i18n/geofuse_fr.qm"):
        assert f"geofuse/{required}" in names
    assert "geofuse/resources/models/geofuse_demo_small.pt" in names
    assert not [n for n in names if re.search(r"(^|/)(tests|scripts|bench|__pycache__)/|\.pyc$|\.ts$", n)]
    assert not [n for n in names if n.endswith(("Makefile", "pyproject.toml", ".gitattributes"))]


def test_the_checks_refuse_a_zip_that_breaks_the_rules() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("geofuse/metadata.txt", "[general]\nname=GeoFuse\nversion=0.1\n")
        archive.writestr("geofuse/plugin/__pycache__/x.cpython-311.pyc", b"")
        archive.writestr("geofuse/tests/test_x.py", "")
        archive.writestr("geofuse/torch/__init__.py", "")
        archive.writestr("other/README.md", "")
    with zipfile.ZipFile(buffer) as archive:
        problems = "\n".join(package.archive_problems(archive, 26 * 2**20))
    for expected in (
        "more than 25 MB",
        "exactly one top-level folder",
        "LICENSE is missing",
        "geofuse_de.qm is missing",
        "compiled or binary code",
        "development file: geofuse/tests/",
        "PyTorch must not be bundled",
        "'email' is missing",
        "hasProcessingProvider",
        "PyTorch runtime is set up on first use",
        "MAJOR.MINOR.PATCH",
    ):
        assert expected in problems


def test_metadata_changelog_is_generated_from_changelog_md(tmp_path: Path) -> None:
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    metadata = (REPO / "metadata.txt").read_text(encoding="utf-8")
    assert package.read_metadata(metadata)["changelog"].strip() == package.metadata_changelog(changelog)
    assert package.metadata_problems(metadata, changelog) == []
    stale = tmp_path / "metadata.txt"
    stale.write_text(metadata.replace("- German and French translations", "- old"), encoding="utf-8")
    assert package.metadata_problems(stale.read_text(encoding="utf-8"), changelog)
    assert package.sync_changelog(stale, REPO / "CHANGELOG.md")
    assert stale.read_text(encoding="utf-8") == metadata


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the Markdown headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_algorithm_help_url_points_at_a_readme_section(
    geofuse_provider: QgsProcessingProvider,
) -> None:
    anchors = github_anchors((REPO / "README.md").read_text(encoding="utf-8"))
    for algorithm in geofuse_provider.algorithms():
        url = algorithm.helpUrl()
        assert url.startswith("https://github.com/geofuse/geofuse#"), url
        assert url.split("#", 1)[1] in anchors, url
        assert len(algorithm.shortHelpString()) > 80


def test_readme_links_and_pictures_resolve() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    anchors = github_anchors(readme)
    assert "segment-your-first-scene" in anchors  # the dock's "?" button opens it
    assert readme.split("```bash", 1)[1].split("\n")[1].startswith("make demo")
    for anchor in re.findall(r"\]\(#([^)]+)\)", readme):
        assert anchor in anchors, anchor
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)|<img src=\"([^\"]+)\"", readme)
    pictures = [markdown or html for markdown, html in pictures]
    for expected in ("demo_preview.png", "dock_result.png", "map_result.png"):
        assert f"docs/images/{expected}" in pictures
    for picture in pictures:
        assert (REPO / picture).is_file(), picture


INSTALLED_PLUGIN_SCRIPT = r"""
import json, os, sys, traceback
import qgis.utils
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer

PARAMETERS = json.loads(os.environ["GEOFUSE_TEST_PARAMETERS"])


def check():
    report = {}
    try:
        registry = QgsApplication.processingRegistry()
        report["home_plugin_path"] = qgis.utils.home_plugin_path
        qgis.utils.updateAvailablePlugins()  # what QGIS does at start-up; --noplugins skips it
        report["available"] = "geofuse" in qgis.utils.available_plugins
        report["loaded"] = qgis.utils.loadPlugin("geofuse")
        report["started"] = qgis.utils.startPlugin("geofuse")
        report["package_file"] = sys.modules["geofuse"].__file__
        algorithm = registry.algorithmById("geofuse:segment")
        report["default_model"] = algorithm.parameterDefinition("MODEL").defaultValue()
        from processing.core.Processing import Processing  # --noplugins leaves Processing uninitialised
        Processing.initialize()
        import processing
        result = processing.run("geofuse:segment", PARAMETERS)
        report["output"] = result["OUTPUT"]
        report["unloaded"] = qgis.utils.unloadPlugin("geofuse")
        report["plugin_left"] = "geofuse" in qgis.utils.plugins
        report["active_left"] = "geofuse" in qgis.utils.active_plugins
        report["provider_left"] = registry.providerById("geofuse") is not None
    except Exception:
        report["error"] = traceback.format_exc()
    with open(os.environ["GEOFUSE_TEST_REPORT"], "w") as f:
        json.dump(report, f)
    QgsApplication.instance().quit()


timer = QTimer(QgsApplication.instance())  # parented, so it outlives this script's namespace
timer.setSingleShot(True)
timer.timeout.connect(check)
timer.start(0)
"""


def test_unpacked_zip_in_a_fresh_profile_segments_and_unloads(
    plugin_zip: Path, segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    root = tmp_path / "qgis"
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as archive:
        archive.extractall(plugins)  # what the Plugin Manager's "Install from ZIP" does
    output = tmp_path / "classes.tif"
    parameters = {
        "OPTICAL": str(segment_inputs.optical),
        "ELEVATION": str(segment_inputs.elevation),
        "OUTPUT": str(output),
    }  # no MODEL: the demo model inside the ZIP
    env = {"GEOFUSE_PYTHON": str(segment_inputs.python), "GEOFUSE_TEST_PARAMETERS": json.dumps(parameters)}
    report = run_in_qgis_desktop(INSTALLED_PLUGIN_SCRIPT, tmp_path, profiles=root, env=env, timeout=300)

    assert "error" not in report, report.get("error")
    installed = plugins / "geofuse"
    assert Path(report["home_plugin_path"]) == plugins
    assert report["available"] and report["loaded"] and report["started"]
    assert Path(report["package_file"]) == installed / "__init__.py"
    assert report["default_model"] in (None, "")  # empty is the bundled model: no machine's path in models
    assert Path(report["output"]) == output
    with rasterio.open(output) as classified, rasterio.open(segment_inputs.optical) as optical:
        assert (classified.width, classified.height) == (optical.width, optical.height)
        values = np.unique(classified.read(1))
    assert values.size > 1 and values.max() < 6
    assert report["unloaded"]
    assert not report["plugin_left"] and not report["active_left"] and not report["provider_left"]
