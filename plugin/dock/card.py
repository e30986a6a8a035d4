"""Read a GeoFuse checkpoint's model card inside QGIS, without torch and without running anything from it.

A checkpoint is a ``torch.save`` zip archive whose ``data.pkl`` holds the card as plain data next to the
weights. The weights themselves live in separate archive members and are never read here: tensors unpickle
to placeholders. The unpickler accepts only the handful of globals a checkpoint legitimately names (an
``OrderedDict``, torch's tensor rebuild function and storage types); anything else, such as a pickle that
would open a file or start a program, is refused before it can act. The worker still validates the whole
checkpoint with ``torch.load(weights_only=True)`` when it runs; both check the format, its version, the
card's size limits and the default tile by the same torch-free rules (``backend.checkpoint_format``,
``backend.tiling``).
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...backend.checkpoint_format import card_shape_problem, format_problem, training_crop
from ...backend.tiling import default_tile

MAX_PICKLE_BYTES = 64 * 2**20


class CardError(ValueError):
    """The file is not a readable GeoFuse checkpoint; the message says why."""


def _tensor_placeholder(*args: Any) -> None:
    """Stands in for ``torch._utils._rebuild_tensor_v2``: the card needs no weights."""
    return None


class _StoragePlaceholder:
    """Stands in for torch's storage types, which only ever appear as persistent ids."""


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _tensor_placeholder,
    ("torch._utils", "_rebuild_tensor"): _tensor_placeholder,
    ("torch._utils", "_rebuild_parameter"): _tensor_placeholder,
}


class _CardUnpickler(pickle.Unpickler):
    """Unpickles a checkpoint's data, allowing only :data:`ALLOWED_GLOBALS` and torch storage types."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a global only when it is on the allow list."""
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is not None:
            return allowed
        if module == "torch" and name.endswith("Storage") and name.isidentifier():
            return _StoragePlaceholder
        raise pickle.UnpicklingError(f"it names {module}.{name}, which a GeoFuse checkpoint never holds")

    def persistent_load(self, pid: Any) -> None:
        """Storages are archive members; they are never read."""
        return None


@dataclass(frozen=True)
class ClassEntry:
    """One class of the model's class table."""

    index: int
    name: str
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class CardInfo:
    """What the dock shows about a model and needs to set up a run."""

    variant: str
    width: str
    classes: tuple[ClassEntry, ...]
    optical_bands: tuple[str, ...]
    gsd_m: float
    tile: int
    base_model: str = ""
    """File name of the model this one was fine-tuned from ("" if it was not)."""
    polygons: str = ""
    """File name of the training polygons it was fine-tuned on."""
    polygons_used: int = 0
    """How many of those polygons it learnt from."""

    def class_table(self) -> list[dict[str, Any]]:
        """The class table in the worker's form (what ``styling.paletted_renderer`` takes)."""
        return [{"index": c.index, "name": c.name, "colour": list(c.colour)} for c in self.classes]


def _payload(path: Path) -> Any:
    if not path.is_file():
        raise CardError(f"model file not found: {path}")
    if path.stat().st_size == 0:
        raise CardError(f"model file is empty: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            member = next((n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
            if member is None:
                raise CardError(f"{path} is not a GeoFuse checkpoint (a zip archive without data.pkl)")
            if archive.getinfo(member).file_size > MAX_PICKLE_BYTES:
                raise CardError(f"{path} is not a GeoFuse checkpoint (its data part is far too large)")
            data = archive.read(member)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise CardError(
            f"{path} is not a readable checkpoint (truncated or another format): {error}"
        ) from error
    try:
        return _CardUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as error:
        raise CardError(f"{path} is not a plain-data GeoFuse checkpoint and was refused: {error}") from error
    except Exception as error:  # foreign pickles fail in many ways; each means the same here
        raise CardError(f"{path} is not a readable checkpoint: {error}") from error


def _lineage(training: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fine-tuning lineage of a card's training summary: its base model and its polygons (empty dicts
    for a model that was not fine-tuned)."""
    base = training.get("base_model") if isinstance(training, dict) else None
    data = training.get("data") if isinstance(training, dict) else None
    polygons = data.get("polygons") if isinstance(data, dict) else None
    return (base if isinstance(base, dict) else {}), (polygons if isinstance(polygons, dict) else {})


def read_card(path: str | Path) -> CardInfo:
    """The model card of the checkpoint at ``path``.

    Raises:
        CardError: For a missing, empty, corrupt, foreign or code-carrying file, or a malformed card.
    """
    path = Path(path)
    payload = _payload(path)
    problem = format_problem(payload, str(path))
    card = payload.get("card") if problem is None else None
    problem = problem or card_shape_problem(card)
    if problem:
        raise CardError(problem)
    try:
        model = card["model"]
        classes = tuple(
            ClassEntry(int(entry["index"]), str(entry["name"]), tuple(int(v) for v in entry["colour"][:3]))
            for entry in card["classes"]
        )
        training = card.get("training") or {}
        base, polygons = _lineage(training)
        return CardInfo(
            variant=str(model.get("variant", "?")),
            width=str(model.get("width", "?")),
            classes=classes,
            optical_bands=tuple(str(band) for band in card["optical_bands"]),
            gsd_m=float(card["gsd_m"]),
            tile=default_tile(training_crop(training)),
            base_model=str(base.get("file") or ""),
            polygons=str(polygons.get("file") or ""),
            polygons_used=int(polygons.get("polygons_used") or 0),
        )
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise CardError(f"{path}: the model card is malformed ({error})") from error


class CardCache:
    """Cards by path, re-read when the file changes (size or modification time), errors included.

    Errors are kept as messages and raised afresh: a kept exception would carry the traceback of every
    caller it was re-raised through, and with it the dock (a reference cycle through Qt widgets).
    """

    def __init__(self) -> None:
        self._cards: dict[str, tuple[tuple[int, int], CardInfo | str]] = {}

    def get(self, path: str | Path) -> CardInfo:
        """The card of ``path``, from the cache when the file is unchanged.

        Raises:
            CardError: As :func:`read_card`.
        """
        key = str(path)
        try:
            status = Path(path).stat()
            stamp = (status.st_size, status.st_mtime_ns)
        except OSError:
            stamp = (-1, -1)
        cached = self._cards.get(key)
        if cached is None or cached[0] != stamp:
            try:
                value: CardInfo | str = read_card(path)
            except CardError as error:
                value = str(error)
            cached = self._cards[key] = (stamp, value)
        if isinstance(cached[1], str):
            raise CardError(cached[1])
        return cached[1]
