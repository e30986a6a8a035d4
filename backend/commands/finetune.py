"""``geofuse finetune``: adapt a model to your imagery from a few digitised training polygons.

The same run as ``geofuse train`` with ``data.kind = "polygons"`` and ``train.init``, with the options an
analyst needs and an output that is one ``.pt`` file (written only when the run finishes).
"""

from __future__ import annotations

import argparse
import signal
import threading

from .options import add_batch_size, add_device, band_list

HELP = "adapt a model to your imagery from training polygons with a class field (fine-tuning)"
CANCELLED = "nothing was written"
"""What a stopped ``finetune`` leaves: nothing (the model is written only when the run finishes)."""


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
        "--bands", type=band_list, default=(), help="optical bands in the model's order, e.g. 3,2,1"
    )
    add_batch_size(parser, 4, "crops per step")
    parser.add_argument("--crop", type=int, default=256, help="crop size in pixels (default 256)")
    parser.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (default 5e-4)")
    add_device(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of crops and augmentation")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def run(args: argparse.Namespace) -> int:
    """Fine-tune; print the new model's path and card. Ctrl-C cancels (``geofuse.backend.cli.main``)."""
    from geofuse.backend.checkpoint import load_checkpoint
    from geofuse.backend.errors import EXIT_OK
    from geofuse.backend.finetune import FinetuneRequest, finetune
    from geofuse.backend.inference import DEMO_MODEL

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
    finally:
        signal.signal(signal.SIGINT, previous)
    print(model)
    print(load_checkpoint(model).card.describe())
    return EXIT_OK
