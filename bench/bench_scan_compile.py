"""Measure whether ``torch.compile`` pays for the selective scan's recurrence on this CPU (it did not here).

The eager scan (``_StepScan.forward`` in ``backend/models/selective_scan.py``) steps the recurrence
h_t = exp(Δ_t A) ⊙ h_{t-1} + Δ_t u_t B_t one ``addcmul_`` per step over K×batch×G×N×Dg states and computes
the decays and read-outs y_t = C_t·h_t in bulk per block of steps. This script times, on the scans of
GeoFuse's small and base a2 networks at a 512² tile, that forward pass against the same chunked scan whose
blocks of S steps run as one kernel compiled by inductor (C++, this machine's compiler): the state
dimension N unrolled, so that the whole block is pointwise over the K·batch·G·Dg lanes and inductor fuses it
into one loop that keeps h in registers and writes only y (and h at the block's end), never the N×Dg decays
and states. The lanes' count is marked dynamic; G, Dg and N are static (one compile per layer shape, as a
network would need).

Printed per shape: the first compiled call (compile time: cold on the first run, from inductor's on-disk
cache on later runs, as in a fresh worker process), the largest difference to the eager output relative to
its largest value, the median CPU time of the eager and the compiled forward pass (paired: alternately in
one process, under ``torch.inference_mode``), their ratio, and the load average.

Usage:
    python bench/bench_scan_compile.py [--block 8] [--sequential] [--widths small base] [--repeats 5]
        [--threads 1] [--smoke]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

import torch
from bench_scan_sizes import SHAPES, Shape
from torch import Tensor

from geofuse.backend.models import selective_scan as scan_module


def scan_block(dt: Tensor, dtu: Tensor, B: Tensor, C: Tensor, A2: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
    """S steps of the recurrence with N unrolled, pointwise over the lanes; returns (y, h at the end).

    dt, dtu: S×lanes×G×Dg; B, C: S×lanes×G×N; A2 = A·log2(e): G×N×Dg; h: lanes×G×N×Dg.
    """
    hs = [h[:, :, n, :] for n in range(A2.shape[1])]
    ys = []
    for s in range(dt.shape[0]):
        y = None
        for n in range(len(hs)):
            hs[n] = torch.exp2(dt[s] * A2[:, n, :]) * hs[n] + dtu[s] * B[s, :, :, n, None]
            term = C[s, :, :, n, None] * hs[n]
            y = term if y is None else y + term
        ys.append(y)
    return torch.stack(ys), torch.stack(hs, 2)


def carry_block(dt: Tensor, dtu: Tensor, B: Tensor, A2: Tensor, h: Tensor) -> Tensor:
    """`scan_block` without the read-out: the state at the block's end (pass 1 of the chunked scan)."""
    hs = [h[:, :, n, :] for n in range(A2.shape[1])]
    for s in range(dt.shape[0]):
        for n in range(len(hs)):
            hs[n] = torch.exp2(dt[s] * A2[:, n, :]) * hs[n] + dtu[s] * B[s, :, :, n, None]
    return torch.stack(hs, 2)


def lanes_dynamic(kernel: Callable[..., object]) -> Callable[..., object]:
    """``kernel`` compiled once per static (S, G, Dg, N), its lanes' count (dim 1; h's dim 0) dynamic."""
    compiled = torch.compile(kernel, dynamic=False, fullgraph=True)

    def call(*args: Tensor) -> object:
        for t in args[:-2]:
            torch._dynamo.mark_dynamic(t, 1)
        torch._dynamo.mark_dynamic(args[-1], 0)
        return compiled(*args)

    return call


def compiled_forward(
    kernels: tuple[Callable[..., object], Callable[..., object]],
    dt_s: Tensor,
    dtu_s: Tensor,
    A: Tensor,
    B_s: Tensor,
    C_s: Tensor,
    block: int,
) -> Tensor:
    """`_StepScan.forward`'s three passes (chunk ends, carry across chunks, rerun with read-out) with the
    two block passes as compiled kernels; T must be a multiple of ``block``. Returns y in the step layout."""
    scan, carry = kernels
    steps, chunks, batch, groups, _, group_dim = dt_s.shape
    state = A.shape[1]
    A2 = (A.reshape(groups, group_dim, state).transpose(-1, -2) * math.log2(math.e)).contiguous()
    lanes = (steps, chunks, batch, groups)
    dt, dtu = dt_s.view(*lanes, group_dim), dtu_s.view(*lanes, group_dim)
    B, C = B_s.view(*lanes, state), C_s.view(*lanes, state)
    starts = dt.new_zeros(chunks, batch, groups, state, group_dim)
    if chunks > 1:
        h = dt.new_zeros((chunks - 1) * batch, groups, state, group_dim)
        for t in range(0, steps, block):
            at = slice(t, t + block)
            h = carry(dt[at, :-1].flatten(1, 2), dtu[at, :-1].flatten(1, 2), B[at, :-1].flatten(1, 2), A2, h)
        ends = h.view(chunks - 1, batch, groups, state, group_dim)
        chunk_decay = torch.exp2(dt.sum(0)[..., None, :] * A2)
        for k in range(1, chunks):
            torch.addcmul(ends[k - 1], chunk_decay[k - 1], starts[k - 1], out=starts[k])
    h = starts.view(chunks * batch, groups, state, group_dim)
    y = dt.new_empty(steps, chunks * batch, groups, group_dim)
    for t in range(0, steps, block):
        at = slice(t, t + block)
        y[at], h = scan(
            dt[at].flatten(1, 2), dtu[at].flatten(1, 2), B[at].flatten(1, 2), C[at].flatten(1, 2), A2, h
        )
    return y


def step_inputs(shape: Shape, block: int, sequential: bool) -> tuple[list[Tensor], scan_module._Plan]:
    """Δ, Δu, A, B, C in `_StepScan`'s step layout for ``shape``; the eager plan, T a multiple of S."""
    lanes = shape.groups * shape.group_dim * shape.state
    plan = scan_module._Plan.choose(shape.length, lanes)
    chunks = 1 if sequential else plan.chunks
    per_chunk = -(-shape.length // chunks)
    steps = -(-per_chunk // block) * block
    chunks = -(-shape.length // steps)
    plan = scan_module._Plan(chunks, steps, min(plan.block, steps))
    g = torch.Generator().manual_seed(0)
    layout = (steps, chunks, 1, shape.groups)
    dt = torch.rand(*layout, 1, shape.group_dim, generator=g) * 0.1 + 1e-3
    u = torch.randn(*layout, 1, shape.group_dim, generator=g)
    A = -torch.arange(1, shape.state + 1, dtype=torch.float32).repeat(shape.groups * shape.group_dim, 1)
    B = torch.randn(*layout, shape.state, 1, generator=g)
    C = torch.randn(*layout, 1, shape.state, generator=g)
    return [dt, dt * u, A, B, C], plan


def main() -> None:
    """Parse the options, compile, compare and time every shape, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block", type=int, default=8, help="steps S per compiled block (default 8)")
    parser.add_argument("--sequential", action="store_true", help="one chunk (K = 1) instead of the plan's K")
    parser.add_argument("--widths", nargs="+", default=["small", "base"], choices=sorted(SHAPES))
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per shape (median; default 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--smoke", action="store_true", help="one tiny shape, S = 2, once")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch._dynamo.config.recompile_limit = 64  # one compile per layer shape, two kernels each
    shapes = list(dict.fromkeys(shape for width in args.widths for shape in SHAPES[width]))
    if args.smoke:
        shapes, args.block, args.repeats = [Shape(16, 2, 8, 2, 1)], 2, 1
    kernels = (lanes_dynamic(scan_block), lanes_dynamic(carry_block))

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, S = {args.block}")
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    header = [
        "L",
        "G",
        "Dg",
        "N",
        "K",
        "T",
        "first compiled call (s)",
        "rel. diff",
        "eager (ms)",
        "compiled (ms)",
    ]
    print("| " + " | ".join([*header, "speed-up"]) + " |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in shapes:
        inputs, plan = step_inputs(shape, args.block, args.sequential)
        with torch.inference_mode():
            start = time.perf_counter()
            y = compiled_forward(kernels, *inputs, args.block)
            first = time.perf_counter() - start
            want = scan_module._StepScan.apply(*inputs, plan)[0].view_as(y)
            runs = {
                "eager": lambda inputs=inputs, plan=plan: scan_module._StepScan.apply(*inputs, plan),
                "compiled": lambda inputs=inputs: compiled_forward(kernels, *inputs, args.block),
            }
            times: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(args.repeats):
                for name, run in runs.items():
                    start = time.process_time()
                    run()
                    times[name].append(time.process_time() - start)
        eager, compiled = (statistics.median(times[name]) for name in runs)
        difference = float((y - want).abs().max() / want.abs().max())
        cells = [shape.length, shape.groups, shape.group_dim, shape.state, plan.chunks, plan.steps]
        cells += [f"{first:.1f}", f"{difference:.1e}", f"{eager * 1e3:.1f}", f"{compiled * 1e3:.1f}"]
        print("| " + " | ".join(map(str, cells)) + f" | {eager / compiled:.2f}× |", flush=True)
    print(f"\nload average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
