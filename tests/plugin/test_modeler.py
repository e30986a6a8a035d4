"""Graphical models (.model3) run as expected: ``geofuse:segment`` chained with a native QGIS algorithm, and
``geofuse:finetune`` whose improved model feeds ``geofuse:segment``."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import processing
import pytest
from finetune_inputs import TRAINING, Scene, memory_layer
from osgeo import gdal
from qgis.core import (
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterRasterLayer,
)
from segment_inputs import SegmentInputs

from geofuse.plugin.dock.card import read_card

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


def improve_then_segment() -> QgsProcessingModelAlgorithm:
    """optical, elevation, polygons → geofuse:finetune → its model → geofuse:segment of the same optical."""
    model = QgsProcessingModelAlgorithm("improve_and_segment", "GeoFuse tests")
    for parameter in (
        QgsProcessingParameterRasterLayer("optical", "optical"),
        QgsProcessingParameterRasterLayer("elevation", "elevation"),
        QgsProcessingParameterFeatureSource("polygons", "polygons"),
    ):
        model.addModelParameter(parameter, QgsProcessingModelParameter(parameter.name()))
    improve = QgsProcessingModelChildAlgorithm("geofuse:finetune")
    improve.setChildId("improve")
    segment = QgsProcessingModelChildAlgorithm("geofuse:segment")
    segment.setChildId("segment")
    for child, name, source in (
        (improve, "OPTICAL", "optical"), (improve, "ELEVATION", "elevation"),
        (improve, "POLYGONS", "polygons"), (segment, "OPTICAL", "optical"),
        (segment, "ELEVATION", "elevation"),
    ):  # fmt: skip
        child.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromModelParameter(source)])
    for name, value in {**TRAINING, "CLASS_FIELD": "class"}.items():
        improve.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    segment.addParameterSources(
        "MODEL", [QgsProcessingModelChildParameterSource.fromChildOutput("improve", "OUTPUT")]
    )
    for name, value in (("DEVICE", "cpu"), ("TILE_SIZE", 64), ("OVERLAP", 16)):
        segment.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    for child, output_name, child_output in (
        (improve, "improved", "OUTPUT"),
        (segment, "landcover", "OUTPUT"),
    ):
        output = QgsProcessingModelOutput(output_name)
        output.setChildId(child.childId())
        output.setChildOutputName(child_output)
        child.setModelOutputs({output_name: output})
    model.addChildAlgorithm(improve)
    model.addChildAlgorithm(segment)
    return model


def test_model3_improving_the_model_then_segmenting_with_it(
    scene: Scene, runtime: None, tmp_path: Path
) -> None:
    path = tmp_path / "improve_and_segment.model3"
    assert improve_then_segment().toFile(str(path))
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(path))

    results = processing.run(
        model,
        {
            "optical": str(scene.optical),
            "elevation": str(scene.elevation),
            "polygons": memory_layer(scene).id(),
            "improve:improved": str(tmp_path / "improved.pt"),
            "segment:landcover": str(tmp_path / "landcover.tif"),
        },
    )

    assert [entry.name for entry in read_card(results["improve:improved"]).classes][-1] == "pool"
    landcover = gdal.Open(results["segment:landcover"])
    assert landcover.GetRasterBand(1).GetMetadataItem("CLASS_6") == "pool"  # segmented with the new model
    classes = landcover.ReadAsArray()
    optical = gdal.Open(str(scene.optical))
    assert classes.shape == (optical.RasterYSize, optical.RasterXSize)
    assert set(np.unique(classes)) <= set(range(7))  # 6 classes of the base model and pool
