"""``geofuse train``: train a model from a TOML config, with ``section.key=value`` overrides.

Runs alone, or one process per device under DistributedDataParallel with
``torchrun --nproc_per_node=N -m geofuse.backend.cli train ...``.
Every config key, with its default, is in ``configs/reference.toml``.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from .options import add_batch_size, add_device

HELP = "train a GeoFuse model from a TOML config (overrides as section.key=value; torchrun for DDP)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``geofuse train``."""
    parser.add_argument("--config", help="TOML training config (default: all defaults: synthetic data, a2)")
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="SECTION.KEY=VALUE",
        help="config overrides with TOML values, e.g. train.steps=200 model.variant=a1 data.root=/data",
    )
    parser.add_argument("--resume", metavar="CKPT", help="continue from a resumable checkpoint (last.pt)")
    parser.add_argument("--output", help="shortcut for train.output=DIR")
    parser.add_argument("--init", metavar="CKPT", help="start from this model (fine-tuning): train.init=CKPT")
    add_device(parser)
    parser.set_defaults(device=None)  # as the config says unless given: train.device=DEVICE
    add_batch_size(parser, None, "crops per step and process: train.batch_size=N (default: as the config)")


def run(args: argparse.Namespace) -> int:
    """Train; print the final checkpoint's path. A config or data error is a user error.

    Ctrl-C stops after the current step and writes a resumable ``last.pt`` (a cancel: its message says how
    to resume).
    """
    from geofuse.backend.errors import EXIT_OK
    from geofuse.backend.train_config import load_config
    from geofuse.backend.training import train

    overrides = list(args.overrides)
    shortcuts = {"output": args.output, "init": args.init, "device": args.device}
    overrides += [f"train.{key}={json.dumps(value)}" for key, value in shortcuts.items() if value]
    if args.batch_size is not None:
        overrides.append(f"train.batch_size={args.batch_size}")
    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: interrupted.set())
    try:
        config = load_config(args.config, overrides)
        final = train(config, cancel=interrupted.is_set, resume=args.resume)
    finally:
        signal.signal(signal.SIGINT, previous)
    print(final)
    return EXIT_OK
