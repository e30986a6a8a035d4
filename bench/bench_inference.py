"""Streaming inference benchmark: megapixels per second and peak RSS against raster size.

For each size N the script writes an N × N optical + DSM pair (a 1024² synthetic scene repeated with
windowed writes, so preparing 8192² needs little memory), then runs ``segment_rasters`` in a fresh Python
process per run and reads that process's peak resident set size (``ru_maxrss``), so each number belongs to
one segmentation alone. Throughput counts segmentation time only (not interpreter start, model load, or one
warm-up forward pass on a zero tile before the clock starts).
Targets (issue 5): peak RSS at 8192² within 15 % of 2048², throughput within 15 % across sizes.

    .venv/bin/python bench/bench_inference.py                      # 2048 4096 8192, 3 runs each
    .venv/bin/python bench/bench_inference.py --sizes 1024 2048 --runs 1 --variant baseline
    .venv/bin/python bench/bench_inference.py --engine-only     # the engine alone, network replaced
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rasterio
from rasterio.windows import Window

CHILD = "--child"


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


def child(args: argparse.Namespace) -> None:
    """One segmentation in this fresh process; prints a JSON line with seconds and peak RSS."""
    import torch

    from geofuse.backend.inference import LoadedModel, SegmentOptions, segment_rasters

    if args.threads:
        torch.set_num_threads(args.threads)
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
    parser.add_argument(CHILD, action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--optical", help=argparse.SUPPRESS)
    parser.add_argument("--elevation", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

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
            optical, elevation = write_inputs(folder, size)
            runs = []
            for _ in range(args.runs):
                command = [
                    sys.executable, __file__, CHILD, "--model", str(model), "--optical", str(optical),
                    "--elevation", str(elevation), "--output", str(folder / f"classes_{size}.tif"),
                    "--tile", str(args.tile), "--overlap", str(args.overlap), "--threads", str(args.threads),
                    *(["--engine-only"] if args.engine_only else []),
                ]  # fmt: skip
                finished = subprocess.run(command, capture_output=True, text=True, check=True)
                runs.append(json.loads(finished.stdout.strip().splitlines()[-1]))
            seconds = statistics.median(run["seconds"] for run in runs)
            rss = statistics.median(run["peak_rss_mib"] for run in runs)
            rows.append((size, runs[0]["tiles"], seconds, size * size / 1e6 / seconds, rss, len(runs)))
            print(f"{size}²: {seconds:.1f} s, {rows[-1][3]:.3f} MP/s, peak RSS {rss:.0f} MiB", flush=True)
            for path in (optical, elevation):
                path.unlink()
    network_name = (
        "1×1 convolution (engine only)" if args.engine_only else f"GeoFuseNet {args.variant} (small)"
    )
    print(f"\n{network_name}, CPU, tile {args.tile}, overlap {args.overlap}")
    print("| size | tiles | seconds (median) | MP/s | peak RSS (MiB) | runs |")
    print("|---|---|---|---|---|---|")
    for size, tiles, seconds, rate, rss, count in rows:
        print(f"| {size}² | {tiles} | {seconds:.1f} | {rate:.3f} | {rss:.0f} | {count} |")
    if len(rows) > 1:
        rates, peaks = [row[3] for row in rows], [row[4] for row in rows]
        print(
            f"\nthroughput spread {100 * (max(rates) / min(rates) - 1):.1f} %, "
            f"peak RSS largest vs smallest size {100 * (peaks[-1] / peaks[0] - 1):+.1f} %"
        )


if __name__ == "__main__":
    main()
