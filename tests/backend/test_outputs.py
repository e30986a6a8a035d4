"""``backend/outputs.py``: a segmentation's files, torch- and GDAL-free so the QGIS side cleans up with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geofuse.backend.classes import ISPRS_CLASSES
from geofuse.backend.errors import SegmentationError
from geofuse.backend.locking import lock_path
from geofuse.backend.outputs import SegmentationOutputs, leftover_temporaries, segmentation_finals


def test_the_qgis_side_can_import_it_without_torch_or_gdal() -> None:
    probe = (
        "import sys, geofuse.backend.outputs; print([m for m in ('torch', 'rasterio') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_run_places_its_files_and_leaves_no_temporary(tmp_path: Path) -> None:
    output, confidence = tmp_path / "classes.tif", tmp_path / "confidence.tif"
    with SegmentationOutputs(output, confidence, [tmp_path / "optical.tif"], overwrite=False) as outputs:
        for temporary in (outputs.temporary_output, outputs.temporary_confidence):
            assert temporary is not None and temporary.name.startswith(".")
            temporary.write_bytes(b"raster")
        outputs.created()
        outputs.place(ISPRS_CLASSES)
    assert files(tmp_path) == ["classes.qml", "classes.tif", "classes.tif.aux.xml", "confidence.tif"]
    assert "<Category>car</Category>" in (tmp_path / "classes.tif.aux.xml").read_text(encoding="utf-8")


def test_a_failed_run_removes_exactly_its_own_files(tmp_path: Path) -> None:
    output = tmp_path / "classes.tif"
    other = tmp_path / ".classes.beside.tmp.tif"  # looks like a temporary of this output, is not one
    other.write_bytes(b"keep")
    with pytest.raises(RuntimeError), SegmentationOutputs(output, None, [], overwrite=False) as outputs:
        outputs.temporary_output.write_bytes(b"half")
        outputs.created()
        raise RuntimeError("the network failed")
    assert files(tmp_path) == [other.name]


@pytest.mark.parametrize(
    ("output", "confidence", "message"),
    [
        ("classes.png", None, "must end in .tif or .tiff"),
        ("optical.tif", None, "is an input"),
        ("classes.tif", "classes.tif", "written twice"),
    ],
)
def test_bad_output_names_are_refused_before_anything_is_written(
    tmp_path: Path, output: str, confidence: str | None, message: str
) -> None:
    with pytest.raises(SegmentationError, match=message):
        SegmentationOutputs(
            tmp_path / output,
            tmp_path / confidence if confidence else None,
            [tmp_path / "optical.tif"],
            overwrite=False,
        )
    assert files(tmp_path) == []


def test_leftover_temporaries_removes_and_names_what_the_journal_lists(tmp_path: Path) -> None:
    output = tmp_path / "classes.tif"
    left = tmp_path / ".classes.0123abcd.tmp.tif"
    left.write_bytes(b"half")
    stranger = tmp_path / ".classes.89abcdef.tmp.tif"
    stranger.write_bytes(b"someone else's")
    finals = [str(path) for path in segmentation_finals(output)]
    journal = {"finals": [[final, None] for final in finals], "temporaries": [[str(left), None]]}
    lock_path(output).write_text(json.dumps(journal), encoding="utf-8")  # as a killed run leaves it

    assert leftover_temporaries(output) == [left]
    assert files(tmp_path) == [stranger.name]
    assert leftover_temporaries(output) == []
