"""The GeoFuse network and its building blocks (paper: dual-branch encoder, SFB, frequency-aware decoder)."""

from .selective_scan import selective_scan_fn

__all__ = ["selective_scan_fn"]
