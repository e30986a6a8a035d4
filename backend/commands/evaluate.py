"""``geofuse evaluate``: score a model on whole tiles (sliding window) and write a JSON report and a PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .options import add_batch_size, add_device, add_tiling

if TYPE_CHECKING:
    from geofuse.backend.metrics import SegmentationMetrics

HELP = "evaluate a model on whole tiles: OA, per-class P/R/F1/IoU, mF1/mIoU (5 ISPRS classes and all)"


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Dataset options of ``geofuse evaluate``."""
    parser.add_argument(
        "--data", help="dataset folder, or an ISPRS download (zips or unpacked) (synthetic: where to write)"
    )
    parser.add_argument(
        "--kind",
        default="folder",
        choices=("folder", "vaihingen", "potsdam", "synthetic"),
        help="dataset kind",
    )
    parser.add_argument(
        "--split",
        choices=("benchmark", "fusion-papers"),
        help="ISPRS split (default: the one the model was trained with, else benchmark)",
    )
    parser.add_argument("--part", default="test", choices=("test", "train"), help="ISPRS split part")
    parser.add_argument("--tiles", help="ISPRS tile ids instead of the part, comma-separated (e.g. 5,21)")
    parser.add_argument(
        "--potsdam-optical",
        choices=("RGB", "RGBIR", "IRRG"),
        help="default: as the model was trained (else RGB)",
    )
    parser.add_argument(
        "--potsdam-elevation", choices=("dsm", "ndsm"), help="default: as the model was trained (else dsm)"
    )
    parser.add_argument("--synthetic-seed", type=int, default=1000, help="generator seed of held-out scenes")
    parser.add_argument("--synthetic-count", type=int, default=4)
    parser.add_argument("--synthetic-size", type=int, default=512)
    parser.add_argument(
        "--force",
        action="store_true",
        help="evaluate even when the model card contradicts the data (bands, elevation kind, resolution)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``geofuse evaluate``."""
    parser.add_argument("--model", required=True, help="checkpoint (.pt)")
    add_data_arguments(parser)
    parser.add_argument(
        "--output", default="evaluation", help="folder for metrics.json, report.html and confusion.png"
    )
    add_tiling(parser)
    add_batch_size(parser, 1)
    add_device(parser)
    parser.add_argument(
        "--eroded", type=int, default=0, metavar="RADIUS", help="also score with boundaries eroded (ISPRS: 3)"
    )
    parser.add_argument(
        "--zero-elevation",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="feed a zero elevation (default: as the model was trained)",
    )


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the headline scores. A model or data error, or a card that contradicts the data
    (unless ``--force``), is a user error (``geofuse.backend.cli.main``)."""
    from geofuse.backend.checkpoint import load_checkpoint
    from geofuse.backend.data.facts import card_mismatches, isprs_defaults
    from geofuse.backend.data.kinds import dataset_tiles
    from geofuse.backend.device import resolve_device
    from geofuse.backend.errors import EXIT_OK, GeoFuseError
    from geofuse.backend.evaluation import evaluate_tiles, plot_confusion_matrix, write_report
    from geofuse.backend.report_html import report_html

    output = Path(args.output)
    checkpoint = load_checkpoint(args.model)
    device = resolve_device(args.device)
    root = args.data or str(output / "data")
    if args.kind != "synthetic" and not args.data:
        raise GeoFuseError("--data is required for this dataset kind")
    defaults = isprs_defaults(checkpoint.card)
    tiles, facts = dataset_tiles(
        args.kind,
        root,
        split=args.split or defaults["split"],
        part=args.part,
        tiles=[tile for tile in args.tiles.split(",") if tile.strip()] if args.tiles else None,
        potsdam_optical=args.potsdam_optical or defaults["optical"],
        potsdam_elevation=args.potsdam_elevation or defaults["elevation"],
        synthetic_seed=args.synthetic_seed,
        synthetic_count=args.synthetic_count,
        synthetic_size=args.synthetic_size,
    )
    mismatches = card_mismatches(checkpoint.card, facts)
    if mismatches and not args.force:
        raise GeoFuseError(
            "the model does not fit this data: " + "; ".join(mismatches) + " (--force evaluates anyway)"
        )
    model = checkpoint.build_model(device)
    result = evaluate_tiles(
        model,
        checkpoint.card,
        tiles,
        tile=args.tile,
        overlap=args.overlap,
        batch_size=args.batch_size,
        device=device,
        eroded_radius=args.eroded,
        zero_elevation=args.zero_elevation,
        progress=lambda done, total: print(f"tile {done}/{total}", file=sys.stderr),
    )
    for mismatch in mismatches:
        print(f"geofuse evaluate: warning (forced): {mismatch}", file=sys.stderr)
    extra = {
        "model": str(args.model),
        "data": facts.to_dict(),
        "protocol": {"full_reference": True, "eroded_radius": args.eroded},
        "card_check": {"mismatches": mismatches, "forced": bool(mismatches)},
    }
    report = write_report(result, output / "metrics.json", extra)
    plot_confusion_matrix(result.matrix, result.classes, output / "confusion.png")
    sections = [("Full reference", result.metrics().to_dict(), result.matrix.tolist())]
    if result.eroded_matrix is not None:
        title = f"Eroded boundaries (radius {args.eroded})"
        sections.append((title, result.metrics(eroded=True).to_dict(), result.eroded_matrix.tolist()))
    page = report_html(sections, report_details(str(args.model), facts.to_dict(), args.eroded, mismatches))
    (output / "report.html").write_text(page, encoding="utf-8")
    for label, eroded in (("full reference", False), ("eroded boundaries", True)):
        if eroded and result.eroded_matrix is None:
            continue
        print(f"{label}: {format_metrics(result.metrics(eroded))}")
    print(f"report: {report}")
    return EXIT_OK


def report_details(model: str, data: dict[str, Any], eroded: int, mismatches: list[str]) -> dict[str, str]:
    """What the HTML report states above its scores: the model, the data's sources, split, tiles, protocol."""

    def known(*values: object) -> str:
        return " ".join(str(value) for value in values if value not in (None, "", [])) or "–"

    bands = ", ".join(data["optical_bands"] or [])
    return {
        "Model": model,
        "Data": known(data["kind"], data["root"]),
        "Split": known(data["split"], f"({data['part']})" if data["part"] else None),
        "Tiles": ", ".join(data["tiles"]),
        "Optical": known(data["optical_source"], f"({bands})" if bands else None),
        "Elevation": known(data["elevation_source"], f"({data['elevation']})" if data["elevation"] else None),
        "Labels": known(data["labels_source"]),
        "Resolution": known(f"{data['gsd_m']:g} m" if data["gsd_m"] else None),
        "Protocol": "full reference" + (f"; eroded boundaries, radius {eroded}" if eroded else ""),
        "Model card": "fits the data"
        if not mismatches
        else "evaluated with --force: " + "; ".join(mismatches),
    }


def format_metrics(metrics: SegmentationMetrics) -> str:
    """One line: OA, mIoU/mF1 over the mean classes and over all classes (``n/a`` when undefined)."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.2f}"

    return (
        f"OA {pct(metrics.overall_accuracy)}  mIoU {pct(metrics.mean_iou)}  mF1 {pct(metrics.mean_f1)}  "
        f"(all classes: mIoU {pct(metrics.mean_iou_all)}  mF1 {pct(metrics.mean_f1_all)})"
    )
