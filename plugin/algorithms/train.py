"""``geofuse:train``: train a GeoFuse model on optical, elevation and label rasters, in the worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..worker_client import WorkerCancelledError, run_worker
from .common import (
    DOUBLE,
    FOLDER,
    INTEGER,
    TYPE_RASTER,
    DeviceParameter,
    GeoFuseAlgorithm,
    advanced,
)
from .inputs import RasterInput

VARIANTS = ("a2", "a3", "a1", "a0", "baseline")
WIDTHS = ("small", "base")
DATASETS = ("folder", "vaihingen", "potsdam")
SPLITS = ("benchmark", "fusion-papers")
POTSDAM_OPTICAL = ("RGB", "IRRG", "RGBIR")
POTSDAM_ELEVATION = ("dsm", "ndsm")


class TrainAlgorithm(GeoFuseAlgorithm):
    """Rasters (listed, a folder in GeoFuse's layout, or an ISPRS benchmark download) → a checkpoint
    ``model.pt`` in the output folder."""

    DATASET = "DATASET"
    ISPRS_FOLDER = "ISPRS_FOLDER"
    SPLIT = "SPLIT"
    POTSDAM_OPTICAL = "POTSDAM_OPTICAL"
    POTSDAM_ELEVATION = "POTSDAM_ELEVATION"
    VALIDATION_TILES = "VALIDATION_TILES"
    ERODED = "ERODED"
    CHECK_DATA = "CHECK_DATA"
    OPTICAL = "OPTICAL"
    ELEVATION = "ELEVATION"
    LABELS = "LABELS"
    FOLDER = "FOLDER"
    VALIDATION_FOLDER = "VALIDATION_FOLDER"
    VARIANT = "VARIANT"
    WIDTH = "WIDTH"
    STEPS = "STEPS"
    BATCH_SIZE = "BATCH_SIZE"
    CROP_SIZE = "CROP_SIZE"
    LEARNING_RATE = "LEARNING_RATE"
    DEVICE = "DEVICE"
    SEED = "SEED"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    MODEL = "MODEL"

    def name(self) -> str:
        """Stable id: ``geofuse:train``."""
        return "train"

    def displayName(self) -> str:
        """Shown in the toolbox."""
        return self.tr("Train land-cover model")

    def shortHelpString(self) -> str:
        """The help panel beside the dialog."""
        return self.tr(
            "Trains a GeoFuse model from optical, elevation and label rasters and writes the checkpoint "
            "model.pt (usable by 'Segment land cover') into the output folder, with last.pt to resume and "
            "metrics.csv.\n\n"
            "Give either the three lists of layers (the n-th optical, elevation and label layers belong "
            "together and share one pixel grid) or a folder with optical/, elevation/ and labels/ "
            "subfolders of same-named GeoTIFFs (and optionally classes.csv). Labels are class indices "
            "(255 = ignore) or class colours. Training runs in the GeoFuse runtime; a GPU helps a lot.\n\n"
            "ISPRS Vaihingen or Potsdam: choose the dataset and give the folder holding the downloaded "
            "archives, as downloaded (zips, read in place) or unpacked in any way. The training tiles of the "
            "chosen split are used (benchmark: the contest's; fusion-papers: the split of the DSM-fusion "
            "papers), minus a few validation tiles; the test tiles are left for evaluation. Archives and "
            "every label colour are checked before the first step."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        """Declare the parameters: the data, the ISPRS options, then the model and its training."""
        self._add_data_parameters()
        self._add_isprs_parameters()
        self._add_training_parameters()

    def _add_data_parameters(self) -> None:
        """The dataset kind and its layers or folders."""
        self.addParameter(
            QgsProcessingParameterEnum(
                self.DATASET,
                self.tr("Dataset"),
                list(DATASETS),
                defaultValue="folder",
                usesStaticStrings=True,
            )
        )
        for name, label in (
            (self.OPTICAL, self.tr("Optical layers")),
            (self.ELEVATION, self.tr("Elevation layers (same order)")),
            (self.LABELS, self.tr("Label layers (same order)")),
        ):
            self.addParameter(QgsProcessingParameterMultipleLayers(name, label, TYPE_RASTER, optional=True))
        self.addParameter(
            QgsProcessingParameterFile(
                self.FOLDER,
                self.tr("…or a training folder (optical/, elevation/, labels/)"),
                FOLDER,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.VALIDATION_FOLDER, self.tr("Validation folder (same layout)"), FOLDER, optional=True
            )
        )

    def _add_isprs_parameters(self) -> None:
        """Where the ISPRS download is, which split and bands, and how it is checked."""
        self.addParameter(
            QgsProcessingParameterFile(
                self.ISPRS_FOLDER, self.tr("ISPRS download folder (zips or unpacked)"), FOLDER, optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.SPLIT,
                self.tr("ISPRS split"),
                list(SPLITS),
                defaultValue="benchmark",
                usesStaticStrings=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.POTSDAM_OPTICAL,
                self.tr("Potsdam optical bands"),
                list(POTSDAM_OPTICAL),
                defaultValue="RGB",
                usesStaticStrings=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.POTSDAM_ELEVATION,
                self.tr("Potsdam elevation (DSM or normalised nDSM)"),
                list(POTSDAM_ELEVATION),
                defaultValue="dsm",
                usesStaticStrings=True,
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterString(
                    self.VALIDATION_TILES,
                    self.tr("ISPRS validation tiles, comma-separated (empty: a fixed few)"),
                    optional=True,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterBoolean(
                    self.ERODED, self.tr("Validate on the eroded ISPRS references"), defaultValue=False
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterBoolean(
                    self.CHECK_DATA,
                    self.tr("Check archives and every label before training"),
                    defaultValue=True,
                )
            )
        )

    def _add_training_parameters(self) -> None:
        """The model to train, the training schedule and where the result goes."""
        self.addParameter(
            QgsProcessingParameterEnum(
                self.VARIANT,
                self.tr("Model variant"),
                list(VARIANTS),
                defaultValue="a2",
                usesStaticStrings=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.WIDTH, self.tr("Model width"), list(WIDTHS), defaultValue="small", usesStaticStrings=True
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(self.STEPS, self.tr("Training steps"), INTEGER, 1000, minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber(self.BATCH_SIZE, self.tr("Crops per step"), INTEGER, 4, minValue=1)
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.CROP_SIZE, self.tr("Crop size (pixels)"), INTEGER, 256, minValue=32
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.LEARNING_RATE, self.tr("Learning rate"), DOUBLE, 1e-3, minValue=0
                )
            )
        )
        self.addParameter(DeviceParameter(self.DEVICE, self.tr("Device")))
        self.addParameter(
            advanced(QgsProcessingParameterNumber(self.SEED, self.tr("Random seed"), INTEGER, 0))
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, self.tr("Training folder"))
        )
        self.addOutput(QgsProcessingOutputFile(self.MODEL, self.tr("Trained model")))

    def resolve_inputs(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, list[RasterInput]]:
        """The three layer lists, on the main thread."""
        return {
            name: [
                RasterInput(layer, context) for layer in self.parameterAsLayerList(parameters, name, context)
            ]
            for name in (self.OPTICAL, self.ELEVATION, self.LABELS)
        }

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        """Build the training config, run it in the worker, return the checkpoint."""
        layers = self.prepared_inputs()
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        dataset = self.parameterAsEnumString(parameters, self.DATASET, context) or "folder"
        if dataset != "folder":
            data = self._isprs_data(parameters, context, dataset, bool(folder or any(layers.values())))
        else:
            data = self._folder_data(parameters, context, layers, folder)
        output = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        Path(output).mkdir(parents=True, exist_ok=True)
        steps = self.parameterAsInt(parameters, self.STEPS, context)
        config = {
            "data": data,
            "model": {
                "variant": self.parameterAsEnumString(parameters, self.VARIANT, context),
                "width": self.parameterAsEnumString(parameters, self.WIDTH, context),
            },
            "optim": {
                "lr": self.parameterAsDouble(parameters, self.LEARNING_RATE, context),
                "warmup_steps": min(50, steps // 10),
            },
            "train": {
                "steps": steps,
                "batch_size": self.parameterAsInt(parameters, self.BATCH_SIZE, context),
                "crop_size": self.parameterAsInt(parameters, self.CROP_SIZE, context),
                "device": self.device(parameters, self.DEVICE, context),
                "seed": self.parameterAsInt(parameters, self.SEED, context),
                "output": output,
            },
        }
        tiles = [
            {
                "optical": optical.path(feedback),
                "elevation": elevation.path(feedback),
                "labels": labels.path(feedback),
            }
            for optical, elevation, labels in zip(*layers.values(), strict=True)
        ]
        try:
            result = run_worker({"command": "train", "config": config, "tiles": tiles or None}, feedback)
        except WorkerCancelledError as stop:
            return self.cancelled(feedback, stop)
        feedback.pushInfo(self.tr("Model written to {}").format(result["model"]))
        return {self.OUTPUT_FOLDER: output, self.MODEL: result["model"]}

    def _folder_data(
        self, parameters: dict[str, Any], context: QgsProcessingContext, layers: dict[str, list], folder: str
    ) -> dict[str, Any]:
        """``[data]`` for one's own rasters: layer lists (the worker links them into a folder) or a folder."""
        counts = {len(found) for found in layers.values()}
        if folder and any(layers.values()):
            raise QgsProcessingException(
                self.tr("Give either the layer lists or a training folder, not both.")
            )
        if not folder and (counts == {0} or len(counts) != 1):
            raise QgsProcessingException(
                self.tr(
                    "Give a training folder, or as many optical as elevation and label layers (at least one)."
                )
            )
        return {
            "kind": "folder",
            "root": folder,
            "val_root": self.parameterAsFile(parameters, self.VALIDATION_FOLDER, context),
            "check": self.parameterAsBoolean(parameters, self.CHECK_DATA, context),
        }

    def _isprs_data(
        self, parameters: dict[str, Any], context: QgsProcessingContext, dataset: str, own_rasters: bool
    ) -> dict[str, Any]:
        """``[data]`` for an ISPRS benchmark download (``backend/data/isprs.py`` finds its files)."""
        root = self.parameterAsFile(parameters, self.ISPRS_FOLDER, context)
        if not root:
            raise QgsProcessingException(self.tr("Give the folder holding the ISPRS download."))
        if own_rasters:
            raise QgsProcessingException(
                self.tr(
                    "Give either an ISPRS download or your own rasters (layer lists or folder), not both."
                )
            )
        data: dict[str, Any] = {
            "kind": dataset,
            "root": root,
            "split": self.parameterAsEnumString(parameters, self.SPLIT, context) or "benchmark",
            "eroded": self.parameterAsBoolean(parameters, self.ERODED, context),
            "check": self.parameterAsBoolean(parameters, self.CHECK_DATA, context),
            "potsdam_optical": self.parameterAsEnumString(parameters, self.POTSDAM_OPTICAL, context) or "RGB",
            "potsdam_elevation": self.parameterAsEnumString(parameters, self.POTSDAM_ELEVATION, context)
            or "dsm",
        }
        tiles = self.parameterAsString(parameters, self.VALIDATION_TILES, context)
        if tiles.strip():
            data["val_tiles"] = [tile.strip() for tile in tiles.split(",") if tile.strip()]
        return data
