"""``geofuse:finetune`` through Processing: a memory polygon layer in another CRS gives a model with the new
class and its lineage, a GeoPackage layer is read in place and a selection exported, a cancel leaves nothing,
and each bad input is one clear error raised before any worker starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fiona
import numpy as np
import processing
import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsGeometry,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingFeedback,
    QgsProject,
    QgsRectangle,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from segment_inputs import geofuse_provider

from geofuse.backend.checkpoint import load_checkpoint
from geofuse.backend.data.synthetic import generate_scene, write_scene
from geofuse.backend.finetune import weights_sha256
from geofuse.plugin.algorithms.common import DEMO_MODEL

__all__ = ["geofuse_provider"]
pytestmark = pytest.mark.usefixtures("geofuse_provider", "qgis_new_project")
SIZE = 128
TRAINING = {"STEPS": 2, "MINUTES": 0, "BATCH_SIZE": 1, "CROP_SIZE": 64, "DEVICE": "cpu"}
"""Two steps on one 64-pixel crop: seconds of training, so a run costs little more than the worker's start."""
CLASSES = {"building": 1, "Tree": 3, "pool": 2}
"""Polygon class values and the scene class they are drawn inside; "Tree" is the model's "tree" (case), "pool"
is new (drawn on lawns, as an analyst would mark pools the model does not know)."""


class Scene:
    """A shifted-domain scene on disk and small squares inside objects of each class (map coordinates)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        scene = generate_scene(7, SIZE, SIZE, domain="shifted")
        self.optical, self.elevation, self.labels = (
            folder / f"{n}.tif" for n in ("optical", "dsm", "labels")
        )
        write_scene(scene, self.optical, self.elevation, self.labels)
        self.crs = QgsCoordinateReferenceSystem(scene.crs)
        self.squares: dict[str, list[QgsRectangle]] = {}
        side = 4
        for name, index in CLASSES.items():
            inside = np.lib.stride_tricks.sliding_window_view(scene.labels == index, (side, side)).all(
                axis=(2, 3)
            )
            rows, cols = np.nonzero(inside)
            picks = np.linspace(0, len(rows) - 1, 2).astype(int)
            self.squares[name] = []
            for row, col in zip(rows[picks], cols[picks], strict=True):
                left, top = scene.transform * (int(col), int(row))
                right, bottom = scene.transform * (int(col) + side, int(row) + side)
                self.squares[name].append(QgsRectangle(left, bottom, right, top))


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    return Scene(tmp_path_factory.mktemp("finetune_scene"))


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs in this test's Python (the venv, with torch)."""
    import sys

    monkeypatch.setenv("GEOFUSE_PYTHON", sys.executable)


@pytest.fixture
def no_runtime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A runtime that cannot start: an error about it would mean the worker was reached."""
    monkeypatch.setenv("GEOFUSE_PYTHON", str(tmp_path / "no_python_here"))


def memory_layer(
    scene: Scene,
    crs: str = "EPSG:32632",
    geometry: str = "Polygon",
    values: dict[str, str | None] | None = None,
) -> QgsVectorLayer:
    """The scene's squares as a memory layer in ``crs`` (class value per square name, default the name)."""
    layer = QgsVectorLayer(f"{geometry}?crs={crs}&field=class:string&field=note:string", "training", "memory")
    transform = QgsCoordinateTransform(
        scene.crs, QgsCoordinateReferenceSystem(crs), QgsProject.instance().transformContext()
    )
    features = []
    for name, squares in scene.squares.items():
        for square in squares:
            shape = QgsGeometry.fromRect(square)
            if geometry == "LineString":
                shape = QgsGeometry.fromPolylineXY(shape.asPolygon()[0])
            elif geometry == "Point":
                shape = shape.centroid()
            shape.transform(transform)
            feature = QgsFeature(layer.fields())
            feature.setGeometry(shape)
            feature.setAttributes([name if values is None else values.get(name), "digitised"])
            features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    layer.updateExtents()
    QgsProject.instance().addMapLayer(layer)
    return layer


def write_geopackage(layer: QgsVectorLayer, path: Path, name: str) -> None:
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName, options.layerName = "GPKG", name
    if path.exists():
        options.actionOnExistingFile = QgsVectorFileWriter.ActionOnExistingFile.CreateOrOverwriteLayer
    error = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, str(path), QgsProject.instance().transformContext(), options
    )
    assert error[0] == QgsVectorFileWriter.WriterError.NoError, error


def parameters(scene: Scene, polygons: object, output: Path, **extra: object) -> dict[str, object]:
    return {
        "OPTICAL": str(scene.optical),
        "ELEVATION": str(scene.elevation),
        "POLYGONS": polygons,
        "CLASS_FIELD": "class",
        **TRAINING,
        "OUTPUT": str(output),
        **extra,
    }


class LogFeedback(QgsProcessingFeedback):
    """Keeps the log lines; cancels at the first training step's progress when asked."""

    def __init__(self, cancel_on_progress: bool = False) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.cancel_on_progress = cancel_on_progress
        self.progress_texts: list[str] = []

    def pushInfo(self, info: str) -> None:
        super().pushInfo(info)
        self.lines.append(info)

    def setProgressText(self, text: str) -> None:
        super().setProgressText(text)
        self.progress_texts.append(text)
        if self.cancel_on_progress and "step" in text:
            self.cancel()


def test_a_memory_layer_in_another_crs_gives_a_model_with_the_new_class_and_its_lineage(
    scene: Scene, runtime: None, tmp_path: Path
) -> None:
    layer = memory_layer(scene, crs="EPSG:4326")
    output = tmp_path / "models" / "my_area.pt"
    feedback = LogFeedback()

    results = processing.run("geofuse:finetune", parameters(scene, layer.id(), output), feedback=feedback)

    assert results["OUTPUT"] == str(output) and results["NEW_CLASSES"] == "pool"
    card = load_checkpoint(output).card
    assert [info.name for info in card.classes][-2:] == ["clutter", "pool"]
    base = card.training["base_model"]
    assert base["file"] == DEMO_MODEL.name
    assert base["sha256"] == weights_sha256(load_checkpoint(DEMO_MODEL).state_dict)
    polygons = card.training["data"]["polygons"]
    assert polygons["polygons_used"] == 6 and polygons["class_field"] == "class"
    assert set(polygons["labelled_pixels"]) == {"building", "tree", "pool"}
    assert all(count > 0 for count in polygons["labelled_pixels"].values())
    assert "New classes: pool" in feedback.lines
    assert any(line.startswith("Labelled pixels per class: building") for line in feedback.lines)
    assert any("about" in text and "left" in text for text in feedback.progress_texts)
    assert sorted(path.name for path in output.parent.iterdir()) == ["my_area.pt"]  # no folder, no lock


@pytest.fixture
def geopackage(scene: Scene) -> Iterator[Path]:
    """A GeoPackage whose first layer holds points and whose layer ``areas`` holds the training polygons."""
    path = scene.optical.parent / "training.gpkg"
    write_geopackage(memory_layer(scene, geometry="Point"), path, "points")
    write_geopackage(memory_layer(scene), path, "areas")
    yield path


def test_cancel_of_a_run_from_a_geopackage_layer_leaves_no_model_and_no_working_folder(
    scene: Scene, geopackage: Path, runtime: None, tmp_path: Path
) -> None:
    """The first layer of the GeoPackage holds points: the run reaches its training steps only if the
    layer ``areas`` was passed on to the worker."""
    output = tmp_path / "my_area.pt"
    other_run = tmp_path / ".my_area.finetune-another-run"  # not this run's: it must stay
    other_run.mkdir()
    feedback = LogFeedback(cancel_on_progress=True)

    with pytest.raises(QgsProcessingException, match=r"[Cc]ancel"):
        processing.run(
            "geofuse:finetune",
            parameters(scene, f"{geopackage}|layername=areas", output, STEPS=1000),
            feedback=feedback,
        )

    assert feedback.isCanceled() and any("step" in text for text in feedback.progress_texts)
    assert sorted(path.name for path in tmp_path.iterdir()) == [other_run.name]


def build_request(algorithm_parameters: dict[str, object]) -> dict[str, object]:
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("geofuse:finetune")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    return algorithm.request(algorithm_parameters, context, QgsProcessingFeedback())


def test_a_geopackage_layer_is_passed_as_file_and_layer_and_a_selection_is_exported(
    scene: Scene, geopackage: Path, tmp_path: Path
) -> None:
    layer = QgsVectorLayer(f"{geopackage}|layername=areas", "areas", "ogr")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)

    request = build_request(parameters(scene, layer.id(), tmp_path / "a.pt"))
    assert (request["polygons"], request["layer"]) == (str(geopackage), "areas")
    assert request["model"] == str(DEMO_MODEL) and request["crop_size"] == 64 and request["steps"] == 2

    layer.selectByIds([feature.id() for feature in layer.getFeatures()][:2])
    selection = QgsProcessingFeatureSourceDefinition(layer.id(), True)
    request = build_request(parameters(scene, selection, tmp_path / "a.pt"))
    assert request["polygons"] != str(geopackage)
    with fiona.open(request["polygons"], layer=request["layer"] or 0) as exported:
        assert [feature.properties["class"] for feature in exported] == ["building", "building"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no features", r"have no features"),
        ("points", r"must be polygons; training holds Point geometries"),
        ("lines", r"must be polygons; training holds LineString geometries"),
        ("field missing", r"have no field 'landuse'; their fields are: class, note"),
        ("field empty", r"class field class is empty in every training polygon"),
        ("no overlap", r"None of the 6 training polygons overlaps the optical layer"),
        ("bands", r"has 1 band\(s\), but the model geofuse_demo_small.pt needs 3 \(R/G/B\)"),
        ("same layer", r"the same layer"),
        ("output is the model", r"would replace the model it starts from"),
    ],
)
def test_bad_input_is_one_clear_error_before_the_worker_starts(
    scene: Scene, no_runtime: None, tmp_path: Path, case: str, message: str
) -> None:
    layer = memory_layer(
        scene,
        geometry={"points": "Point", "lines": "LineString"}.get(case, "Polygon"),
        values={name: None for name in CLASSES} if case == "field empty" else None,
    )
    extra: dict[str, object] = {}
    if case == "no features":
        layer.dataProvider().truncate()
    elif case == "field missing":
        extra["CLASS_FIELD"] = "landuse"
    elif case == "no overlap":
        moved = QgsVectorLayer("Polygon?crs=EPSG:32632&field=class:string", "far", "memory")
        for feature in layer.getFeatures():
            shape = feature.geometry()
            shape.translate(10_000, 0)
            copy = QgsFeature(moved.fields())
            copy.setGeometry(shape)
            copy.setAttributes([feature["class"]])
            moved.dataProvider().addFeature(copy)
        QgsProject.instance().addMapLayer(moved)
        layer = moved
    elif case == "bands":
        extra["OPTICAL"] = str(scene.labels)
    elif case == "same layer":
        extra["ELEVATION"] = str(scene.optical)
    elif case == "output is the model":
        extra["MODEL"] = str(DEMO_MODEL)
    output = DEMO_MODEL if case == "output is the model" else tmp_path / "my_area.pt"

    with pytest.raises(QgsProcessingException, match=message) as raised:
        processing.run("geofuse:finetune", parameters(scene, layer.id(), output, **extra))

    assert "\n" not in str(raised.value)
    assert sorted(tmp_path.iterdir()) == []
