"""``geofuse:finetune`` through Processing: a memory polygon layer in another CRS gives a model with the new
class and its lineage, a GeoPackage layer is read in place and a selection exported, a cancel leaves nothing,
and each bad input is one clear error raised before any worker starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import processing
import pytest
from finetune_inputs import CLASSES, TRAINING, Scene, memory_layer, write_geopackage
from qgis.core import (
    QgsApplication,
    QgsFeature,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

from geofuse.backend.checkpoint import load_checkpoint
from geofuse.backend.finetune import weights_sha256
from geofuse.backend.paths import DEMO_MODEL

pytestmark = pytest.mark.usefixtures("geofuse_provider", "qgis_new_project")


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
    assert (card.training["crop_size"], card.training["batch_size"], card.training["steps"]) == (64, 1, 2)
    base = card.training["base_model"]
    assert base["file"] == DEMO_MODEL.name
    assert base["sha256"] == weights_sha256(load_checkpoint(DEMO_MODEL).state_dict)
    polygons = card.training["data"]["polygons"]
    assert polygons["polygons_used"] == 6 and polygons["class_field"] == "class"
    assert polygons["file"] == "training.gpkg"  # the exported memory layer is named after the layer
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

    results = processing.run(
        "geofuse:finetune",
        parameters(scene, f"{geopackage}|layername=areas", output, STEPS=1000),
        feedback=feedback,
    )

    assert results == {}

    assert feedback.isCanceled() and any("step" in text for text in feedback.progress_texts)
    assert sorted(path.name for path in tmp_path.iterdir()) == [other_run.name]


def build_request(algorithm_parameters: dict[str, object]) -> dict[str, object]:
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("geofuse:finetune")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = QgsProcessingFeedback()
    assert algorithm.prepare(algorithm_parameters, context, feedback)
    return algorithm.request(algorithm_parameters, context, feedback)


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
    assert request["polygons"] != str(geopackage) and Path(request["polygons"]).name == "areas.gpkg"
    # Read with QGIS's own OGR: fiona brings a third GDAL into this process, beside QGIS's and rasterio's.
    uri = f"{request['polygons']}|layername={request['layer']}" if request["layer"] else request["polygons"]
    exported = QgsVectorLayer(uri, "exported", "ogr")
    assert [feature["class"] for feature in exported.getFeatures()] == ["building", "building"]


@pytest.mark.parametrize(
    ("extra", "device", "bands"),
    [({"DEVICE": 1, "OPTICAL_BANDS": "3,2,1"}, "cpu", [3, 2, 1]), ({"DEVICE": "0"}, "auto", [])],
)
def test_device_and_bands_take_what_qgis_process_help_lists(
    scene: Scene, geopackage: Path, tmp_path: Path, extra: dict[str, object], device: str, bands: list[int]
) -> None:
    layer = QgsVectorLayer(f"{geopackage}|layername=areas", "areas", "ogr")
    QgsProject.instance().addMapLayer(layer)
    algorithm_parameters = parameters(scene, layer.id(), tmp_path / "a.pt", **extra)
    definition = (
        QgsApplication.processingRegistry().algorithmById("geofuse:finetune").parameterDefinition("DEVICE")
    )
    assert definition.checkValueIsAcceptable(extra["DEVICE"])

    request = build_request(algorithm_parameters)
    assert (request["device"], request["optical_bands"]) == (device, bands)
    with pytest.raises(QgsProcessingException, match="band numbers separated by commas"):
        build_request({**algorithm_parameters, "OPTICAL_BANDS": "3,two,1"})


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no features", r"have no features"),
        ("points", r"must be polygons; training holds Point geometries"),
        ("lines", r"must be polygons; training holds LineString geometries"),
        ("field missing", r"have no field 'landuse'; their fields are: note, class"),
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
