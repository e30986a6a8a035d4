"""What GeoFuse's Processing algorithms share: enums across QGIS versions and the base class.

Enums are resolved once, here: QGIS 3.36 moved them to ``Qgis.*`` (``Qgis.ProcessingSourceType.Raster``)
and QGIS 4 drops the old ``QgsProcessing.TypeRaster`` style names; 3.22 has only the old ones.
"""

from __future__ import annotations

import re
from typing import Any

from qgis.core import (
    Qgis,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsRasterDataProvider,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ...backend.paths import PLUGIN_DIR
from ..worker_client import WorkerCancelledError


def _pick(new_scope: str, new_name: str, old_owner: Any, old_name: str) -> Any:
    """``Qgis.<new_scope>.<new_name>`` where it exists (3.36+), else ``<old_owner>.<old_name>``."""
    scope = getattr(Qgis, new_scope, None)
    if scope is not None and hasattr(scope, new_name):
        return getattr(scope, new_name)
    return getattr(old_owner, old_name)


TYPE_RASTER = _pick("ProcessingSourceType", "Raster", QgsProcessing, "TypeRaster")
TYPE_TABLE = _pick("ProcessingSourceType", "Vector", QgsProcessing, "TypeVector")
TYPE_POLYGON = _pick("ProcessingSourceType", "VectorPolygon", QgsProcessing, "TypeVectorPolygon")
INTEGER = _pick("ProcessingNumberParameterType", "Integer", QgsProcessingParameterNumber, "Integer")
DOUBLE = _pick("ProcessingNumberParameterType", "Double", QgsProcessingParameterNumber, "Double")
FILE = _pick("ProcessingFileParameterBehavior", "File", QgsProcessingParameterFile, "File")
FOLDER = _pick("ProcessingFileParameterBehavior", "Folder", QgsProcessingParameterFile, "Folder")
ADVANCED = _pick("ProcessingParameterFlag", "Advanced", QgsProcessingParameterDefinition, "FlagAdvanced")
NO_GEOMETRY = _pick("WkbType", "NoGeometry", QgsWkbTypes, "NoGeometry")
POLYGON_GEOMETRY = _pick("GeometryType", "Polygon", QgsWkbTypes, "PolygonGeometry")
SIZE_CAPABILITY = _pick("RasterInterfaceCapability", "Size", QgsRasterDataProvider, "Size")

ICON_PATH = PLUGIN_DIR / "resources" / "icons" / "geofuse.svg"
README_URL = "https://github.com/geofuse/geofuse"
"""The README on the project page: each algorithm's help is its section there (see :meth:`helpUrl`)."""
DEVICES = ("auto", "cpu", "cuda:0", "cuda:1", "cuda:2", "cuda:3")
"""Static strings of the DEVICE enum: the same in every locale, so models and scripts stay portable."""


def device_name(value: Any) -> str | None:
    """A DEVICE value as its name: a name from :data:`DEVICES`, or the number ``qgis_process help`` lists
    beside it (``1`` or ``"1"`` is ``cpu``); None for anything else."""
    if isinstance(value, str) and value.strip() in DEVICES:
        return value.strip()
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if text.isdigit() and int(text) < len(DEVICES):
        return DEVICES[int(text)]
    return None


def band_list(value: Any) -> list[int] | None:
    """A comma (or space) separated band list as ``qgis_process`` passes it (``"3,2,1"``) as numbers; None
    when ``value`` is not such a text (Processing then reads it).

    Raises:
        ValueError: For a text that is not a list of positive band numbers.
    """
    if not isinstance(value, str) or not re.search(r"[,\s]", value.strip()):
        return None
    bands = [int(part) for part in re.split(r"[,\s]+", value.strip()) if part]
    if not bands or min(bands) < 1:
        raise ValueError(value)
    return bands


class DeviceParameter(QgsProcessingParameterEnum):
    """The DEVICE enum: stores names (portable), and also accepts the numbers ``qgis_process help`` shows,
    which QGIS 3.22 refuses for an enum of static strings."""

    def __init__(self, name: str, description: str, default: str = "auto") -> None:
        super().__init__(
            name, description, options=list(DEVICES), defaultValue=default, usesStaticStrings=True
        )

    def clone(self) -> QgsProcessingParameterDefinition:
        """A copy that keeps this class (QGIS clones parameters for dialogs and models)."""
        copy = DeviceParameter(self.name(), self.description(), self.defaultValue())
        copy.setFlags(self.flags())
        return copy

    def checkValueIsAcceptable(self, value: Any, context: QgsProcessingContext | None = None) -> bool:
        """A name or a listed number."""
        return device_name(value) is not None or super().checkValueIsAcceptable(value, context)


def advanced(parameter: QgsProcessingParameterDefinition) -> QgsProcessingParameterDefinition:
    """Mark a parameter as advanced (folded away in the dialog)."""
    parameter.setFlags(parameter.flags() | ADVANCED)
    return parameter


class GeoFuseAlgorithm(QgsProcessingAlgorithm):
    """Base of GeoFuse's algorithms: translation context, group, icon, ``createInstance``."""

    def tr(self, message: str) -> str:
        """Translate with the concrete class's name as context, as pylupdate5 collects it."""
        return QCoreApplication.translate(type(self).__name__, message)

    def createInstance(self) -> QgsProcessingAlgorithm:
        """A fresh copy for each run (Processing runs copies, possibly in other threads)."""
        return type(self)()

    def prepareAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> bool:
        """Resolve the input layers here: QGIS calls this on the main thread, where its layers live, and
        ``processAlgorithm`` on a task thread, which must not open or read them (module ``inputs``).

        A problem found here is kept and raised by :meth:`prepared_inputs` in ``processAlgorithm``, where
        ``processing.run`` reports its own message rather than "There were errors executing the algorithm".
        """
        self._inputs: Any = None
        self._input_error: QgsProcessingException | None = None
        try:
            self._inputs = self.resolve_inputs(parameters, context, feedback)
        except QgsProcessingException as error:
            self._input_error = error
        return True

    def resolve_inputs(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Any:
        """What the run needs from layers, as plain values; on the main thread. None: nothing to resolve.

        Raises:
            QgsProcessingException: With one clear line for an input the run cannot use.
        """
        return None

    def prepared_inputs(self) -> Any:
        """What :meth:`resolve_inputs` resolved for this run.

        Raises:
            QgsProcessingException: The problem it found.
        """
        if self._input_error is not None:
            raise self._input_error
        return self._inputs

    def cancelled(self, feedback: QgsProcessingFeedback, stop: WorkerCancelledError) -> dict[str, Any]:
        """End a cancelled run as QGIS's own algorithms do: say so as information and return no outputs.

        Raising would make QGIS's task runner log the user's own choice as a Critical error; a script
        tells a cancel by ``feedback.isCanceled()`` and the missing outputs.
        """
        feedback.pushInfo(str(stop))
        return {}

    def band_numbers(
        self, parameters: dict[str, Any], name: str, context: QgsProcessingContext
    ) -> list[int] | None:
        """A band parameter as numbers, a ``qgis_process`` list (``3,2,1``) included; None when empty.

        Raises:
            ValueError: For a text that is not a band list.
        """
        listed = band_list(parameters.get(name))
        if listed is not None:
            return listed
        return self.parameterAsInts(parameters, name, context) or None

    def device(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext) -> str:
        """A :class:`DeviceParameter`'s device, from a name or the number ``qgis_process help`` lists."""
        named = device_name(parameters.get(name))
        return named or self.parameterAsEnumString(parameters, name, context) or "auto"

    def group(self) -> str:
        """Shown as the folder in the toolbox.

        Defined here, so pylupdate5 files the string under this class: ``self.tr`` would look it up under the
        subclass's name and never find it.
        """
        return QCoreApplication.translate("GeoFuseAlgorithm", "Land cover")

    def groupId(self) -> str:
        """Stable id of :meth:`group`."""
        return "landcover"

    def icon(self) -> QIcon:
        """The GeoFuse icon."""
        return QIcon(str(ICON_PATH))

    def helpUrl(self) -> str:
        """The algorithm's section of the README, opened by the dialog's Help button.

        The README has one heading ``geofuse:<name>`` per algorithm, which GitHub anchors as
        ``#geofuse<name>``.
        """
        return f"{README_URL}#geofuse{self.name()}"


class SetupAlgorithm(GeoFuseAlgorithm):
    """Base of the runtime set-up tools, grouped apart from the land-cover tools."""

    def group(self) -> str:
        """The toolbox folder, translated under this class (see :meth:`GeoFuseAlgorithm.group`)."""
        return QCoreApplication.translate("SetupAlgorithm", "Set-up")

    def groupId(self) -> str:
        """Stable id of :meth:`group`."""
        return "setup"
