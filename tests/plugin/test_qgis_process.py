"""``qgis_process`` (no GUI) loads the provider through ``initProcessing()`` and runs ``geofuse:segment``.

Debian 12's ``/usr/bin/qgis_process`` wrapper passes ``--noversioncheck``, which the 3.22 program rejects
("Command --noversioncheck not known!"), so the program ``qgis_process.bin`` is called directly there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from osgeo import gdal
from segment_inputs import SegmentInputs

QGIS_PROCESS = shutil.which("qgis_process.bin") or shutil.which("qgis_process")


@pytest.fixture
def qgis_process(tmp_path: Path, repo_root: Path, segment_inputs: SegmentInputs):
    """Run ``qgis_process`` with the plugin found via QGIS_PLUGINPATH and enabled, in a throw-away HOME."""
    if QGIS_PROCESS is None:
        pytest.fail("qgis_process not found: `make setup` installs Debian's qgis package")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "geofuse").symlink_to(repo_root, target_is_directory=True)
    # pytest-qgis points QGIS_CUSTOM_CONFIG_PATH at its own profile; this run gets a fresh one.
    dropped = {"PYTHONPATH", "PYTHONHOME", "QGIS_CUSTOM_CONFIG_PATH"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(
        HOME=str(tmp_path / "home"),
        QGIS_PLUGINPATH=str(plugins),
        QT_QPA_PLATFORM="offscreen",
        GEOFUSE_PYTHON=str(segment_inputs.python),
    )

    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [QGIS_PROCESS, *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )

    enabled = run("plugins", "enable", "geofuse")
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    return run


def test_qgis_process_runs_segment(qgis_process, segment_inputs: SegmentInputs, tmp_path: Path) -> None:
    """With DEVICE and OPTICAL_BANDS written as ``qgis_process help`` lists them (a number, a comma list)."""
    output = tmp_path / "landcover.tif"

    done = qgis_process(
        "run", "geofuse:segment", "--json", "--",
        f"OPTICAL={segment_inputs.optical}", f"ELEVATION={segment_inputs.elevation}",
        f"MODEL={segment_inputs.model}", "DEVICE=1", "OPTICAL_BANDS=1,2,3", "TILE_SIZE=64", "OVERLAP=16",
        f"OUTPUT={output}",
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout[done.stdout.index("{") :])["results"]
    assert results["OUTPUT"] == str(output)
    assert results["TILES"] == 4
    written, optical = gdal.Open(str(output)), gdal.Open(str(segment_inputs.optical))
    assert (written.RasterXSize, written.RasterYSize) == (optical.RasterXSize, optical.RasterYSize)
    assert written.GetGeoTransform() == optical.GetGeoTransform()


def test_qgis_process_reports_the_runtime(qgis_process) -> None:
    done = qgis_process("run", "geofuse:diagnostics", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout[done.stdout.index("{") :])["results"]
    assert results["RUNTIME"] == sys.executable
    assert "CUDA available" in results["REPORT"] and "torch:" in results["REPORT"]


def test_qgis_process_runs_finetune_up_to_its_own_checks(
    qgis_process, segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    """Registered, parameters parsed and checked in ``qgis_process`` (lines are refused before any worker)."""
    lines = tmp_path / "lines.geojson"
    lines.write_text(
        json.dumps({"type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {"class": "building"},
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        }]}),
        encoding="utf-8",
    )  # fmt: skip

    done = qgis_process(
        "run", "geofuse:finetune", "--",
        f"OPTICAL={segment_inputs.optical}", f"ELEVATION={segment_inputs.elevation}", f"POLYGONS={lines}",
        "CLASS_FIELD=class", f"OUTPUT={tmp_path / 'improved.pt'}",
    )  # fmt: skip

    assert done.returncode != 0
    assert (
        "The training polygons must be polygons; lines holds LineString geometries."
        in done.stdout + done.stderr
    )
    assert not (tmp_path / "improved.pt").exists()
