"""GeoFuse's algorithms read layers only on the main thread, also when QGIS runs them as a background task.

QGIS calls ``prepareAlgorithm`` on the main thread and ``processAlgorithm`` on the task's thread. Opening
the input layers (or reading a mask's features) there while the main thread handled events crashed the QGIS
process now and then (the dock's runs, in CI). Each algorithm runs here as the dock runs it, through
``QgsProcessingAlgRunnerTask``, with every layer-reading ``parameterAs…`` call recorded with its thread; the
runtime cannot start, so each run ends at the worker, after all of its inputs were resolved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from finetune_inputs import TRAINING, Scene, memory_layer
from qgis.core import (
    QgsApplication,
    QgsFeature,
    QgsGeometry,
    QgsProcessingAlgorithm,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QCoreApplication, QThread
from segment_inputs import SegmentInputs

from geofuse.plugin.algorithms.evaluate import EvaluateAlgorithm
from geofuse.plugin.algorithms.finetune import FinetuneAlgorithm
from geofuse.plugin.algorithms.segment import SegmentAlgorithm
from geofuse.plugin.algorithms.train import TrainAlgorithm

pytestmark = pytest.mark.usefixtures("geofuse_provider", "qgis_new_project")

LAYER_READS = (
    "parameterAsRasterLayer",
    "parameterAsVectorLayer",
    "parameterAsLayer",
    "parameterAsLayerList",
    "parameterAsSource",
    "parameterAsCompatibleSourceLayerPathAndLayerName",
    "parameterAsExtent",
)


def recording(
    algorithm: type[QgsProcessingAlgorithm], calls: list[tuple[str, bool]]
) -> QgsProcessingAlgorithm:
    """An instance of ``algorithm`` (and of every copy Processing makes) that records each layer read as
    (method, on the main thread)."""

    def recorder(name: str) -> Callable[..., Any]:
        original = getattr(algorithm, name)

        def read(self: QgsProcessingAlgorithm, *args: Any) -> Any:
            calls.append((name, QThread.currentThread() == QCoreApplication.instance().thread()))
            return original(self, *args)

        return read

    recorded = type(
        f"Recorded{algorithm.__name__}", (algorithm,), {name: recorder(name) for name in LAYER_READS}
    )
    return recorded()


def run_as_task(algorithm: QgsProcessingAlgorithm, parameters: dict[str, Any]) -> list[str]:
    """Run as the dock does and return the errors the run reported."""
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    errors: list[str] = []

    class Feedback(QgsProcessingFeedback):
        def reportError(self, error: str, fatalError: bool = False) -> None:
            errors.append(error)

    feedback = Feedback()
    task = QgsProcessingAlgRunnerTask(algorithm, parameters, context, feedback)
    finished: list[bool] = []
    task.executed.connect(lambda ok, _results: finished.append(ok))
    QgsApplication.taskManager().addTask(task)
    deadline = time.monotonic() + 60
    while not finished:
        assert time.monotonic() < deadline, "the task did not finish"
        QgsApplication.processEvents()
        time.sleep(0.01)
    assert finished == [False]  # no runtime
    return errors


def polygons_over(extent_of: QgsRasterLayer) -> QgsVectorLayer:
    """A memory polygon layer in the project, over the middle of ``extent_of``."""
    layer = QgsVectorLayer(f"Polygon?crs={extent_of.crs().authid()}", "area", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromRect(extent_of.extent().buffered(-extent_of.extent().width() / 4)))
    assert layer.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayer(layer)
    return layer


def project_raster(path: Path) -> QgsRasterLayer:
    layer = QgsRasterLayer(str(path), path.stem, "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer


def assert_read_on_main_thread(calls: list[tuple[str, bool]], errors: list[str], no_runtime_at: Path) -> None:
    assert calls, "no layer was read: the recording does not see the algorithm's reads"
    assert [name for name, on_main in calls if not on_main] == []
    assert any(str(no_runtime_at) in error for error in errors), errors  # the run got as far as the worker


def test_segment_reads_its_layers_and_mask_on_the_main_thread(
    segment_inputs: SegmentInputs, no_runtime: None, tmp_path: Path
) -> None:
    calls: list[tuple[str, bool]] = []
    elevation = project_raster(segment_inputs.elevation)
    errors = run_as_task(
        recording(SegmentAlgorithm, calls),
        {
            "OPTICAL": str(segment_inputs.optical),
            "ELEVATION": elevation.id(),
            "MODEL": str(segment_inputs.model),
            "MASK": polygons_over(elevation).id(),
            "OUTPUT": str(tmp_path / "out.tif"),
        },
    )
    assert {"parameterAsRasterLayer", "parameterAsSource"} <= {name for name, _ in calls}
    assert_read_on_main_thread(calls, errors, tmp_path / "no_python_here")


def test_finetune_reads_its_layers_and_polygons_on_the_main_thread(
    scene: Scene, no_runtime: None, tmp_path: Path
) -> None:
    calls: list[tuple[str, bool]] = []
    errors = run_as_task(
        recording(FinetuneAlgorithm, calls),
        {
            "OPTICAL": str(scene.optical),
            "ELEVATION": project_raster(scene.elevation).id(),
            "POLYGONS": memory_layer(scene).id(),
            "CLASS_FIELD": "class",
            **TRAINING,
            "OUTPUT": str(tmp_path / "improved.pt"),
        },
    )
    assert {"parameterAsRasterLayer", "parameterAsSource"} <= {name for name, _ in calls}
    assert_read_on_main_thread(calls, errors, tmp_path / "no_python_here")


def test_evaluate_and_train_read_their_layers_on_the_main_thread(
    segment_inputs: SegmentInputs, no_runtime: None, tmp_path: Path
) -> None:
    labels = project_raster(segment_inputs.labels)
    calls: list[tuple[str, bool]] = []
    errors = run_as_task(
        recording(EvaluateAlgorithm, calls),
        {
            "PREDICTION": labels.id(),
            "TRUTH": str(segment_inputs.labels),
            "OUTPUT_HTML": str(tmp_path / "r.html"),
        },
    )
    assert_read_on_main_thread(calls, errors, tmp_path / "no_python_here")

    calls.clear()
    errors = run_as_task(
        recording(TrainAlgorithm, calls),
        {
            "OPTICAL": [str(segment_inputs.optical)],
            "ELEVATION": [str(segment_inputs.elevation)],
            "LABELS": [labels.id()],
            "STEPS": 1,
            "OUTPUT_FOLDER": str(tmp_path / "run"),
        },
    )
    assert "parameterAsLayerList" in {name for name, _ in calls}
    assert_read_on_main_thread(calls, errors, tmp_path / "no_python_here")
