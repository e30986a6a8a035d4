"""``geofuse train``: train a model from a TOML config, with ``section.key=value`` overrides.

Runs alone, or one process per device under DistributedDataParallel with
``torchrun --nproc_per_node=N -m geofuse.backend.cli train ...``.
Every config key, with its default, is in ``configs/reference.toml``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

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


def run(args: argparse.Namespace) -> int:
    """Train; print the final checkpoint's path. Exit 2 on a config or data error.

    Ctrl-C stops after the current step and writes a resumable ``last.pt`` (exit 130).
    """
    from geofuse.backend.checkpoint import CheckpointError
    from geofuse.backend.train_config import load_config
    from geofuse.backend.training import TrainingCancelled, train

    overrides = list(args.overrides)
    if args.output:
        overrides.append(f"train.output={json.dumps(args.output)}")
    if args.init:
        overrides.append(f"train.init={json.dumps(args.init)}")
    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: interrupted.set())
    try:
        config = load_config(args.config, overrides)
        final = train(config, cancel=interrupted.is_set, resume=args.resume)
    except (FileNotFoundError, ValueError, CheckpointError) as error:
        print(f"geofuse train: {error}", file=sys.stderr)
        return 2
    except TrainingCancelled as error:
        print(f"geofuse train: {error}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    print(final)
    return 0
