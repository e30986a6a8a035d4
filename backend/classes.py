"""The class table: index, name and display colour of each land-cover class.

A class table is plain data so that checkpoints can store it (``to_dict``) and the GeoTIFF writer, the QGIS
styling and the colour-coded label readers all agree on it. Colour-coded labels are converted strictly: a
colour that is not in the table is an error naming the colour and a pixel, never silently some class.

Class table files are CSV, one class per row, with the header ``index,name,r,g,b``::

    index,name,r,g,b
    0,impervious surfaces,255,255,255
    1,building,0,0,255

Indices must be 0..K-1 (any row order), names non-empty, colours distinct 0-255 triples. CSV was chosen
over JSON because it is what a GIS user edits in a spreadsheet; names containing commas are quoted.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GeoFuseError

Colour = tuple[int, int, int]

IGNORE_INDEX = 255
"""Label value excluded from losses and metrics (eroded boundaries, nodata, padding)."""

CLASS_TABLE_HEADER = ("index", "name", "r", "g", "b")


@dataclass(frozen=True)
class ClassInfo:
    """One land-cover class.

    Attributes:
        index: Label value in index-coded rasters and channel of the model's output.
        name: Human-readable name, shown in legends.
        colour: Display colour and label colour in colour-coded rasters, as (r, g, b) in 0..255.
    """

    index: int
    name: str
    colour: Colour

    def to_dict(self) -> dict[str, Any]:
        """Plain-types form, safe for ``torch.load(weights_only=True)`` and JSON."""
        return {"index": self.index, "name": self.name, "colour": list(self.colour)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassInfo:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: If a key is missing or a value has the wrong form.
        """
        try:
            index, name, colour = data["index"], data["name"], data["colour"]
        except KeyError as error:
            raise ValueError(f"class entry {dict(data)!r} lacks key {error}") from None
        return cls(int(index), str(name), _as_colour(colour, f"class {name!r}"))


ISPRS_CLASSES: tuple[ClassInfo, ...] = (
    ClassInfo(0, "impervious surfaces", (255, 255, 255)),
    ClassInfo(1, "building", (0, 0, 255)),
    ClassInfo(2, "low vegetation", (0, 255, 255)),
    ClassInfo(3, "tree", (0, 255, 0)),
    ClassInfo(4, "car", (255, 255, 0)),
    ClassInfo(5, "clutter", (255, 0, 0)),
)
"""The ISPRS 2D semantic labelling classes (Vaihingen, Potsdam) with the benchmark's colour code."""

ISPRS_ERODED_BOUNDARY_COLOUR: Colour = (0, 0, 0)
"""Colour of the boundary pixels left out of the ISPRS ``*_noBoundary`` (eroded) reference labels."""


class UnknownColourError(GeoFuseError):
    """A colour-coded label raster holds a colour that the class table does not define."""


class UnknownLabelError(GeoFuseError):
    """An index-coded label raster holds a value that is neither a class index nor the ignore index."""


def _as_colour(value: Iterable[Any], what: str) -> Colour:
    values = tuple(value)
    if len(values) != 3 or not all(isinstance(v, (int, np.integer)) and 0 <= v <= 255 for v in values):
        raise ValueError(f"{what}: colour must be three integers in 0..255, got {values!r}")
    return (int(values[0]), int(values[1]), int(values[2]))


def validate_classes(classes: Sequence[ClassInfo]) -> tuple[ClassInfo, ...]:
    """Check that a class table is usable and return it sorted by index.

    Raises:
        ValueError: If indices are not exactly 0..K-1, a name is empty or not printable, a colour repeats,
            or K > 255 (label rasters are uint8 and 255 is the ignore index).
    """
    ordered = tuple(sorted(classes, key=lambda info: info.index))
    if not ordered:
        raise ValueError("class table is empty")
    if len(ordered) > IGNORE_INDEX:
        raise ValueError(f"at most {IGNORE_INDEX} classes fit a uint8 label raster, got {len(ordered)}")
    indices = [info.index for info in ordered]
    if indices != list(range(len(ordered))):
        raise ValueError(f"class indices must be 0..{len(ordered) - 1} without gaps, got {indices}")
    for info in ordered:
        if not info.name.strip():
            raise ValueError(f"class {info.index} has an empty name")
        if not info.name.isprintable() or len(info.name) > 200:
            raise ValueError(  # control characters make the .qml and .aux.xml sidecars ill-formed XML
                f"class {info.index}'s name must be printable text of at most 200 characters, got "
                f"{info.name[:60]!r}"
            )
        _as_colour(info.colour, f"class {info.name!r}")
    colours = [info.colour for info in ordered]
    if len(set(colours)) != len(colours):
        raise ValueError(f"class colours must be distinct, got {colours}")
    return ordered


def classes_to_dicts(classes: Sequence[ClassInfo]) -> list[dict[str, Any]]:
    """Plain-types form of a class table, for checkpoints and JSON reports."""
    return [info.to_dict() for info in validate_classes(classes)]


def classes_from_dicts(entries: Iterable[Mapping[str, Any]]) -> tuple[ClassInfo, ...]:
    """Inverse of :func:`classes_to_dicts`, validated.

    Raises:
        ValueError: If an entry is malformed or the table as a whole is invalid.
    """
    return validate_classes([ClassInfo.from_dict(entry) for entry in entries])


def read_class_table(path: str | Path) -> tuple[ClassInfo, ...]:
    """Read a CSV class table (header ``index,name,r,g,b``; see the module docstring).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the header or a row is malformed, naming the file and line.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = tuple(cell.strip().lower() for cell in next(reader, []))
        if header != CLASS_TABLE_HEADER:
            raise ValueError(f"{path}: header must be {','.join(CLASS_TABLE_HEADER)}, got {','.join(header)}")
        classes = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"{path}, line {reader.line_num}"
            if len(row) != len(CLASS_TABLE_HEADER):
                raise ValueError(f"{where}: expected 5 fields (index,name,r,g,b), got {row}")
            try:
                index, r, g, b = (int(row[i]) for i in (0, 2, 3, 4))
            except ValueError:
                raise ValueError(f"{where}: index, r, g, b must be integers, got {row}") from None
            classes.append(ClassInfo(index, row[1].strip(), _as_colour((r, g, b), where)))
    try:
        return validate_classes(classes)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def write_class_table(classes: Sequence[ClassInfo], path: str | Path) -> Path:
    """Write a class table as CSV in the format :func:`read_class_table` reads."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CLASS_TABLE_HEADER)
        for info in validate_classes(classes):
            writer.writerow([info.index, info.name, *info.colour])
    return path


def _pack(rgb: np.ndarray) -> np.ndarray:
    """Colours (3, ...) as one int32 code each, r·2¹⁶ + g·2⁸ + b."""
    rgb = rgb.astype(np.int32)
    return (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]


def colours_to_indices(
    rgb: np.ndarray,
    classes: Sequence[ClassInfo] = ISPRS_CLASSES,
    *,
    ignore_colour: Colour | None = None,
    offset: tuple[int, int] = (0, 0),
    source: str = "label raster",
) -> np.ndarray:
    """Convert a colour-coded label (3, H, W) into class indices (H, W) uint8.

    Args:
        rgb: Band-first colours, as rasterio reads them; any integer dtype with values in 0..255.
        classes: The class table whose colours are accepted.
        ignore_colour: A colour mapped to :data:`IGNORE_INDEX` (e.g. the black eroded boundary).
        offset: (row, col) of ``rgb[:, 0, 0]`` in the file, so errors name the pixel in the file.
        source: What ``rgb`` was read from, for the error message.

    Returns:
        Class indices, with :data:`IGNORE_INDEX` where ``ignore_colour`` was.

    Raises:
        UnknownColourError: If a pixel's colour is neither a class colour nor ``ignore_colour``; the message
            names the colour, the first such pixel (row, col) and how many pixels are affected.
    """
    if rgb.ndim != 3 or rgb.shape[0] != 3:
        raise ValueError(f"{source}: colour labels must have shape (3, H, W), got {rgb.shape}")
    classes = validate_classes(classes)
    colours = [info.colour for info in classes]
    values = list(range(len(classes)))
    if ignore_colour is not None:
        colours.append(ignore_colour)
        values.append(IGNORE_INDEX)
    table_codes = _pack(np.array(colours, dtype=np.int32).T)
    order = np.argsort(table_codes)
    sorted_codes, sorted_values = table_codes[order], np.array(values, dtype=np.uint8)[order]
    codes = _pack(rgb)
    position = np.clip(np.searchsorted(sorted_codes, codes), 0, len(sorted_codes) - 1)
    known = sorted_codes[position] == codes
    if not known.all():
        bad = np.argwhere(~known)
        row, col = (int(v) for v in bad[0])
        colour = tuple(int(c) for c in rgb[:, row, col])
        raise UnknownColourError(
            f"{source}: colour {colour} at pixel (row {row + offset[0]}, col {col + offset[1]}) "
            f"is not in the class table ({len(bad)} pixel(s) in this window); known colours: "
            + ", ".join(f"{info.name} {info.colour}" for info in classes)
            + (f", ignored {ignore_colour}" if ignore_colour is not None else "")
        )
    return sorted_values[position]


def check_indices(
    labels: np.ndarray,
    num_classes: int,
    *,
    offset: tuple[int, int] = (0, 0),
    source: str = "label raster",
) -> np.ndarray:
    """Check an index-coded label (H, W) and return it as uint8.

    Raises:
        UnknownLabelError: If a value is neither in 0..num_classes-1 nor :data:`IGNORE_INDEX`; the message
            names the value and the first such pixel.
    """
    bad_mask = ((labels >= num_classes) & (labels != IGNORE_INDEX)) | (labels < 0)
    if bad_mask.any():
        row, col = (int(v) for v in np.argwhere(bad_mask)[0])
        raise UnknownLabelError(
            f"{source}: label value {labels[row, col]} "
            f"at pixel (row {row + offset[0]}, col {col + offset[1]}) "
            f"is not a class index 0..{num_classes - 1} nor the ignore value {IGNORE_INDEX} "
            f"({int(bad_mask.sum())} pixel(s) in this window)"
        )
    return labels.astype(np.uint8)


def indices_to_colours(labels: np.ndarray, classes: Sequence[ClassInfo] = ISPRS_CLASSES) -> np.ndarray:
    """Colour-code class indices (H, W) as (3, H, W) uint8; :data:`IGNORE_INDEX` becomes black.

    Raises:
        UnknownLabelError: If a value is neither a class index nor :data:`IGNORE_INDEX`.
    """
    classes = validate_classes(classes)
    labels = check_indices(labels, len(classes))
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[: len(classes)] = [info.colour for info in classes]
    return np.moveaxis(palette[labels], -1, 0)


def is_class_index(value: Any) -> bool:
    """Whether a class value given by a user (an attribute of a training polygon) is a class number."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return isinstance(value, str) and value.strip().isdigit()


def is_blank_class(value: Any) -> bool:
    """Whether a class value says nothing (None or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


def new_class_names(values: Iterable[Any], known: Sequence[str]) -> tuple[str, ...]:
    """The class names among ``values`` that no name of ``known`` matches case-insensitively.

    The one rule for matching a class field to a model's classes, shared by fine-tuning (which adds these
    classes) and the QGIS dock (which lists them before a run, without torch). Blank values are skipped;
    when every value is a class number, the field is read as indices and nothing is new.

    Returns:
        The new names, stripped, in the order first seen, each once (the first spelling kept).
    """
    given = [value for value in values if not is_blank_class(value)]
    if all(is_class_index(value) for value in given):
        return ()
    seen = {name.casefold() for name in known}
    new = []
    for value in given:
        name = str(value).strip()
        if name.casefold() not in seen:
            seen.add(name.casefold())
            new.append(name)
    return tuple(new)
