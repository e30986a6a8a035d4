"""A graphical model (.model3) chaining ``geofuse:segment`` with a native QGIS algorithm runs as expected."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import processing
import pytest
from osgeo import gdal
from qgis.core import (
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterRasterLayer,
)
from segment_inputs import SegmentInputs, geofuse_provider, segment_inputs

__all__ = ["geofuse_provider", "segment_inputs"]
pytestmark = pytest.mark.usefixtures("geofuse_provider")


def build_model(model_file: Path) -> QgsProcessingModelAlgorithm:
    """optical, elevation → geofuse:segment → native:rasterlayeruniquevaluesreport (pixels per class)."""
    model = QgsProcessingModelAlgorithm("segment_and_count", "GeoFuse tests")
    for name in ("optical", "elevation"):
        model.addModelParameter(
            QgsProcessingParameterRasterLayer(name, name), QgsProcessingModelParameter(name)
        )

    segment = QgsProcessingModelChildAlgorithm("geofuse:segment")
    segment.setChildId("segment")
    segment.addParameterSources(
        "OPTICAL", [QgsProcessingModelChildParameterSource.fromModelParameter("optical")]
    )
    segment.addParameterSources(
        "ELEVATION", [QgsProcessingModelChildParameterSource.fromModelParameter("elevation")]
    )
    for name, value in (("MODEL", str(model_file)), ("DEVICE", "cpu"), ("TILE_SIZE", 64), ("OVERLAP", 16)):
        segment.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    landcover = QgsProcessingModelOutput("landcover")
    landcover.setChildId("segment")
    landcover.setChildOutputName("OUTPUT")
    segment.setModelOutputs({"landcover": landcover})

    count = QgsProcessingModelChildAlgorithm("native:rasterlayeruniquevaluesreport")
    count.setChildId("count")
    count.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("segment", "OUTPUT")]
    )
    count.addParameterSources("BAND", [QgsProcessingModelChildParameterSource.fromStaticValue(1)])
    counts = QgsProcessingModelOutput("counts")
    counts.setChildId("count")
    counts.setChildOutputName("OUTPUT_TABLE")
    count.setModelOutputs({"counts": counts})

    model.addChildAlgorithm(segment)
    model.addChildAlgorithm(count)
    return model


def test_model3_chaining_segment_and_a_native_algorithm(
    segment_inputs: SegmentInputs, tmp_path: Path
) -> None:
    path = tmp_path / "segment_and_count.model3"
    assert build_model(segment_inputs.model).toFile(str(path))
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(path))
    assert model.childAlgorithm("segment").algorithm() is not None  # geofuse:segment resolved from the file

    results = processing.run(
        model,
        {
            "optical": str(segment_inputs.optical),
            "elevation": str(segment_inputs.elevation),
            "segment:landcover": str(tmp_path / "landcover.tif"),
            "count:counts": str(tmp_path / "counts.csv"),
        },
    )

    classes = gdal.Open(results["segment:landcover"]).ReadAsArray()
    values, pixels = np.unique(classes, return_counts=True)
    with open(results["count:counts"], newline="", encoding="utf-8") as table:
        rows = list(csv.DictReader(table))
    assert {round(float(row["value"])): int(row["count"]) for row in rows} == dict(
        zip(values.tolist(), pixels.tolist(), strict=True)
    )
    assert sum(int(row["count"]) for row in rows) == classes.size
