"""``geofuse segment-batch``: segment many scenes listed in a CSV, resumably, on one or many processes.

Launched plainly it runs every row; launched with PyTorch's ``torchrun --nproc_per_node=N`` (or on a
cluster through ``torchrun``'s rendezvous) each rank takes every N-th row, so the scenes are shared without
talking to each other: no process group is needed. With CUDA each rank uses GPU ``LOCAL_RANK``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from .segment import add_model_options, error

HELP = "segment the scenes listed in a CSV (optical,elevation,output), skipping finished ones"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``geofuse segment-batch``."""
    parser.add_argument(
        "list",
        type=Path,
        help="CSV with rows optical,elevation,output (header optional; relative paths are relative to it)",
    )
    add_model_options(parser)
    parser.add_argument(
        "--confidence", action="store_true", help="also write <output>_confidence.tif beside each output"
    )


def read_scene_list(path: Path) -> list[tuple[Path, Path, Path]]:
    """Rows (optical, elevation, output) of a scene list.

    Raises:
        ValueError: For a row without exactly three fields, naming the line.
    """
    rows: list[tuple[Path, Path, Path]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            fields = [field.strip() for field in row]
            if not any(fields) or fields[0].startswith("#"):
                continue
            if number == 1 and [field.lower() for field in fields] == ["optical", "elevation", "output"]:
                continue
            if len(fields) != 3:
                raise ValueError(f"{path}, line {number}: expected optical,elevation,output, got {row}")
            optical, elevation, output = (path.parent / field for field in fields)
            rows.append((optical, elevation, output))
    return rows


def run(args: argparse.Namespace) -> int:
    """Segment this rank's share of the list; exit status 1 if any scene failed."""
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import RasterioError

    from geofuse.backend.checkpoint import CheckpointError
    from geofuse.backend.cli import exit_status
    from geofuse.backend.inference import LoadedModel, SegmentationError, SegmentOptions, segment_rasters
    from geofuse.backend.worker import error_text, explain

    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    device = args.device
    if world > 1 and device == "auto":
        import torch

        if torch.cuda.is_available():
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0')) % torch.cuda.device_count()}"
    prefix = f"[rank {rank}/{world}] " if world > 1 else ""
    try:
        scenes = read_scene_list(args.list)[rank::world]
        model = LoadedModel.load(args.model, device)
    except (OSError, ValueError, SegmentationError, CheckpointError) as failure:
        return error(f"{prefix}{failure}")
    except KeyboardInterrupt as interrupt:
        print(f"geofuse: {prefix}cancelled; nothing was written", file=sys.stderr)
        return exit_status(interrupt)

    failed = skipped = done = 0
    try:
        for optical, elevation, output in scenes:
            if output.exists() and not args.overwrite:
                print(f"{prefix}skip {output} (exists)")
                skipped += 1
                continue
            options = SegmentOptions(
                device=device,
                tile=args.tile,
                overlap=args.overlap,
                batch_size=args.batch,
                optical_bands=args.bands,
                confidence_path=(
                    output.with_name(output.stem + "_confidence.tif") if args.confidence else None
                ),
                overwrite=args.overwrite,
            )
            try:
                result = segment_rasters(optical, elevation, output, model, options)
            except (SegmentationError, ValueError, OSError, RasterioError, CPLE_BaseError) as failure:
                print(f"geofuse: error: {prefix}{optical}: {error_text(failure)}", file=sys.stderr)
                failed += 1
                continue
            except Exception as failure:  # out of memory, or a bug: this scene fails, the batch goes on
                print(f"geofuse: error: {prefix}{optical}: {explain(failure)[0]}", file=sys.stderr)
                failed += 1
                continue
            print(f"{prefix}done {output} ({result.tiles} tiles, {result.elapsed_s:.1f} s)")
            done += 1
    except KeyboardInterrupt as interrupt:  # Ctrl-C, SIGTERM, SIGHUP: the scene in progress leaves nothing
        print(
            f"geofuse: {prefix}cancelled; {done} segmented, {skipped} skipped, {failed} failed of "
            f"{len(scenes)} scene(s) before the stop",
            file=sys.stderr,
        )
        return exit_status(interrupt)
    print(f"{prefix}{done} segmented, {skipped} skipped, {failed} failed of {len(scenes)} scene(s)")
    return 1 if failed else 0
