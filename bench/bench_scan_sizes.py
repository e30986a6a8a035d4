"""Measure the selective scan's step and block sizes on this device and print the table entry to use.

The pure-PyTorch scan (``backend/models/selective_scan.py``) cuts a sequence into K chunks stepped together
and computes decays, inputs and read-outs in blocks of S steps; how large a step (K·batch·D·N elements) and
a block (S steps of them) may get is ``_SIZES[device type]``, a :class:`ScanSizes`. This script times the
scan, as the networks call it, for every candidate pair of sizes on the scan shapes of GeoFuse's small and
base a2 networks at a 512² tile (one image; the shapes and how often one forward pass scans each), and
prints, per candidate, the summed time of a forward pass (``torch.inference_mode``, as segmentation runs
it) and of forward + backward (as training runs it), relative to the entry in use, then the best pair.

Measurement: every repeat runs every candidate once in turn (paired, so load from other processes affects
all alike), each timed by the process's CPU time on CPU (wall time, synchronised, on a GPU); the median of
the repeats is printed, with the load average. Copy the best pair into ``_SIZES`` for the device type when
it is clearly faster than the entry in use (more than the spread between repeated runs). On a GPU, run it
where mamba-ssm is not installed: with it, its kernel runs and these sizes are not used.

Usage:
    python bench/bench_scan_sizes.py [--device cpu] [--repeats 3] [--threads 1] [--no-backward] [--smoke]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

import torch
from torch import Tensor

from geofuse.backend.models import selective_scan as scan_module
from geofuse.backend.models import selective_scan_fn
from geofuse.backend.models.selective_scan import ScanSizes


@dataclass(frozen=True)
class Shape:
    """One scan of a network: u is 1×(G·Dg)×L, B and C 1×G×N×L; ``calls`` per forward pass."""

    length: int
    groups: int
    group_dim: int
    state: int
    calls: int

    def inputs(self, device: torch.device, grad: bool) -> list[Tensor]:
        """Float32 u, Δ (before softplus), A (negative), B, C and delta_bias like a trained layer's."""
        g = torch.Generator().manual_seed(0)
        dim = self.groups * self.group_dim
        u = torch.randn(1, dim, self.length, generator=g)
        delta = torch.randn(1, dim, self.length, generator=g) - 4
        A = -torch.arange(1, self.state + 1, dtype=torch.float32).repeat(dim, 1)
        B = torch.randn(1, self.groups, self.state, self.length, generator=g)
        C = torch.randn(1, self.groups, self.state, self.length, generator=g)
        return [t.to(device).requires_grad_(grad) for t in (u, delta, A, B, C)]


# The scans of one forward pass of small a2 and base a2 on a 512² tile (SS2D's four orders as G = 4 groups
# of Dg channels at each encoder stage, the SFB's two directions as G = 2), with how often each occurs.
SHAPES = {
    "small": [
        Shape(16384, 4, 32, 4, 1),
        Shape(4096, 4, 64, 4, 1),
        Shape(1024, 4, 128, 4, 2),
        Shape(256, 4, 256, 4, 1),
        Shape(512, 2, 32, 4, 2),
        Shape(512, 2, 64, 4, 2),
    ],
    "base": [
        Shape(16384, 4, 64, 4, 2),
        Shape(4096, 4, 128, 4, 2),
        Shape(1024, 4, 256, 4, 4),
        Shape(256, 4, 512, 4, 2),
        Shape(32768, 2, 64, 16, 1),
        Shape(8192, 2, 64, 16, 1),
        Shape(2048, 2, 128, 16, 1),
        Shape(512, 2, 128, 16, 1),
    ],
}

STEP_CANDIDATES = [1 << 15, 1 << 16, 1 << 17, 1 << 18]
BLOCK_CANDIDATES = [1 << 17, 1 << 18, 1 << 19, 1 << 20]


def scan_pass(shape: Shape, device: torch.device, backward: bool) -> Callable[[], None]:
    """One scan of ``shape`` as a network runs it: forward under inference mode, or forward + backward."""
    u, delta, A, B, C = shape.inputs(device, backward)
    weight = torch.randn(u.shape, generator=torch.Generator().manual_seed(1)).to(device)

    def run() -> None:
        if backward:
            y = selective_scan_fn(u, delta, A, B, C, delta_softplus=True)
            torch.autograd.grad((y * weight).sum(), [u, delta, A, B, C])
        else:
            with torch.inference_mode():
                selective_scan_fn(u, delta, A, B, C, delta_softplus=True)

    return run


def timed(run: Callable[[], None], device: torch.device) -> float:
    """CPU seconds of ``run`` on CPU (this process's work, not the wait for a core); wall seconds on a GPU."""
    if device.type == "cpu":
        start = time.process_time()
        run()
        return time.process_time() - start
    torch.cuda.synchronize(device)
    start = time.perf_counter()
    run()
    torch.cuda.synchronize(device)
    return time.perf_counter() - start


def measure(
    candidates: list[ScanSizes], shapes: list[Shape], device: torch.device, backward: bool, repeats: int
) -> list[float]:
    """Median over ``repeats`` of each candidate's summed time over ``shapes`` (weighted by their calls)."""
    runs = [(shape, scan_pass(shape, device, backward)) for shape in shapes]
    totals: list[list[float]] = [[] for _ in candidates]
    for repeat in range(repeats + 1):  # the first round warms up
        for i, sizes in enumerate(candidates):
            with mock.patch.dict(scan_module._SIZES, {device.type: sizes}):
                total = sum(shape.calls * timed(run, device) for shape, run in runs)
            if repeat:
                totals[i].append(total)
    return [statistics.median(t) for t in totals]


def main() -> None:
    """Parse the options, time every candidate and print the table and the best pair."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--widths", nargs="+", default=["small", "base"], choices=sorted(SHAPES))
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (median; default 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--no-backward", action="store_true", help="time the forward pass only")
    parser.add_argument("--smoke", action="store_true", help="two candidates on one short scan, once")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    current = scan_module._sizes(device.type)
    candidates = [current] + [
        ScanSizes(step, block)
        for step, block in itertools.product(STEP_CANDIDATES, BLOCK_CANDIDATES)
        if ScanSizes(step, block) != current
    ]
    shapes = [shape for width in args.widths for shape in SHAPES[width]]
    if args.smoke:
        candidates, shapes, args.repeats = candidates[:2], [Shape(64, 2, 8, 4, 1)], 1

    print(f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads, float32")
    print(
        f"widths {' '.join(args.widths)}: {len(shapes)} scan shapes; median of {args.repeats} paired rounds"
    )
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n", flush=True)
    passes = {"forward": False} if args.no_backward else {"forward": False, "forward + backward": True}
    results = {
        name: measure(candidates, shapes, device, backward, args.repeats) for name, backward in passes.items()
    }
    header = ["step elements", "block elements"]
    for name in results:
        header += [f"{name} (s)", f"{name} vs in use"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for i, sizes in enumerate(candidates):
        cells = [f"2^{sizes.step_elements.bit_length() - 1}", f"2^{sizes.block_elements.bit_length() - 1}"]
        if i == 0:
            cells[0] += " (in use)"
        for times in results.values():
            cells += [f"{times[i]:.3f}", f"{times[0] / times[i]:.2f}×"]
        print("| " + " | ".join(cells) + " |")
    print(f"\nload average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, times in results.items():
        best = candidates[min(range(len(candidates)), key=times.__getitem__)]
        print(f"best for {name}: {best}")


if __name__ == "__main__":
    main()
