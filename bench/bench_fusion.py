"""Benchmark the Synergistic Fusion Block's forward pass against token count, global vs window OT.

Prints a Markdown table: for each token grid (e.g. 64², 128², 256²) and OT mode, the median SFB forward
time (a2 config: OT + one bidirectional scan layer; eval mode, so no MMD), the part spent in OT alone,
the growth of each per 4× tokens, and the concat baseline's time for reference.

Usage:
    python bench/bench_fusion.py [--grids 64 128 256] [--skip-global-above 128] [--repeats 5]
        [--scan-max-tokens 1024]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor

from geofuse.backend.models.fusion import ConcatFusion, FusionConfig, SynergisticFusionBlock
from geofuse.backend.models.optimal_transport import align_tokens


def median_ms(run: Callable[[], object], repeats: int, warmup: int) -> float:
    """Median wall time of ``run`` in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def time_grid(
    grid: int, mode: str, args: argparse.Namespace, generator: torch.Generator
) -> tuple[float, float, float]:
    """(SFB forward ms, OT-only ms, concat baseline ms) on one grid×grid map."""
    config = FusionConfig(
        dim=args.dim,
        scan_layers=args.scan_layers,
        ot_mode=mode,
        ot_window=args.window,
        ot_chunk=args.chunk,
        d_state=args.d_state,
        ssm_expand=args.expand,
        scan_pool=args.scan_pool,
        ot_assignment=args.assignment,
    )
    block = SynergisticFusionBlock(args.channels, config).eval()
    baseline = ConcatFusion(args.channels).eval()
    f1 = torch.randn(args.batch, args.channels, grid, grid, generator=generator)
    f2 = torch.randn(args.batch, args.channels, grid, grid, generator=generator)
    with torch.no_grad():
        x_p: Tensor = block.proj_in(f1).flatten(2).transpose(1, 2)
        x_g: Tensor = block.proj_in(f2).flatten(2).transpose(1, 2)
        sfb_ms = median_ms(lambda: block(f1, f2), args.repeats, args.warmup)
        ot_ms = median_ms(
            lambda: align_tokens(x_p, x_g, grid, grid, mode, args.chunk, args.window, args.assignment),
            args.repeats,
            args.warmup,
        )
        concat_ms = median_ms(lambda: baseline(f1, f2), args.repeats, args.warmup)
    return sfb_ms, ot_ms, concat_ms


def main() -> None:
    """Run the benchmark and print the Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--grids", type=int, nargs="+", default=[64, 128, 256], help="token grid sides")
    parser.add_argument(
        "--skip-global-above", type=int, default=None, help="skip global OT on grids larger than this side"
    )
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--d-state", type=int, default=16)
    parser.add_argument("--scan-layers", type=int, default=1)
    parser.add_argument("--expand", type=int, default=FusionConfig.ssm_expand)
    parser.add_argument(
        "--scan-pool", type=int, default=1, help="scan k×k average-pooled tokens (default 1: full resolution)"
    )
    parser.add_argument("--assignment", choices=["argmin", "one-to-one"], default="argmin")
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()

    generator = torch.Generator().manual_seed(0)
    print(
        f"SFB forward, eval mode: d={args.dim}, channels {args.channels}, batch {args.batch}, "
        f"{args.scan_layers} scan layer(s), d_state {args.d_state}, expand {args.expand}, "
        f"scan_pool {args.scan_pool}, {args.assignment} OT, "
        f"window {args.window}, chunk {args.chunk}; "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.repeats} "
        f"after {args.warmup} warm-up\n"
    )
    print("| grid | N | OT mode | SFB ms | ×/4× tokens | OT ms | OT ×/4× tokens | concat ms |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in ("global", "window"):
        previous: tuple[int, float, float] | None = None
        for grid in sorted(args.grids):
            if mode == "global" and args.skip_global_above is not None and grid > args.skip_global_above:
                print(f"| {grid}² | {grid * grid} | {mode} | skipped | | | | |", flush=True)
                continue
            sfb_ms, ot_ms, concat_ms = time_grid(grid, mode, args, generator)
            growth = growth_ot = ""
            if previous is not None and grid == 2 * previous[0]:
                growth, growth_ot = f"{sfb_ms / previous[1]:.2f}", f"{ot_ms / previous[2]:.2f}"
            previous = (grid, sfb_ms, ot_ms)
            print(
                f"| {grid}² | {grid * grid} | {mode} | {sfb_ms:.1f} | {growth} | {ot_ms:.1f} | {growth_ot} "
                f"| {concat_ms:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
