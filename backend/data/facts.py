"""What is known about the data an evaluation reads, and whether a model card fits it.

An IRRG + nDSM model scored on RGB + DSM tiles runs without error and reports nonsense (OA 5 %). So
``geofuse evaluate`` compares the card (band names, elevation kind, resolution) with the facts of the data
it is given and refuses a clear mismatch unless forced; the facts are written into the report beside
every number. The ISPRS benchmarks state their facts (bands, nDSM or DSM, 9 / 5 cm); a folder of one's own
rasters states only its band count and, when georeferenced, its resolution.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from geofuse.backend.checkpoint import ModelCard
from geofuse.backend.data.isprs import POTSDAM_ELEVATION, POTSDAM_OPTICAL

GSD_TOLERANCE = 1.5
"""Resolutions further apart than this factor are a clear mismatch (Vaihingen's 9 cm vs Potsdam's 5 cm)."""


@dataclass(frozen=True)
class DataFacts:
    """The data of an evaluation.

    Attributes:
        kind: ``folder``, ``vaihingen``, ``potsdam`` or ``synthetic``.
        root: Where it was read from.
        tiles: Tile names or ids, in order.
        optical_band_count: Bands of the optical input.
        optical_bands: Band names when the dataset states them (ISPRS), else None.
        elevation: ``"dsm"`` (absolute heights) or ``"ndsm"`` (height above ground), None if unknown.
        gsd_m: Ground sampling distance, None if unknown.
        split, part: ISPRS split (``benchmark`` / ``fusion-papers``) and part (``test`` / ``train``).
        optical_source, elevation_source, labels_source: ISPRS products the files came from.
    """

    kind: str
    root: str
    tiles: tuple[str, ...]
    optical_band_count: int
    optical_bands: tuple[str, ...] | None = None
    elevation: str | None = None
    gsd_m: float | None = None
    split: str | None = None
    part: str | None = None
    optical_source: str | None = None
    elevation_source: str | None = None
    labels_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the JSON report."""
        data = dataclasses.asdict(self)
        data["tiles"] = list(self.tiles)
        data["optical_bands"] = list(self.optical_bands) if self.optical_bands else None
        return data


def card_data(card: ModelCard) -> dict[str, Any]:
    """The data summary the card's training recorded (empty for cards without one)."""
    data = card.training.get("data")
    return data if isinstance(data, dict) else {}


def card_elevation(card: ModelCard) -> str:
    """The elevation kind a model was trained on: as recorded, else implied by its normalisation."""
    recorded = card_data(card).get("elevation")
    if recorded in POTSDAM_ELEVATION:
        return recorded
    return "ndsm" if card.normalization.elevation_mode == "absolute" else "dsm"


def isprs_defaults(card: ModelCard) -> dict[str, str]:
    """The ISPRS choices an evaluation takes when not given: the split, Potsdam optical and elevation the
    model was trained with (benchmark, RGB, DSM for cards that record none)."""
    data = card_data(card)
    optical = data.get("optical")
    return {
        "split": str(data.get("split") or "benchmark"),
        "optical": optical if optical in POTSDAM_OPTICAL else "RGB",
        "elevation": card_elevation(card),
    }


def card_mismatches(card: ModelCard, facts: DataFacts) -> list[str]:
    """Clear contradictions between a model card and the data (one sentence each; empty if it fits)."""
    found = []
    if facts.optical_band_count != len(card.optical_bands):
        found.append(
            f"the model takes {len(card.optical_bands)} optical bands {list(card.optical_bands)}, "
            f"the data has {facts.optical_band_count}"
        )
    elif facts.optical_bands is not None and tuple(facts.optical_bands) != tuple(card.optical_bands):
        found.append(
            f"the model takes bands {list(card.optical_bands)}, the data gives {list(facts.optical_bands)}"
        )
    trained = card_elevation(card)
    if facts.elevation is not None and facts.elevation != trained:
        names = {"dsm": "a DSM (absolute heights)", "ndsm": "an nDSM (height above ground)"}
        found.append(f"the model was trained on {names[trained]}, the data is {names[facts.elevation]}")
    if facts.gsd_m:
        ratio = max(facts.gsd_m, card.gsd_m) / min(facts.gsd_m, card.gsd_m)
        if ratio > GSD_TOLERANCE:
            found.append(
                f"the model was trained at {card.gsd_m:g} m per pixel, the data is {facts.gsd_m:g} m"
            )
    return found
