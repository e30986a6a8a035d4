"""``geofuse finetune``: adapt a model to your imagery from a few digitised training polygons.

The same run as ``geofuse train`` with ``data.kind = "polygons"`` and ``train.init``, with the options an
analyst needs and an output that is one ``.pt`` file (written only when the run finishes).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

HELP = "adapt a model to your imagery from training polygons with a class field (fine-tuning)"


def _bands(text: str) -> tuple[int, ...]:
    try:
        bands = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of band numbers") from None
    if not bands or min(bands) < 1:
        raise argparse.ArgumentTypeError(f"band numbers start at 1, got {text!r}")
    return bands


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``geofuse finetune``."""
    parser.add_argument("--optical", required=True, help="optical raster the polygons were drawn on")
    parser.add_argument("--elevation", required=True, help="elevation raster (DSM; any grid, any CRS)")
    parser.add_argument(
        "--polygons", required=True, help="training polygons: GeoPackage, GeoJSON, Shapefile (any CRS)"
    )
    parser.add_argument("--layer", default="", help="layer of the polygon file (default: the first)")
    parser.add_argument(
        "--class-field", default="class", help="field with class names or class indices (default: class)"
    )
    parser.add_argument("--init", default="", metavar="MODEL", help="base model (default: the bundled one)")
    parser.add_argument("-o", "--output", required=True, help="the new model (.pt)")
    parser.add_argument("--minutes", type=float, default=5.0, help="time budget (default 5; 0 = none)")
    parser.add_argument("--steps", type=int, default=1000, help="step budget (default 1000)")
    parser.add_argument(
        "--freeze-steps", type=int, default=0, help="first steps with both encoders frozen (default 0)"
    )
    parser.add_argument(
        "--bands", type=_bands, default=(), help="optical bands in the model's order, e.g. 3,2,1"
    )
    parser.add_argument("--batch-size", type=int, default=4, help="crops per step (default 4)")
    parser.add_argument("--crop", type=int, default=256, help="crop size in pixels (default 256)")
    parser.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (default 5e-4)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    parser.add_argument("--seed", type=int, default=0, help="seed of crops and augmentation")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def run(args: argparse.Namespace) -> int:
    """Fine-tune; print the new model's path and card. Exit 2 on bad input, 130 when cancelled (Ctrl-C)."""
    from geofuse.backend.checkpoint import CheckpointError, load_checkpoint
    from geofuse.backend.finetune import FinetuneRequest, finetune
    from geofuse.backend.inference import DEMO_MODEL
    from geofuse.backend.training import TrainingCancelled

    request = FinetuneRequest(
        optical=args.optical,
        elevation=args.elevation,
        polygons=args.polygons,
        class_field=args.class_field,
        output=args.output,
        base=args.init or str(DEMO_MODEL),
        layer=args.layer,
        bands=args.bands,
        minutes=args.minutes,
        steps=args.steps,
        freeze_encoder_steps=args.freeze_steps,
        batch_size=args.batch_size,
        crop_size=args.crop,
        lr=args.lr,
        device=args.device,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: interrupted.set())
    try:
        model = finetune(request, cancel=interrupted.is_set)
    except (FileNotFoundError, FileExistsError, ValueError, CheckpointError) as error:
        print(f"geofuse finetune: {error}", file=sys.stderr)
        return 2
    except TrainingCancelled:
        print("geofuse finetune: cancelled; nothing was written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    print(model)
    print(load_checkpoint(model).card.describe())
    return 0
