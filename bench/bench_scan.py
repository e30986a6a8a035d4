"""Benchmark GeoFuse's pure-PyTorch selective scan against a plain loop and mambapy's parallel scan (CPU).

Prints a Markdown table: for each problem (batch B, channels D, state N, length L) the median wall time of
the forward pass and of forward + backward for

* ``loop``: a plain Python loop over the steps (slices taken once with ``unbind``);
* ``mambapy``: mambapy's Blelloch ``pscan``, including the preparation of exp(Δ A) and Δ B u as
  B×L×D×N tensors from the same B×D×L inputs, as a model would have to;
* ``geofuse``: ``geofuse.backend.models.selective_scan_fn``;

and GeoFuse's speed-up over mambapy. mambapy is the ``bench`` extra (``pip install geofuse[bench]``); it is
imported only here, and its columns are left out, with a note, when it is missing.

Example: ``python bench/bench_scan.py --repeats 5 --lengths 1024 4096 16384``
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from geofuse.backend.models import selective_scan_fn

ScanFn = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: u, Δ are batch×dim×length, A is dim×state, B and C batch×state×length."""

    batch: int
    dim: int
    state: int
    length: int

    def inputs(self, seed: int = 0) -> list[Tensor]:
        """Float32 u, Δ (already positive, as after a softplus), A (negative), B, C, all requiring grad."""
        g = torch.Generator().manual_seed(seed)
        u = torch.randn(self.batch, self.dim, self.length, generator=g)
        delta = torch.rand(self.batch, self.dim, self.length, generator=g) * 0.1 + 1e-3
        A = -torch.exp(torch.randn(self.dim, self.state, generator=g))
        B = torch.randn(self.batch, self.state, self.length, generator=g)
        C = torch.randn(self.batch, self.state, self.length, generator=g)
        return [t.requires_grad_() for t in (u, delta, A, B, C)]


def loop_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor) -> Tensor:
    """h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t, y_t = C_t·h_t, one step at a time."""
    h = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for dt_t, u_t, B_t, C_t in zip(delta.unbind(-1), u.unbind(-1), B.unbind(-1), C.unbind(-1), strict=True):
        h = torch.exp(dt_t[..., None] * A) * h + (dt_t * u_t)[..., None] * B_t[:, None]
        ys.append((h * C_t[:, None]).sum(-1))
    return torch.stack(ys, -1)


def mambapy_scan_fn() -> ScanFn | None:
    """The same scan through mambapy's ``pscan``, or None when mambapy is not installed."""
    try:
        pscan = importlib.import_module("mambapy.pscan").pscan
    except ImportError:
        return None

    def scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor) -> Tensor:
        dt = delta.transpose(1, 2).unsqueeze(-1)  # B L D 1
        decay = torch.exp(dt * A)  # B L D N
        inputs = dt * u.transpose(1, 2).unsqueeze(-1) * B.transpose(1, 2).unsqueeze(2)  # B L D N
        hs = pscan(decay, inputs)
        return (hs @ C.transpose(1, 2).unsqueeze(-1)).squeeze(-1).transpose(1, 2)

    return scan


def geofuse_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor) -> Tensor:
    """GeoFuse's selective scan with the same inputs."""
    return selective_scan_fn(u, delta, A, B, C)


def median_seconds(scan: ScanFn, inputs: list[Tensor], backward: bool, repeats: int) -> float:
    """Median wall time of ``repeats`` runs after one warm-up run."""
    weight = torch.randn(inputs[0].shape, generator=torch.Generator().manual_seed(1))
    times = []
    for run in range(repeats + 1):
        for t in inputs:
            t.grad = None
        start = time.perf_counter()
        if backward:
            (scan(*inputs) * weight).sum().backward()
        else:
            with torch.no_grad():
                scan(*inputs)
        if run:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Parse the options, run every problem and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per cell (median; default 5)")
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[1024, 4096, 16384], help="L for B=2, D=64, N=16"
    )
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the issue's B=4, D=192, N=16, L=4096"
    )
    parser.add_argument("--loop-max-length", type=int, default=16384, help="skip the plain loop above this L")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    problems = [Problem(2, 64, 16, length) for length in args.lengths]
    if not args.no_reference:
        problems.append(Problem(4, 192, 16, 4096))
    mambapy_scan = mambapy_scan_fn()
    scans: dict[str, ScanFn | None] = {"loop": loop_scan, "mambapy": mambapy_scan, "geofuse": geofuse_scan}

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, CPU")
    print(f"median of {args.repeats} runs after one warm-up; times in seconds\n")
    if mambapy_scan is None:
        print("mambapy is not installed (`pip install geofuse[bench]`): its columns are empty.\n")
    header = ["B", "D", "N", "L"]
    for name in scans:
        header += [f"{name} fwd", f"{name} fwd+bwd"]
    header += ["speed-up fwd", "speed-up fwd+bwd", "y rel. diff"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for problem in problems:
        inputs = problem.inputs()
        cells = [str(v) for v in (problem.batch, problem.dim, problem.state, problem.length)]
        times: dict[str, tuple[float, float]] = {}
        for name, scan in scans.items():
            if scan is None or (name == "loop" and problem.length > args.loop_max_length):
                cells += ["—", "—"]
                continue
            times[name] = tuple(median_seconds(scan, inputs, b, args.repeats) for b in (False, True))
            cells += [f"{t:.3f}" for t in times[name]]
        if "mambapy" in times:
            cells += [f"{m / g:.1f}×" for m, g in zip(times["mambapy"], times["geofuse"], strict=True)]
            with torch.no_grad():
                y_geofuse, y_mambapy = geofuse_scan(*inputs), mambapy_scan(*inputs)
            cells.append(f"{float((y_geofuse - y_mambapy).abs().max() / y_mambapy.abs().max()):.1e}")
        else:
            cells += ["—", "—", "—"]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
