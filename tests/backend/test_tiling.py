"""Tile layout: fitted tile sizes cover every axis with no more padded work than the requested tile."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from geofuse.backend.tiling import FIT_FROM, NETWORK_MULTIPLE, fit_tile, tile_starts


def padded_work(length: int, tile: int, overlap: int) -> int:
    return len(tile_starts(length, tile, overlap)) * -(-tile // NETWORK_MULTIPLE) * NETWORK_MULTIPLE


def test_known_layouts() -> None:
    # 512-px tiles, 64 overlap: 2048 and 8192 are covered by 480-px tiles with less work, 4096 divides evenly.
    assert [fit_tile(n, 512, 64) for n in (1024, 2048, 4096, 8192, 300)] == [384, 480, 512, 480, 512]
    assert len(tile_starts(8192, 480, 64)) == 20 and padded_work(8192, 480, 64) < padded_work(8192, 512, 64)
    assert fit_tile(1000, 100, 10) == 100  # below FIT_FROM: as given


@given(length=st.integers(1, 20000), tile=st.integers(FIT_FROM, 1024), share=st.floats(0, 0.45))
@settings(max_examples=200, deadline=None)
def test_a_fitted_tile_never_costs_more_and_stays_close(length: int, tile: int, share: float) -> None:
    overlap = int(tile * share)
    fitted = fit_tile(length, tile, overlap)
    if length <= tile:
        assert fitted == tile
        return
    assert 3 * tile <= 4 * fitted <= 4 * tile and fitted > overlap
    assert padded_work(length, fitted, overlap) <= padded_work(length, tile, overlap)
    starts = tile_starts(length, fitted, overlap)
    assert starts[0] == 0 and starts[-1] + fitted == length
