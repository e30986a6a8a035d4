"""A model card against the facts of the data it is evaluated on."""

from __future__ import annotations

from geofuse.backend.checkpoint import ModelCard
from geofuse.backend.data.facts import DataFacts, card_elevation, card_mismatches, isprs_defaults
from geofuse.backend.data.normalize import NormalizationConfig
from geofuse.backend.models.network import ModelConfig


def _facts(**values: object) -> DataFacts:
    return DataFacts(
        **{"kind": "folder", "root": "/data", "tiles": ("a",), "optical_band_count": 3, **values}
    )


def test_a_card_without_data_summary_fits_matching_data() -> None:
    card = ModelCard(ModelConfig(), gsd_m=0.1)
    assert card_mismatches(card, _facts(gsd_m=0.12)) == []
    assert card_mismatches(card, _facts()) == []  # unknown resolution and elevation: nothing to compare
    assert isprs_defaults(card) == {"split": "benchmark", "optical": "RGB", "elevation": "dsm"}


def test_clear_mismatches_are_named() -> None:
    card = ModelCard(ModelConfig(), gsd_m=0.1, normalization=NormalizationConfig(elevation_mode="absolute"))
    assert card_elevation(card) == "ndsm"
    found = card_mismatches(card, _facts(gsd_m=0.3, elevation="dsm", optical_bands=("IR", "R", "G")))
    assert found == [
        "the model takes bands ['R', 'G', 'B'], the data gives ['IR', 'R', 'G']",
        "the model was trained on an nDSM (height above ground), the data is a DSM (absolute heights)",
        "the model was trained at 0.1 m per pixel, the data is 0.3 m",
    ]
    assert card_mismatches(card, _facts(optical_band_count=4)) == [
        "the model takes 3 optical bands ['R', 'G', 'B'], the data has 4"
    ]
