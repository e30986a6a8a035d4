"""A segmentation's mask: the polygons of a GeoJSON file, checked before GDAL sees them, and their extent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rasterio import features

from . import validation
from .errors import SegmentationError


def mask_polygons(path: Path) -> list[dict]:
    """The polygon geometries of a GeoJSON file (FeatureCollection, Feature or bare geometry), each checked
    (``backend.validation.mask_geometry``) before GDAL sees it.

    Raises:
        SegmentationError: For a file too large, too deeply nested, not GeoJSON, without polygons, or with a
            polygon the request layer refuses.
    """
    try:
        if path.stat().st_size > validation.MAX_MASK_BYTES:
            raise SegmentationError(f"the mask {path} is larger than {validation.MAX_MASK_BYTES >> 20} MiB")
        text = path.read_text(encoding="utf-8")
        if validation.nesting_depth(text) > validation.MAX_DEPTH:
            raise SegmentationError(f"the mask {path} nests deeper than {validation.MAX_DEPTH} levels")
        data = json.loads(text)
    except (OSError, ValueError) as error:
        if isinstance(error, SegmentationError):
            raise
        raise SegmentationError(f"cannot read the mask {path} as GeoJSON: {error}") from error
    items = data.get("features", [data]) if isinstance(data, dict) else []
    items = items if isinstance(items, list) else []
    geometries = [item.get("geometry", item) for item in items if isinstance(item, dict)]
    candidates = [
        g for g in geometries if isinstance(g, dict) and g.get("type") in ("Polygon", "MultiPolygon")
    ]
    if not candidates:
        raise SegmentationError(f"the mask {path} holds no polygons")
    counted = [0]
    try:
        return [validation.mask_geometry(f"the mask {path}", g, counted) for g in candidates]
    except validation.RequestError as error:
        raise SegmentationError(str(error)) from None


def mask_extent(polygons: list[dict], extent: Sequence[float] | None) -> tuple[float, float, float, float]:
    """The polygons' bounding box, cut to ``extent``.

    Raises:
        SegmentationError: When the polygons do not overlap ``extent``.
    """
    boxes = np.array([features.bounds(polygon) for polygon in polygons])
    left, bottom = boxes[:, 0].min(), boxes[:, 1].min()
    right, top = boxes[:, 2].max(), boxes[:, 3].max()
    if extent is not None:
        left, bottom = max(left, extent[0]), max(bottom, extent[1])
        right, top = min(right, extent[2]), min(top, extent[3])
        if not (left < right and bottom < top):
            raise SegmentationError(f"the mask's polygons do not overlap the extent {tuple(extent)}")
    return float(left), float(bottom), float(right), float(top)
