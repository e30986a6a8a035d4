"""The GeoFuse network and its building blocks (paper: dual-branch encoder, SFB, frequency-aware decoder)."""

from .network import GeoFuseNet, ModelConfig, build_model
from .selective_scan import selective_scan_fn

__all__ = ["GeoFuseNet", "ModelConfig", "build_model", "selective_scan_fn"]
