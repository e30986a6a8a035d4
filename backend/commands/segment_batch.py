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
from typing import TYPE_CHECKING

from .segment import add_model_options

if TYPE_CHECKING:
    from geofuse.backend.inference import LoadedModel

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
    """Segment this rank's share of the list; a scene that fails is one line and the batch goes on.

    Exit status: :data:`EXIT_OK` when every scene was segmented or skipped, else
    :data:`EXIT_INTERNAL_ERROR` if a scene failed from a bug, else :data:`EXIT_USER_ERROR`.
    """
    from geofuse.backend.cli import exit_status
    from geofuse.backend.errors import EXIT_INTERNAL_ERROR, EXIT_OK, EXIT_USER_ERROR
    from geofuse.backend.inference import LoadedModel

    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    device = _rank_device(args.device, world)
    prefix = f"[rank {rank}/{world}] " if world > 1 else ""
    scenes = read_scene_list(args.list)[rank::world]
    model = LoadedModel.load(args.model, device)
    counts = {"done": 0, "skipped": 0, "failed": 0, "bugs": 0}
    try:
        for optical, elevation, output in scenes:
            _segment_scene(args, model, device, (optical, elevation, output), prefix, counts)
    except KeyboardInterrupt as interrupt:  # Ctrl-C, SIGTERM, SIGHUP: the scene in progress leaves nothing
        print(
            f"geofuse: {prefix}cancelled; {_tally(counts, len(scenes))} before the stop",
            file=sys.stderr,
        )
        return exit_status(interrupt)
    print(f"{prefix}{_tally(counts, len(scenes))}")
    if counts["bugs"]:
        return EXIT_INTERNAL_ERROR
    return EXIT_USER_ERROR if counts["failed"] else EXIT_OK


def _rank_device(device: str, world: int) -> str:
    """Under torchrun with ``auto``, this rank's GPU (``cuda:LOCAL_RANK``) where there is CUDA."""
    if world > 1 and device == "auto":
        import torch

        if torch.cuda.is_available():
            return f"cuda:{int(os.environ.get('LOCAL_RANK', '0')) % torch.cuda.device_count()}"
    return device


def _tally(counts: dict[str, int], total: int) -> str:
    return (
        f"{counts['done']} segmented, {counts['skipped']} skipped, {counts['failed']} failed of {total} "
        "scene(s)"
    )


def _segment_scene(
    args: argparse.Namespace,
    model: LoadedModel,
    device: str,
    scene: tuple[Path, Path, Path],
    prefix: str,
    counts: dict[str, int],
) -> None:
    """Segment one scene (or skip it when its output exists), counting the outcome in ``counts``."""
    from geofuse.backend.cli import describe_failure
    from geofuse.backend.inference import SegmentOptions, segment_rasters

    optical, elevation, output = scene
    if output.exists() and not args.overwrite:
        print(f"{prefix}skip {output} (exists)")
        counts["skipped"] += 1
        return
    options = SegmentOptions(
        device=device,
        tile=args.tile,
        overlap=args.overlap,
        batch_size=args.batch_size,
        optical_bands=args.bands,
        confidence_path=output.with_name(output.stem + "_confidence.tif") if args.confidence else None,
        overwrite=args.overwrite,
    )
    try:
        result = segment_rasters(optical, elevation, output, model, options)
    except Exception as failure:  # this scene fails, the batch goes on
        message, bug = describe_failure(failure)
        print(f"geofuse: error: {prefix}{optical}: {message}", file=sys.stderr)
        counts["failed"] += 1
        counts["bugs"] += bug
        return
    print(f"{prefix}done {output} ({result.tiles} tiles, {result.elapsed_s:.1f} s)")
    counts["done"] += 1
