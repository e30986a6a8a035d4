"""``geofuse:segment``'s parameters as the toolbox, batch, the modeler and ``qgis_process`` give them: user
errors the QGIS side can see are refused before the runtime starts, in one line; an empty MODEL is the bundled
model; DEVICE and OPTICAL_BANDS take what ``qgis_process help`` lists."""

from __future__ import annotations

from pathlib import Path

import processing
import pytest
from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
)
from segment_inputs import SegmentInputs

from geofuse.backend.paths import DEMO_MODEL

pytestmark = pytest.mark.usefixtures("geofuse_provider")


@pytest.fixture
def watched_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runtime that only leaves a mark when it is started: a pre-check must never start it."""
    mark = tmp_path / "runtime-started"
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\ntouch {mark}\nexit 1\n", encoding="utf-8")
    python.chmod(0o755)
    monkeypatch.setenv("GEOFUSE_PYTHON", str(python))
    return mark


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("same layer", "are the same layer"),
        ("one-band optical", "has 1 band(s); the model needs 3 optical bands (R/G/B)"),
        ("corrupt model", "The model cannot be used:"),
        ("two bands listed", "2 optical band(s) were given; the model needs 3"),
        ("missing band", "has no band 7"),
        ("overlap of a whole tile", "The overlap (64) must be less than the tile size (64)."),
        ("overlap of the model's whole tile", "The overlap (512) must be less than the tile size (512)."),
    ],
)
def test_user_errors_are_one_line_before_the_runtime_starts(
    case: str, message: str, segment_inputs: SegmentInputs, watched_runtime: Path, tmp_path: Path
) -> None:
    parameters = {
        "OPTICAL": str(segment_inputs.optical),
        "ELEVATION": str(segment_inputs.elevation),
        "MODEL": str(segment_inputs.model),
        "OUTPUT": str(tmp_path / "out.tif"),
    }
    if case == "same layer":
        parameters["ELEVATION"] = parameters["OPTICAL"]
    elif case == "one-band optical":
        parameters["OPTICAL"] = str(segment_inputs.elevation)
        parameters["ELEVATION"] = str(segment_inputs.optical)
    elif case == "corrupt model":
        (tmp_path / "corrupt.pt").write_bytes(b"PK\x03\x04 truncated")
        parameters["MODEL"] = str(tmp_path / "corrupt.pt")
    elif case == "two bands listed":
        parameters["OPTICAL_BANDS"] = "1,2"
    elif case == "missing band":
        parameters["OPTICAL_BANDS"] = "1,2,7"
    elif case == "overlap of a whole tile":
        parameters.update(TILE_SIZE=64, OVERLAP=64)
    else:
        parameters.update(TILE_SIZE=0, OVERLAP=512)  # 0: the model's default tile, 512 for its card

    with pytest.raises(QgsProcessingException) as raised:
        processing.run("geofuse:segment", parameters)

    assert message in str(raised.value)
    assert "Traceback" not in str(raised.value)
    assert not watched_runtime.exists()
    assert not (tmp_path / "out.tif").exists()


def segment_request(parameters: dict, segment_inputs: SegmentInputs, tmp_path: Path) -> dict:
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("geofuse:segment")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    full = {
        "OPTICAL": str(segment_inputs.optical),
        "ELEVATION": str(segment_inputs.elevation),
        "OUTPUT": str(tmp_path / "out.tif"),
        **parameters,
    }
    ok, message = algorithm.checkParameterValues(full, context)
    assert ok, message
    feedback = QgsProcessingFeedback()
    assert algorithm.prepare(full, context, feedback)
    return algorithm.request(full, context, feedback)


def test_an_empty_model_is_the_bundled_model_and_nothing_absolute_is_prefilled(
    segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    algorithm = QgsApplication.processingRegistry().algorithmById("geofuse:segment")
    assert algorithm.parameterDefinition("MODEL").defaultValue() in (None, "")

    assert segment_request({"MODEL": ""}, segment_inputs, tmp_path)["model"] == str(DEMO_MODEL)
    assert segment_request({}, segment_inputs, tmp_path)["model"] == str(DEMO_MODEL)


def test_the_overlap_may_pass_half_the_tile_as_the_engine_allows(
    segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    request = segment_request({"TILE_SIZE": 64, "OVERLAP": 40}, segment_inputs, tmp_path)

    assert (request["tile"], request["overlap"]) == (64, 40)


@pytest.mark.parametrize(
    ("value", "device"), [(1, "cpu"), ("1", "cpu"), ("cpu", "cpu"), ("0", "auto"), ("cuda:1", "cuda:1")]
)
def test_device_takes_the_numbers_and_names_qgis_process_help_lists(
    value: object, device: str, segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    definition = (
        QgsApplication.processingRegistry().algorithmById("geofuse:segment").parameterDefinition("DEVICE")
    )
    assert definition.checkValueIsAcceptable(value)
    assert definition.clone().checkValueIsAcceptable(value)
    assert not definition.checkValueIsAcceptable("gpu")

    assert segment_request({"DEVICE": value}, segment_inputs, tmp_path)["device"] == device


@pytest.mark.parametrize(
    ("value", "bands"), [("3,2,1", [3, 2, 1]), ("3, 2, 1", [3, 2, 1]), ([2, 3, 1], [2, 3, 1])]
)
def test_optical_bands_take_a_comma_list(
    value: object, bands: list[int], segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    assert segment_request({"OPTICAL_BANDS": value}, segment_inputs, tmp_path)["optical_bands"] == bands
