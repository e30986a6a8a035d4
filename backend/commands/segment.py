"""``geofuse segment``: classify one optical + elevation pair into a styled GeoTIFF."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_batch_size, add_device, add_tiling, band_list, extent

HELP = "segment an optical raster + elevation raster into a land-cover GeoTIFF (with .qml style)"
CANCELLED = "nothing was written"
"""What a stopped ``segment`` leaves: nothing (the outputs are placed only at the end)."""


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``segment`` and ``segment-batch``."""
    parser.add_argument("--model", type=Path, help="GeoFuse checkpoint (default: the bundled demo model)")
    add_device(parser)
    add_tiling(parser)
    add_batch_size(parser, 1)
    parser.add_argument("--bands", type=band_list, help="optical bands in the model's order, e.g. 3,2,1")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``geofuse segment``."""
    parser.add_argument("optical", help="optical raster (uint8, uint16 or float; GDAL's /vsizip/… names too)")
    parser.add_argument("elevation", help="elevation raster (DSM in metres, any CRS/resolution)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="class GeoTIFF to write")
    add_model_options(parser)
    parser.add_argument("--confidence", type=Path, help="also write the confidence (max probability) here")
    parser.add_argument("--extent", type=extent, help="left,bottom,right,top in the optical CRS")
    parser.add_argument(
        "--mask", type=Path, help="GeoJSON polygons in the optical CRS: segment only inside them"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")


def run(args: argparse.Namespace) -> int:
    """Segment, with a progress bar; errors and cancels end as ``geofuse.backend.cli.main`` says."""
    from tqdm import tqdm

    from geofuse.backend.errors import EXIT_OK
    from geofuse.backend.inference import SegmentOptions, SegmentProgress, segment_rasters

    options = SegmentOptions(
        device=args.device,
        tile=args.tile,
        overlap=args.overlap,
        batch_size=args.batch_size,
        extent=args.extent,
        optical_bands=args.bands,
        confidence_path=args.confidence,
        overwrite=args.overwrite,
        mask=args.mask,
    )
    bars: list[tqdm] = []  # made at the first tiles, so a refusal before them is one line

    def progress(state: SegmentProgress) -> None:
        if not bars:
            bars.append(tqdm(total=state.tiles_total, unit="tile", disable=args.quiet, desc=args.output.name))
        bars[0].update(state.tiles_done - bars[0].n)

    try:
        result = segment_rasters(args.optical, args.elevation, args.output, args.model, options, progress)
    finally:
        for bar in bars:
            bar.close()
    if not args.quiet:
        print(result.summary())
    return EXIT_OK
