"""One input-validation layer for segmentation requests: the worker, the CLI and Processing share it.

Everything a request may say is checked here, before any file is opened or torch is imported: the raw
line (size, UTF-8, JSON nesting depth), each field's type and range (integers that are integers, finite
numbers of sane size, paths that are non-empty text without NUL bytes, an extent that is a box), so that
hostile or mistaken input gets one clear line instead of a traceback deep in GDAL or torch. Messages echo
the bad value bounded (:func:`echo`): a 100 MB line or a 400-digit number is never sent back whole.

Pure Python on purpose: QGIS imports it (``plugin/worker_client.py``), and the CLI's argument types use it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import GeoFuseError

MAX_REQUEST_BYTES = 1 << 20
"""The longest request line read (paths and a few numbers; 1 MiB is generous)."""

MAX_DEPTH = 64
"""Deepest nesting of JSON arrays and objects in a request (a training config needs a handful)."""

MAX_DIGITS = 32
"""Longest integer literal accepted in a request."""

MAX_PATH = 4096
"""Longest path accepted (PATH_MAX on Linux)."""

MAX_COORDINATE = 1e15
"""Largest magnitude of an extent coordinate: beyond any CRS's range, well inside float precision."""

MAX_TILE = 16384
"""Largest tile (pixels per side) a request may ask for."""

MAX_BATCH = 1024
"""Most tiles per forward pass a request may ask for."""

ECHO_CHARS = 80
"""How much of a bad value an error message repeats."""


class RequestError(GeoFuseError):
    """A request the worker cannot act on (unreadable line, unknown command, missing or mistyped field)."""


def echo(value: Any) -> str:
    """A bad value as an error message may repeat it: its ``repr``, cut to :data:`ECHO_CHARS`."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return (
            f"an integer of {len(str(abs(value))) if value.bit_length() < 10000 else 'thousands of'} digits"
        )
    if isinstance(value, str | bytes) and len(value) > 4 * ECHO_CHARS:
        value = value[: 4 * ECHO_CHARS]
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= ECHO_CHARS else f"{text[: ECHO_CHARS - 1]}… ({len(text)} characters)"


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The JSON nesting depth of ``text``, counted up to ``limit + 1`` without parsing (strings skipped),
    so that a line nested 100,000 deep is refused before the parser recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> float:
    raise RequestError(f"{name} is not a number a request may hold")


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_DIGITS:
        raise RequestError(f"a number of {len(literal.lstrip('-'))} digits is not a value a request may hold")
    return int(literal)


def _real(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise RequestError(f"{echo(literal)} is too large a number")
    return value


def parse_request(line: bytes | str) -> dict[str, Any]:
    """The request object on one line, checked for size, encoding, depth and number literals.

    Raises:
        RequestError: Saying what is wrong with the line, echoing at most a bounded piece of it.
    """
    size = len(line)
    if size > MAX_REQUEST_BYTES:
        raise RequestError(f"the request is {size:,} bytes long; at most {MAX_REQUEST_BYTES:,} are read")
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            found = echo(line[error.start : error.start + 4])
            raise RequestError(f"the request is not UTF-8 text (byte {error.start}: {found})") from None
    else:
        text = line
    if not text.strip():
        raise RequestError("the request is empty (expected one JSON object on one line)")
    if nesting_depth(text) > MAX_DEPTH:
        raise RequestError(f"the request nests deeper than {MAX_DEPTH} levels")
    try:
        request = json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_refuse_constant)
    except ValueError as error:
        if isinstance(error, RequestError):
            raise
        raise RequestError(f"the request is not JSON ({error.msg} at character {error.pos})") from None
    if not isinstance(request, dict):
        raise RequestError(f"the request must be a JSON object, got {echo(request)}")
    return request


# ------------------------------------------------------------------------------------------------ fields


def integer(name: str, value: Any, minimum: int, maximum: int) -> int:
    """``value`` as an integer in ``minimum..maximum`` (a float without fraction counts; 2.5, True do not)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RequestError(f"'{name}' must be a whole number, got {echo(value)}")
    if not minimum <= value <= maximum:
        raise RequestError(f"'{name}' must be in {minimum}..{maximum}, got {echo(value)}")
    return value


def number(name: str, value: Any, limit: float = MAX_COORDINATE) -> float:
    """``value`` as a finite number of magnitude at most ``limit``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise RequestError(f"'{name}' must be a number, got {echo(value)}")
    if isinstance(value, int) and value.bit_length() > 64:
        raise RequestError(f"'{name}' is out of range: {echo(value)}")
    value = float(value)
    if not math.isfinite(value) or abs(value) > limit:
        raise RequestError(
            f"'{name}' must be a finite number of magnitude at most {limit:g}, got {echo(value)}"
        )
    return value


def path(name: str, value: Any) -> str:
    """``value`` as a path: non-empty text, without NUL bytes, at most :data:`MAX_PATH` characters."""
    if not isinstance(value, str):
        raise RequestError(f"'{name}' must be a path (text), got {echo(value)}")
    if not value.strip() or "\0" in value or len(value) > MAX_PATH:
        raise RequestError(f"'{name}' is not a usable path: {echo(value)}")
    return value


def label(name: str, value: Any) -> str:
    """``value`` as a short printable text (a band description): one line, at most 200 characters."""
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or not value.isprintable():
        raise RequestError(
            f"'{name}' must be one printable line of at most 200 characters, got {echo(value)}"
        )
    return value


def flag(name: str, value: Any) -> bool:
    """``value`` as true or false (JSON booleans only: "no" and 0 are not)."""
    if not isinstance(value, bool):
        raise RequestError(f"'{name}' must be true or false, got {echo(value)}")
    return value


def device(name: str, value: Any) -> str:
    """A device name's spelling (``auto``, ``cpu``, ``cuda``, ``cuda:N``); whether it exists is checked
    where torch is."""
    if not isinstance(value, str) or not (
        value in ("auto", "cpu", "cuda")
        or (value.startswith("cuda:") and value[5:].isdigit() and len(value) < 12)
    ):
        raise RequestError(f"'{name}' must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {echo(value)}")
    return value


def extent(name: str, value: Any) -> tuple[float, float, float, float]:
    """``[left, bottom, right, top]``: four finite coordinates with left < right and bottom < top."""
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise RequestError(f"'{name}' must be [left, bottom, right, top], got {echo(value)}")
    left, bottom, right, top = (number(name, item) for item in value)
    if not (left < right and bottom < top):
        raise RequestError(f"'{name}' must have left < right and bottom < top, got {echo(list(value))}")
    return left, bottom, right, top


def bands(name: str, value: Any) -> tuple[int, ...]:
    """A non-empty list of 1-based band numbers (whole numbers: 1.5 is refused, not truncated)."""
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= 256:
        raise RequestError(f"'{name}' must be a list of 1 to 256 band numbers, got {echo(value)}")
    return tuple(integer(name, item, 1, 65535) for item in value)


@dataclass(frozen=True)
class Field:
    """One request field: its check, and whether it must be given."""

    check: Callable[[str, Any], Any]
    required: bool = False


def _ranged(minimum: int, maximum: int) -> Callable[[str, Any], int]:
    return lambda name, value: integer(name, value, minimum, maximum)


COMMON_FIELDS = {"command": Field(lambda name, value: value, True), "stop_on_stdin_close": Field(flag)}

SEGMENT_FIELDS = {
    "model": Field(path),
    "confidence": Field(path),
    "mask": Field(path),
    "class_band_description": Field(label),
    "confidence_band_description": Field(label),
    "device": Field(device),
    "tile": Field(_ranged(1, MAX_TILE)),
    "overlap": Field(_ranged(0, MAX_TILE - 1)),
    "batch_size": Field(_ranged(1, MAX_BATCH)),
    "extent": Field(extent),
    "optical_bands": Field(bands),
    "overwrite": Field(flag),
    "optical": Field(path, True),
    "elevation": Field(path, True),
    "output": Field(path, True),
}
"""The fields of a ``segment`` request (``null`` means "not given" for the optional ones)."""


def check_fields(request: Mapping[str, Any], fields: Mapping[str, Field]) -> tuple[dict[str, Any], list[str]]:
    """The request's fields checked (None for optional ones not given), and its unknown keys.

    Unknown keys are returned rather than refused, so an older worker serves a newer plugin's request;
    the worker logs them as ignored.

    Raises:
        RequestError: For a missing required field or one of the wrong type or range.
    """
    checked: dict[str, Any] = {}
    for name, spec in fields.items():
        value = request.get(name)
        if value is None:
            if spec.required:
                raise RequestError(f"the request lacks '{name}'")
            checked[name] = None
            continue
        checked[name] = spec.check(name, value)
    unknown = sorted(str(key) for key in request if key not in fields and key not in COMMON_FIELDS)
    return checked, unknown


def check_segment_request(request: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A ``segment`` request's fields checked, and its unknown keys (see :func:`check_fields`)."""
    checked, unknown = check_fields(request, SEGMENT_FIELDS)
    tile, overlap = checked["tile"], checked["overlap"]
    if tile is not None and overlap is not None and overlap >= tile:
        raise RequestError(f"'overlap' ({overlap}) must be less than 'tile' ({tile})")
    return checked, unknown


def check_request(request: Any) -> None:
    """Check a request before it is sent (the QGIS side): that it makes a request line the worker reads
    (JSON without NaN, within the size, depth and number limits). Its fields are checked by the worker,
    with the same functions, and a refusal comes back as the worker's one error message.

    Raises:
        RequestError: As :func:`parse_request`, or for a value JSON cannot carry.
    """
    try:
        line = json.dumps(request, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise RequestError(f"the request cannot be sent as JSON: {error}") from None
    parse_request(line)


MAX_MASK_BYTES = 256 << 20
"""Largest mask GeoJSON file read."""

MAX_MASK_POSITIONS = 10_000_000
"""Most vertices a mask may hold in all."""


def _ring(where: str, ring: Any, counted: list[int]) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise RequestError(f"{where}: a ring must be a list of at least 4 positions, got {echo(ring)}")
    counted[0] += len(ring)
    if counted[0] > MAX_MASK_POSITIONS:
        raise RequestError(f"{where}: more than {MAX_MASK_POSITIONS:,} vertices")
    for position in ring:
        if not isinstance(position, list) or not 2 <= len(position) <= 4:
            raise RequestError(f"{where}: a position must be [x, y], got {echo(position)}")
        for value in position[:2]:
            number(where, value)


def mask_geometry(where: str, geometry: Any, counted: list[int] | None = None) -> dict[str, Any]:
    """A GeoJSON Polygon or MultiPolygon whose every coordinate is a finite number of sane size: the
    geometry libraries beneath (GDAL's rasterizer) crash on strings or empty rings instead of refusing.

    Raises:
        RequestError: Naming ``where`` and the first bad part.
    """
    counted = counted if counted is not None else [0]
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if kind not in ("Polygon", "MultiPolygon") or not isinstance(polygons, list) or not polygons:
        raise RequestError(
            f"{where}: expected a Polygon or MultiPolygon with coordinates, got {echo(geometry)}"
        )
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise RequestError(f"{where}: a polygon needs at least one ring, got {echo(polygon)}")
        for ring in polygon:
            _ring(where, ring, counted)
    return geometry
