"""Streaming inference benchmark: megapixels per second and peak RSS against raster size.

For each size N the script writes an N × N optical + DSM pair (a 1024² synthetic scene repeated with
windowed writes, so preparing 8192² needs little memory), then runs ``segment_rasters`` in a fresh Python
process per run and reads that process's peak resident set size (``ru_maxrss``), so each number belongs to
one segmentation alone. Throughput counts segmentation time only (not interpreter start, model load, or one
warm-up forward pass on a zero tile before the clock starts).
Targets (issue 5): peak RSS at 8192² within 15 % of 2048², throughput within 15 % across sizes.

The evaluate rows score a classified raster against its ground truth the way the worker's ``evaluate``
does (``backend.raster_scores``, eroded boundaries of radius 3), also in a fresh process per run: the
reference is the synthetic scene's labels, the "classified" raster the same labels with every fifth
32-row band shifted by one class, so no network is needed and large sizes stay cheap.

    .venv/bin/python bench/bench_inference.py                      # 2048 4096 8192, 3 runs each
    .venv/bin/python bench/bench_inference.py --sizes 1024 2048 --runs 1 --variant baseline
    .venv/bin/python bench/bench_inference.py --engine-only     # the engine alone, network replaced
    .venv/bin/python bench/bench_inference.py --evaluate-only --sizes 2048 8192   # evaluate rows only
    .venv/bin/python bench/bench_inference.py --smoke           # one 256² run of each (make bench-smoke)
    .venv/bin/python bench/bench_inference.py --sizes 4096 --runs 2 --before 8fa21de   # + before/after

``--before REV`` adds paired rows: in one fresh process, the same raster segmented alternately with REV's
network code and this revision's (same weights, this revision's engine), timed by CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

CHILD = "--child"
EVALUATE_CHILD = "--child-evaluate"


def write_inputs(folder: Path, size: int) -> tuple[Path, Path]:
    """An N × N optical (uint8 RGB) + DSM (float32) pair in UTM 32N built from one repeated 1024² scene."""
    from geofuse.backend.data.synthetic import generate_scene

    block = 1024
    scene = generate_scene(20261130, block, block)
    optical, elevation = folder / f"optical_{size}.tif", folder / f"elevation_{size}.tif"
    common = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "crs": scene.crs,
        "transform": scene.transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    with (
        rasterio.open(optical, "w", count=3, dtype="uint8", **common) as optical_out,
        rasterio.open(elevation, "w", count=1, dtype="float32", **common) as elevation_out,
    ):
        for row in range(0, size, block):
            for col in range(0, size, block):
                rows, cols = min(block, size - row), min(block, size - col)
                window = Window(col, row, cols, rows)
                optical_out.write(scene.optical[:, :rows, :cols], window=window)
                elevation_out.write(scene.dsm[None, :rows, :cols], window=window)
    return optical, elevation


def write_labels(folder: Path, size: int) -> tuple[Path, Path]:
    """An N × N reference (the repeated scene's class indices) and a "classified" raster that differs from
    it in every fifth 32-row band (class + 1), both uint8 in UTM 32N."""
    from geofuse.backend.data.synthetic import generate_scene

    block = 1024
    scene = generate_scene(20261130, block, block)
    truth, prediction = folder / f"truth_{size}.tif", folder / f"prediction_{size}.tif"
    common = {
        "driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "uint8", "crs": scene.crs,
        "transform": scene.transform, "tiled": True, "blockxsize": 256, "blockysize": 256,
        "compress": "deflate",
    }  # fmt: skip
    shifted = scene.labels.copy()
    bands = (np.arange(block) // 32 % 5 == 0)[:, None]
    shifted = np.where(bands, (shifted + 1) % 6, shifted).astype(np.uint8)
    with rasterio.open(truth, "w", **common) as truth_out, rasterio.open(prediction, "w", **common) as out:
        for row in range(0, size, block):
            for col in range(0, size, block):
                rows, cols = min(block, size - row), min(block, size - col)
                window = Window(col, row, cols, rows)
                truth_out.write(scene.labels[None, :rows, :cols].astype(np.uint8), window=window)
                out.write(shifted[None, :rows, :cols], window=window)
    return prediction, truth


def child_evaluate(args: argparse.Namespace) -> None:
    """One raster evaluation in this fresh process; prints a JSON line with seconds and peak RSS."""
    from geofuse.backend.classes import ISPRS_CLASSES
    from geofuse.backend.raster_scores import score_rasters

    started = time.perf_counter()
    scores = score_rasters(args.optical, args.elevation, ISPRS_CLASSES, eroded_radius=3)
    seconds = time.perf_counter() - started
    assert scores is not None and int(scores.matrix.sum()) > 0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_kib / 1024, "tiles": 0}))


def child(args: argparse.Namespace) -> None:
    """One segmentation in this fresh process; prints a JSON line with seconds and peak RSS."""
    import torch

    from geofuse.backend.inference import LoadedModel, SegmentOptions, segment_rasters

    if args.threads:
        os.environ["GEOFUSE_THREADS"] = str(args.threads)  # LoadedModel.load sets torch's threads
    model = LoadedModel.load(args.model, "cpu")
    if args.engine_only:
        convolution = torch.nn.Conv2d(4, model.card.model.num_classes, 1)
        model = LoadedModel(
            lambda optical, elevation: convolution(torch.cat([optical, elevation], 1)), model.card
        )
    card = model.card.model
    with torch.inference_mode():  # warm-up: one-off allocations and kernel choices are not throughput
        model.network(
            torch.zeros(1, card.optical_channels, args.tile, args.tile),
            torch.zeros(1, card.elevation_channels, args.tile, args.tile),
        )
    output = Path(args.output)
    started = time.perf_counter()
    result = segment_rasters(
        args.optical,
        args.elevation,
        output,
        model,
        SegmentOptions(device="cpu", tile=args.tile, overlap=args.overlap, overwrite=True),
    )
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_kib / 1024, "tiles": result.tiles}))


def child_paired(args: argparse.Namespace) -> None:
    """``--before``: segment with this revision's prepared network and REV's network, alternately.

    The engine is this revision's in both; only the network (and its preparation) differs, so the ratio
    is what the network work changed end to end. Prints a JSON line of CPU seconds per run for each.
    """
    from bench_model import models_at

    from geofuse.backend.checkpoint import load_checkpoint
    from geofuse.backend.inference import LoadedModel, SegmentOptions, segment_rasters

    os.environ["GEOFUSE_THREADS"] = str(args.threads or 1)
    now = LoadedModel.load(args.model, "cpu")
    before = models_at(args.before)
    network = before.GeoFuseNet(before.ModelConfig.from_dict(now.card.model.to_dict())).eval()
    network.load_state_dict(load_checkpoint(args.model).state_dict)
    old = LoadedModel(network, now.card)
    options = SegmentOptions(device="cpu", tile=args.tile, overlap=args.overlap, overwrite=True)
    seconds: dict[str, list[float]] = {"now": [], "before": []}
    for _ in range(args.runs):
        for name, model in (("before", old), ("now", now)):
            started = time.process_time()
            segment_rasters(args.optical, args.elevation, Path(args.output), model, options)
            seconds[name].append(time.process_time() - started)
    print(json.dumps(seconds))


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description="GeoFuse streaming inference: MP/s and peak RSS vs size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096, 8192])
    parser.add_argument("--runs", type=int, default=3, help="runs per size; the median is reported")
    parser.add_argument("--variant", default="a2", help="GeoFuseNet variant (small width), default a2")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--overlap", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument(
        "--engine-only",
        action="store_true",
        help="replace the network by a 1×1 convolution: engine cost alone (I/O, blending, writing)",
    )
    parser.add_argument("--evaluate-only", action="store_true", help="only the evaluate rows")
    parser.add_argument(
        "--before",
        help="also segment each size with git revision REV's network code (same weights), paired in one "
        "process by CPU time, 1 thread unless --threads",
    )
    parser.add_argument("--smoke", action="store_true", help="one 256² run of each, 128² tiles, 1 thread")
    parser.add_argument(CHILD, action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(EVALUATE_CHILD, action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--optical", help=argparse.SUPPRESS)
    parser.add_argument("--elevation", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.before:
        child_paired(args)
        return
    if args.child:
        child(args)
        return
    if args.child_evaluate:
        child_evaluate(args)
        return
    if args.smoke:
        args.sizes, args.runs, args.tile, args.overlap, args.threads = [256], 1, 128, 16, 1
    rows = measure(args)
    network_name = (
        "1×1 convolution (engine only)" if args.engine_only else f"GeoFuseNet {args.variant} (small)"
    )
    print(
        f"\nsegment: {network_name}, CPU, tile {args.tile}, overlap {args.overlap}; evaluate: eroded "
        f"radius 3; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores"
    )
    print("| run | size | tiles | seconds (median) | MP/s | peak RSS (MiB) | runs |")
    print("|---|---|---|---|---|---|---|")
    for kind, size, tiles, seconds, rate, rss, count in rows:
        memory = f"{rss:.0f}" if rss else "–"
        print(f"| {kind} | {size}² | {tiles or '–'} | {seconds:.1f} | {rate:.3f} | {memory} | {count} |")
    for kind in ("segment", "evaluate"):
        rates, peaks = [row[4] for row in rows if row[0] == kind], [row[5] for row in rows if row[0] == kind]
        if len(rates) > 1:
            print(
                f"\n{kind}: throughput spread {100 * (max(rates) / min(rates) - 1):.1f} %, "
                f"peak RSS largest vs smallest size {100 * (peaks[-1] / peaks[0] - 1):+.1f} %"
            )


def run_children(command: list[str], runs: int) -> tuple[float, float, int]:
    """Median seconds and peak RSS (MiB) of ``runs`` fresh processes, and the tile count they report."""
    results = []
    for _ in range(runs):
        finished = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(finished.stdout.strip().splitlines()[-1]))
    seconds = statistics.median(run["seconds"] for run in results)
    return seconds, statistics.median(run["peak_rss_mib"] for run in results), results[0]["tiles"]


def measure(args: argparse.Namespace) -> list[tuple]:
    """Segment and evaluate rows: (kind, size, tiles, seconds, MP/s, peak RSS MiB, runs)."""
    import torch

    from geofuse.backend.checkpoint import ModelCard, save_checkpoint
    from geofuse.backend.models import build_model

    rows = []
    with tempfile.TemporaryDirectory(prefix="geofuse-bench-") as temporary:
        folder = Path(temporary)
        torch.manual_seed(0)
        network = build_model(variant=args.variant, width="small")
        model = save_checkpoint(folder / "model.pt", network, ModelCard(network.config))
        for size in args.sizes:
            if not args.evaluate_only:
                optical, elevation = write_inputs(folder, size)
                command = [
                    sys.executable, __file__, CHILD, "--model", str(model), "--optical", str(optical),
                    "--elevation", str(elevation), "--output", str(folder / f"classes_{size}.tif"),
                    "--tile", str(args.tile), "--overlap", str(args.overlap), "--threads", str(args.threads),
                    *(["--engine-only"] if args.engine_only else []),
                ]  # fmt: skip
                seconds, rss, tiles = run_children(command, args.runs)
                rows.append(("segment", size, tiles, seconds, size * size / 1e6 / seconds, rss, args.runs))
                print(f"segment {size}²: {seconds:.1f} s, {rows[-1][4]:.3f} MP/s, peak RSS {rss:.0f} MiB")
                if args.before:
                    paired = subprocess.run(
                        [*command, "--before", args.before], capture_output=True, text=True, check=True
                    )
                    times = json.loads(paired.stdout.strip().splitlines()[-1])
                    for name in ("before", "now"):
                        cpu = statistics.median(times[name])
                        kind = f"segment, CPU time, {args.threads or 1} thread, " + (
                            f"network @{args.before}" if name == "before" else "network now"
                        )
                        rows.append((kind, size, tiles, cpu, size * size / 1e6 / cpu, 0.0, args.runs))
                        print(f"{kind} {size}²: {cpu:.1f} CPU-s, {rows[-1][4]:.3f} MP per CPU-s", flush=True)
                for path in (optical, elevation):
                    path.unlink()
            prediction, truth = write_labels(folder, size)
            command = [
                sys.executable, __file__, EVALUATE_CHILD,
                "--optical", str(prediction), "--elevation", str(truth),
            ]  # fmt: skip
            seconds, rss, _ = run_children(command, args.runs)
            rows.append(("evaluate", size, 0, seconds, size * size / 1e6 / seconds, rss, args.runs))
            rate = rows[-1][4]
            print(f"evaluate {size}²: {seconds:.1f} s, {rate:.3f} MP/s, peak RSS {rss:.0f} MiB", flush=True)
            for path in (prediction, truth):
                path.unlink()
    return rows


if __name__ == "__main__":
    main()
