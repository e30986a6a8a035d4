"""``geofuse:evaluate`` and ``geofuse:train`` through Processing, each running its work in the worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import processing
import pytest
import rasterio
from osgeo import ogr
from qgis.core import QgsProcessingException
from segment_inputs import SegmentInputs

from geofuse.backend.checkpoint import load_checkpoint

pytestmark = pytest.mark.usefixtures("geofuse_provider")


def test_evaluate_a_perfect_classification(segment_inputs: SegmentInputs, tmp_path: Path) -> None:
    report, table = tmp_path / "report.html", tmp_path / "scores.gpkg"

    results = processing.run(
        "geofuse:evaluate",
        {"PREDICTION": str(segment_inputs.labels), "TRUTH": str(segment_inputs.labels),
         "OUTPUT_HTML": str(report), "OUTPUT_TABLE": str(table)},
    )  # fmt: skip

    assert results["OVERALL_ACCURACY"] == 1.0
    assert results["MEAN_F1"] == 1.0 and results["MEAN_IOU"] == 1.0
    page = report.read_text(encoding="utf-8")
    assert "Confusion matrix" in page and "low vegetation" in page and "100.00 %" in page
    source = ogr.Open(results["OUTPUT_TABLE"].split("|")[0])
    rows = {row.GetField("class"): row.items() for row in source.GetLayer(0)}
    assert len(rows) == 6
    present = [row for row in rows.values() if row["support"] > 0]
    assert present and all(row["f1"] == 1.0 and row["iou"] == 1.0 for row in present)
    assert all(row["f1"] is None for row in rows.values() if row["support"] == 0)


def test_train_from_layer_lists_writes_a_checkpoint(segment_inputs: SegmentInputs, tmp_path: Path) -> None:
    results = processing.run(
        "geofuse:train",
        {"OPTICAL": [str(segment_inputs.optical)], "ELEVATION": [str(segment_inputs.elevation)],
         "LABELS": [str(segment_inputs.labels)], "STEPS": 2, "BATCH_SIZE": 1, "CROP_SIZE": 64,
         "DEVICE": "cpu", "OUTPUT_FOLDER": str(tmp_path / "run")},
    )  # fmt: skip

    assert Path(results["MODEL"]).parent == tmp_path / "run"
    card = load_checkpoint(results["MODEL"]).card
    assert card.model.variant == "a2" and card.model.width == "small"


def test_train_refuses_lists_of_different_lengths(segment_inputs: SegmentInputs, tmp_path: Path) -> None:
    with pytest.raises(QgsProcessingException, match="as many optical as elevation and label layers"):
        processing.run(
            "geofuse:train",
            {"OPTICAL": [str(segment_inputs.optical)] * 2, "ELEVATION": [str(segment_inputs.elevation)],
             "LABELS": [str(segment_inputs.labels)], "OUTPUT_FOLDER": str(tmp_path / "run")},
        )  # fmt: skip


@pytest.mark.usefixtures("runtime")
def test_train_on_an_isprs_download(isprs_layout: Callable[[str, str], Path], tmp_path: Path) -> None:
    root = isprs_layout("potsdam", "zips")  # Potsdam.zip of inner zips, read in place
    results = processing.run(
        "geofuse:train",
        {"DATASET": "potsdam", "ISPRS_FOLDER": str(root), "SPLIT": "fusion-papers", "POTSDAM_OPTICAL": "IRRG",
         "POTSDAM_ELEVATION": "ndsm", "VALIDATION_TILES": "2_12", "CHECK_DATA": False, "STEPS": 2,
         "BATCH_SIZE": 2, "CROP_SIZE": 32, "DEVICE": "cpu", "OUTPUT_FOLDER": str(tmp_path / "run")},
    )  # fmt: skip

    card = load_checkpoint(results["MODEL"]).card
    data = card.training["data"]
    assert data["kind"] == "potsdam" and data["split"] == "fusion-papers" and data["val_tiles"] == ["2_12"]
    assert data["optical_source"] == "3_Ortho_IRRG" and data["elevation"] == "ndsm"
    assert card.optical_bands == ("IR", "R", "G") and card.gsd_m == pytest.approx(0.05)


@pytest.mark.usefixtures("runtime")
def test_train_on_isprs_reports_bad_label_colours(
    isprs_layout: Callable[[str, str], Path], tmp_path: Path
) -> None:
    root = isprs_layout("vaihingen", "unzipped")
    with rasterio.open(root / "gts_for_participants" / "top_mosaic_09cm_area1.tif", "r+") as dst:
        data = dst.read()
        data[:, 0, :4] = [[10], [20], [30]]
        dst.write(data)
    with pytest.raises(QgsProcessingException, match=r"vaihingen_area1.*\(10, 20, 30\) × 4 px"):
        processing.run(
            "geofuse:train",
            {"DATASET": "vaihingen", "ISPRS_FOLDER": str(root), "STEPS": 2, "CROP_SIZE": 32, "DEVICE": "cpu",
             "OUTPUT_FOLDER": str(tmp_path / "run")},
        )  # fmt: skip
    assert not (tmp_path / "run" / "model.pt").exists()
    with pytest.raises(QgsProcessingException, match="ISPRS download"):
        processing.run("geofuse:train", {"DATASET": "vaihingen", "OUTPUT_FOLDER": str(tmp_path / "run")})
