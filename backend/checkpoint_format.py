"""What makes a file a GeoFuse checkpoint, as plain rules without torch (the QGIS side reads cards too).

:mod:`.checkpoint` writes and loads checkpoints with torch; the dock's card reader
(``geofuse.plugin.dock.card``) reads the card inside QGIS, where torch is never imported. Both check a file
against the rules here, so the two readers cannot drift apart: the format marker, the schema version, the
size limits of a card and which training crop a card records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CHECKPOINT_FORMAT = "geofuse-checkpoint"
"""The ``format`` entry of every GeoFuse checkpoint's payload."""
FORMAT_VERSION = 1
"""Schema version of the whole file (payload layout and model card), written by ``save_checkpoint``.

Every GeoFuse checkpoint ever written carries it, so a file without it is refused rather than guessed at.
Bump it when the card or the payload changes in a way this code's readers would misread.
"""
MAX_CARD_DEPTH = 32
"""Deepest nesting of a card's mappings and lists (the card itself needs four levels)."""
MAX_CARD_ITEMS = 100_000
"""Most values a card may hold in all (keys, list items, scalars)."""
MAX_CARD_TEXT = 1 << 16
"""Longest string a card may hold."""
MAX_CARD_INT = 1 << 16
"""Largest integer setting of the architecture (channels, state sizes, fusion widths)."""
MIN_TRAINING_CROP = 32
"""Smallest training crop a card may record; a smaller (or no) crop counts as none."""


def format_problem(payload: Any, name: str) -> str | None:
    """Why the unpickled ``payload`` of the file ``name`` is no checkpoint this version reads; None if it is.

    Args:
        payload: What the file's ``data.pkl`` holds.
        name: The file, as the message should name it.
    """
    if not isinstance(payload, Mapping) or payload.get("format") != CHECKPOINT_FORMAT:
        return f"{name} is a PyTorch file but not a GeoFuse checkpoint"
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        return f"{name}: checkpoint format version is missing or not a number: {version!r}"
    if version > FORMAT_VERSION:
        return (
            f"{name} uses checkpoint format version {version}, made by a newer GeoFuse; this version reads "
            f"format {FORMAT_VERSION}. Update GeoFuse."
        )
    if version < 1:
        return f"{name}: unknown checkpoint format version {version}"
    return None


def card_shape_problem(card: Any) -> str | None:
    """Why a card is too deep, too large or holds a huge string; None when its shape is fine.

    Walks without recursion, so a card nested 5000 deep is refused instead of ending in a RecursionError,
    before anything else reads it.
    """
    pending: list[tuple[Any, int]] = [(card, 0)]
    count = 0
    while pending:
        value, depth = pending.pop()
        count += 1
        if count > MAX_CARD_ITEMS:
            return f"the model card holds more than {MAX_CARD_ITEMS:,} values"
        if depth > MAX_CARD_DEPTH:
            return f"the model card nests deeper than {MAX_CARD_DEPTH} levels"
        if isinstance(value, str) and len(value) > MAX_CARD_TEXT:
            return f"the model card holds a text of {len(value):,} characters"
        if isinstance(value, Mapping):
            pending += [(item, depth + 1) for pair in value.items() for item in pair]
        elif isinstance(value, list | tuple):
            pending += [(item, depth + 1) for item in value]
    return None


def training_crop(training: Any) -> int:
    """The training crop size a card's ``training`` summary records, or 0 when it records none usable."""
    crop = training.get("crop_size") if isinstance(training, Mapping) else None
    usable = isinstance(crop, int) and not isinstance(crop, bool) and crop >= MIN_TRAINING_CROP
    return crop if usable else 0
