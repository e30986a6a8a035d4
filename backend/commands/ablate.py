"""``geofuse ablate``: the paper's §4.3 table, every variant trained and evaluated under the same budget."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .options import add_batch_size, add_device, add_tiling

HELP = "train and evaluate variants under one budget; print the ablation table (Markdown and CSV)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``geofuse ablate``."""
    parser.add_argument("--config", help="TOML training config shared by all runs (default: the defaults)")
    parser.add_argument(
        "--data",
        help="folder dataset to train on (data.kind=folder, data.root=DATA); validation tiles come from "
        "data.val_root; without --data and --config: synthetic scenes",
    )
    parser.add_argument("--val-data", help="validation folder (data.val_root) for --data")
    parser.add_argument(
        "--variants",
        default="baseline,a0,a1,a2,a3",
        help="comma-separated arms: a variant, optionally with options joined by + "
        "(a2+one-to-one, a2+full-scan, a2+paper), or unet (early-fusion U-Net; needs the bench extra)",
    )
    parser.add_argument(
        "--domains",
        default="home",
        help="comma-separated domains, each trained and scored on its own scenes: home (the configured "
        "data; synthetic home scenes by default), and for synthetic data hard (small objects, shadows, a "
        "noisy DSM, trees over roofs) and shifted (another city)",
    )
    parser.add_argument("--seeds", type=int, default=3, help="runs per variant (seeds 0..N-1)")
    parser.add_argument("--steps", type=int, help="training steps per run (train.steps)")
    parser.add_argument("--output", default="runs/ablation", help="folder for the runs and the tables")
    add_tiling(parser, tile=512)  # the evaluation's sliding window
    add_device(parser)
    parser.set_defaults(device=None)  # as the config says unless given: train.device=DEVICE
    add_batch_size(parser, None, "training crops per step: train.batch_size=N (default: as the config)")
    parser.add_argument("--cost-size", type=int, default=256, help="input side for FLOPs and throughput")
    parser.add_argument(
        "overrides", nargs="*", metavar="SECTION.KEY=VALUE", help="config overrides, as for geofuse train"
    )


def run(args: argparse.Namespace) -> int:
    """Run the ablation, print the Markdown table, write ablation.md and ablation.csv."""
    from geofuse.backend.ablation import ablation_markdown, run_ablation, write_ablation
    from geofuse.backend.errors import EXIT_OK
    from geofuse.backend.train_config import load_config

    overrides = []
    if args.data:
        overrides += ["data.kind=folder", f"data.root={json.dumps(args.data)}"]
    if args.val_data:
        overrides.append(f"data.val_root={json.dumps(args.val_data)}")
    if args.steps:
        overrides.append(f"train.steps={args.steps}")
    if args.device:
        overrides.append(f"train.device={json.dumps(args.device)}")
    if args.batch_size is not None:
        overrides.append(f"train.batch_size={args.batch_size}")
    overrides += args.overrides
    config = load_config(args.config, overrides)
    variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    domains = [name.strip() for name in args.domains.split(",") if name.strip()]
    results = run_ablation(
        config,
        variants,
        args.seeds,
        Path(args.output),
        domains=domains,
        tile=args.tile,
        overlap=args.overlap,
        cost_size=args.cost_size,
        log=lambda line: print(line, file=sys.stderr),
    )
    markdown, table = write_ablation(results, args.output)
    print(ablation_markdown(results))
    print(f"written: {markdown}, {table}")
    return EXIT_OK
