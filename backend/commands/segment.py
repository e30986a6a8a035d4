"""``geofuse segment``: classify one optical + elevation pair into a styled GeoTIFF."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geofuse.backend import validation

HELP = "segment an optical raster + elevation raster into a land-cover GeoTIFF (with .qml style)"


def _numbers(text: str) -> list[int | float]:
    """Comma-separated numbers as written (``2`` an int, ``2.5`` a float), for the request layer to judge."""
    values: list[int | float] = []
    for part in text.split(","):
        try:
            values.append(int(part))
        except ValueError:
            try:
                values.append(float(part))
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected comma-separated numbers, got {validation.echo(text)}"
                ) from None
    return values


def _checked(check: Callable[[str, Any], Any], value: Any) -> Any:
    """``value`` through one of backend.validation's checks, so the CLI accepts exactly what the worker
    (and so Processing) accepts; its refusal becomes argparse's one-line usage error."""
    try:
        return check("value", value)
    except validation.RequestError as error:
        raise argparse.ArgumentTypeError(str(error).replace("'value' ", "")) from None


def band_list(text: str) -> tuple[int, ...]:
    """``"3,2,1"`` → ``(3, 2, 1)``: 1-based band indices (whole numbers: ``1.5`` is refused)."""
    return _checked(validation.bands, _numbers(text))


def extent(text: str) -> tuple[float, float, float, float]:
    """``"left,bottom,right,top"`` in the optical raster's CRS: finite, of sane size, a box."""
    return _checked(validation.extent, _numbers(text))


def ranged(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type: one integer in ``minimum..maximum``."""

    def parse(text: str) -> int:
        (value,) = _numbers(text) if "," not in text else [text]
        return _checked(lambda name, item: validation.integer(name, item, minimum, maximum), value)

    return parse


positive = ranged(1, validation.MAX_TILE)
"""A positive integer option (at most the request layer's largest tile)."""


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``segment`` and ``segment-batch``."""
    parser.add_argument("--model", type=Path, help="GeoFuse checkpoint (default: the bundled demo model)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda or cuda:N")
    parser.add_argument(
        "--tile",
        type=positive,
        default=None,
        help="tile size in pixels (default: 512, or the training crop if larger)",
    )
    parser.add_argument(
        "--overlap",
        type=ranged(0, validation.MAX_TILE - 1),
        default=64,
        help="tile overlap in pixels (default: 64)",
    )
    parser.add_argument(
        "--batch", type=ranged(1, validation.MAX_BATCH), default=1, help="tiles per forward pass (default: 1)"
    )
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


def error(message: str) -> int:
    """Print one clean error line and return the exit status of a failed run."""
    print(f"geofuse: error: {message}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    """Segment, with a progress bar; user errors give one line on stderr and exit status 1."""
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import RasterioError
    from tqdm import tqdm

    from geofuse.backend.checkpoint import CheckpointError
    from geofuse.backend.cli import exit_status
    from geofuse.backend.inference import (
        SegmentationCancelled,
        SegmentationError,
        SegmentOptions,
        SegmentProgress,
        segment_rasters,
    )
    from geofuse.backend.worker import error_text, explain

    options = SegmentOptions(
        device=args.device,
        tile=args.tile,
        overlap=args.overlap,
        batch_size=args.batch,
        extent=args.extent,
        optical_bands=args.bands,
        confidence_path=args.confidence,
        overwrite=args.overwrite,
        mask=args.mask,
    )
    bar = tqdm(total=0, unit="tile", disable=args.quiet, desc=args.output.name)

    def progress(state: SegmentProgress) -> None:
        bar.total = state.tiles_total
        bar.update(state.tiles_done - bar.n)

    try:
        result = segment_rasters(args.optical, args.elevation, args.output, args.model, options, progress)
    except SegmentationCancelled:
        bar.close()
        print("geofuse: cancelled; nothing was written", file=sys.stderr)
        return 130
    except (SegmentationError, CheckpointError, ValueError, OSError, RasterioError, CPLE_BaseError) as failed:
        bar.close()  # unreadable inputs, unwritable folders and full disks included
        return error(error_text(failed))
    except Exception as failed:  # out of memory, or a bug: one line saying which, not a traceback
        bar.close()
        return error(explain(failed)[0])
    except KeyboardInterrupt as interrupt:  # Ctrl-C, SIGTERM, SIGHUP (geofuse.backend.cli.stop_signals)
        bar.close()
        print("geofuse: cancelled; nothing was written", file=sys.stderr)
        return exit_status(interrupt)
    bar.close()
    if not args.quiet:
        print(result.summary())
    return 0
