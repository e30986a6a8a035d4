"""Benchmark whole networks on one input size: CPU time, throughput per GFLOP, and the matmul peak.

Prints a Markdown table with one row per network: parameters, FLOPs as counted by
``torch.utils.flop_counter.FlopCounterMode`` (matrix products and convolutions only: the selective scan's
recurrence, exp/softplus, norms, activations and OT's argmin are not FLOPs to it), the elements written by
all ops (a proxy for that elementwise work), the median CPU time of a forward pass, megapixels and GFLOP per
CPU-second, that rate as a share of a plain fp32 matmul's rate measured in the same run (the CPU's practical
peak), and the throughput relative to the baseline of the same width.

Measurement: every repeat runs every network once in turn (paired, so load from other processes affects all
alike), each timed by the process's CPU time (``time.process_time``), which on a shared machine counts this
process's work rather than the wait for a core; the load average is printed with the table. The networks run
as segmentation runs them: prepared by ``backend.inference_setup`` (BatchNorm folded, channels-last) under
``torch.inference_mode``. ``--before REV`` adds, for each network, the same weights run by the network code
of git revision REV (its ``backend/models``, imported from ``git archive``) as that revision ran it
(``torch.no_grad``, not prepared): a before/after comparison in one process, with the largest output
difference between the two printed.

``--breakdown`` adds a table of where one forward pass spends its (wall) time: stems, each stage of each
branch, each fusion block, decoder; median over the repeats. ``--smoke`` runs everything once on a 64²
input (``make bench-smoke``), so the script cannot rot.

Usage:
    python bench/bench_model.py [--variants baseline a2] [--widths small base] [--size 512]
        [--repeats 5] [--threads 1] [--before HEAD~3] [--fusion '{"d_state": 4}'] [--breakdown] [--smoke]
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from geofuse.backend.early_fusion import EarlyFusionUNet, MissingExtraError
from geofuse.backend.inference_setup import prepare_for_inference
from geofuse.backend.models import build_model
from geofuse.backend.models.network import VARIANTS

REPOSITORY = Path(__file__).resolve().parent.parent


class ElementCounter(TorchDispatchMode):
    """Counts the elements written by every aten op that is not a view, elementwise ones included."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def __torch_dispatch__(
        self, func: Callable[..., Any], types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        """Count the elements each operator writes, then run it unchanged."""
        out = func(*args, **(kwargs or {}))
        if func.is_view:  # views write nothing
            return out
        for tensor in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(tensor, Tensor):
                self.elements += tensor.numel()
        return out


@dataclass
class Row:
    """One network to measure.

    Attributes:
        label: Its name in the table.
        reference: Label of the row its throughput is compared with (the baseline of its width and code).
        network: Called as ``network(optical, elevation)``.
        parameters: Its parameter count.
        context: The autograd context it runs under.
        times: CPU seconds of the timed passes.
    """

    label: str
    reference: str
    network: Callable[[Tensor, Tensor], Tensor]
    parameters: int
    context: Callable[[], Any] = torch.inference_mode
    times: list[float] = field(default_factory=list)
    flops: int = 0
    elements: int = 0


def parameter_count(module: nn.Module) -> int:
    """Number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())


def models_at(revision: str) -> ModuleType:
    """The ``backend/models`` package of git revision ``revision``, imported under its own name."""
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", revision, "backend/models"],
        capture_output=True,
        check=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="geofuse-before-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder)  # our own repository's archive
    name = "models_at_" + "".join(c if c.isalnum() else "_" for c in revision)
    (folder / "backend" / "models").rename(folder / name)
    sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def matmul_rate(seconds: float = 2.0, side: int = 1024) -> float:
    """GFLOP per CPU-second of a square fp32 matmul, median of several bursts: the practical peak."""
    a, b, c = torch.randn(side, side), torch.randn(side, side), torch.empty(side, side)
    torch.mm(a, b, out=c)
    rates = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates) < 3:
        start = time.process_time()
        torch.mm(a, b, out=c)
        rates.append(2 * side**3 / 1e9 / max(time.process_time() - start, 1e-9))
    return statistics.median(rates)


@contextmanager
def part_timer(model: nn.Module, totals: dict[str, float]) -> Iterator[None]:
    """Add each part's forward time (ms) to ``totals`` while the context is open."""
    parts: dict[str, nn.Module] = {"cnn stem": model.cnn.stem, "vss stem": model.vss.stem}
    for stage in range(4):
        parts[f"cnn stage {stage + 1}"] = model.cnn.stages[stage]
        parts[f"vss stage {stage + 1}"] = model.vss.stages[stage]
        parts[f"fusion {stage + 1}"] = model.fusions[stage]
        scan = getattr(model.fusions[stage], "scan", None)
        if isinstance(scan, nn.Module) and len(list(scan.children())) > 0:
            parts[f"fusion {stage + 1}: of which bi-scan"] = scan
    parts["decoder"] = model.decoder
    starts: dict[str, float] = {}
    handles = []
    for name, module in parts.items():

        def before(_module: nn.Module, _inputs: Any, name: str = name) -> None:
            starts[name] = time.perf_counter()

        def after(_module: nn.Module, _inputs: Any, _output: Any, name: str = name) -> None:
            totals[name] += (time.perf_counter() - starts[name]) * 1e3

        handles += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def build_rows(args: argparse.Namespace, inputs: tuple[Tensor, Tensor]) -> list[Row]:
    """The GeoFuse networks (and their ``--before`` twins), same weights for both, outputs compared."""
    before = models_at(args.before) if args.before else None
    rows = []
    for width in args.widths:
        for variant in dict.fromkeys(["baseline", *args.variants]):
            torch.manual_seed(0)
            fusion = args.fusion if VARIANTS[variant].sfb else {}
            network = build_model(variant, width=width, fusion=fusion).eval()
            label, reference = f"GeoFuse {width} {variant}", f"GeoFuse {width} baseline"
            prepared = prepare_for_inference(network)
            rows.append(Row(label, reference, prepared, parameter_count(network)))
            if before is not None:
                old = before.build_model(variant, width=width, fusion=fusion).eval()
                old.load_state_dict(network.state_dict())
                with torch.inference_mode():
                    difference = (old(*inputs) - prepared(*inputs)).abs().max()
                print(f"{label}: largest output difference @{args.before} vs now {float(difference):.1e}")
                at = f" @{args.before}"
                rows.append(Row(label + at, reference + at, old, parameter_count(old), torch.no_grad))
    try:
        unet = EarlyFusionUNet().eval()
    except MissingExtraError as error:
        print(f"No U-Net row: {error}")
    else:
        label = "early-fusion U-Net (ResNet-18)"
        rows.append(Row(label, label, unet.to(memory_format=torch.channels_last), parameter_count(unet)))
    return rows


def measure(rows: list[Row], inputs: tuple[Tensor, Tensor], args: argparse.Namespace) -> dict:
    """Count FLOPs and elements, then time every row once per repeat, in turn; returns part timings."""
    parts: dict[str, dict[str, list[float]]] = {row.label: defaultdict(list) for row in rows}
    for row in rows:
        with row.context(), FlopCounterMode(display=False) as counter, ElementCounter() as written:
            row.network(*inputs)
        row.flops, row.elements = counter.get_total_flops(), written.elements
        with row.context():
            for _ in range(args.warmup):
                row.network(*inputs)
    for _ in range(args.repeats):
        for row in rows:
            totals: dict[str, float] = defaultdict(float)
            timed = args.breakdown and isinstance(row.network, nn.Module) and hasattr(row.network, "cnn")
            with row.context(), part_timer(row.network, totals) if timed else nullcontext():
                start = time.process_time()
                row.network(*inputs)
                row.times.append(time.process_time() - start)
            for part, ms in totals.items():
                parts[row.label][part].append(ms)
    return parts


def print_tables(rows: list[Row], peak: float, parts: dict, args: argparse.Namespace) -> None:
    """The main table and, with ``--breakdown``, the per-part table."""
    pixels = args.batch * args.size**2 / 1e6
    seconds_of = {row.label: statistics.median(row.times) for row in rows}
    print(
        f"\n{args.batch}×{args.size}², CPU, {torch.get_num_threads()} thread(s), torch {torch.__version__}, "
        f"median CPU time of {args.repeats} paired repeats after {args.warmup} warm-up; "
        f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores; "
        f"fp32 matmul in this run: {peak:.1f} GFLOP per CPU-s"
        + (f"; fusion overrides {json.dumps(args.fusion)}" if args.fusion else "")
    )
    print()
    print(
        "| network | params (M) | GFLOPs (mm/conv) | elements written (G) | CPU-s | MPix per CPU-s "
        "| GFLOP per CPU-s | of matmul peak | throughput vs baseline |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        seconds = statistics.median(row.times)
        relative = f"{seconds_of[row.reference] / seconds:.2f}×" if row.reference in seconds_of else "–"
        print(
            f"| {row.label} | {row.parameters / 1e6:.2f} | {row.flops / 1e9:.2f} | {row.elements / 1e9:.2f} "
            f"| {seconds:.3f} | {pixels / seconds:.2f} | {row.flops / 1e9 / seconds:.1f} "
            f"| {row.flops / 1e9 / seconds / peak:.0%} | {relative} |"
        )
    if args.breakdown:
        labels = [row.label for row in rows if parts[row.label]]
        names = list(dict.fromkeys(part for label in labels for part in parts[label]))
        print("\n| part | " + " | ".join(f"{label} (ms)" for label in labels) + " |")
        print("|---|" + "---:|" * len(labels))
        for part in names:
            cells = " | ".join(
                f"{statistics.median(parts[label][part]):.0f}" if part in parts[label] else "–"
                for label in labels
            )
            print(f"| {part} | {cells} |")


def main() -> None:
    """Parse options, measure, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--widths", nargs="+", default=["small"], choices=["small", "base"])
    parser.add_argument("--size", type=int, default=512, help="input height and width")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="timed forward passes per network")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--before", help="git revision whose network code to compare with, same weights")
    parser.add_argument("--fusion", type=json.loads, default={}, help="FusionConfig overrides as JSON")
    parser.add_argument("--breakdown", action="store_true", help="also time each part of the network")
    parser.add_argument("--smoke", action="store_true", help="one pass on 64², for make bench-smoke")
    args = parser.parse_args()
    if args.smoke:
        args.size, args.repeats, args.warmup = 64, 1, 0
    os.environ["GEOFUSE_THREADS"] = str(args.threads)  # prepare_for_inference would take every core
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    inputs = (
        torch.randn(args.batch, 3, args.size, args.size, generator=generator),
        torch.randn(args.batch, 1, args.size, args.size, generator=generator),
    )
    rows = build_rows(args, inputs)
    peak = matmul_rate(0.2 if args.smoke else 2.0, 256 if args.smoke else 1024)
    parts = measure(rows, inputs, args)
    print_tables(rows, peak, parts, args)


if __name__ == "__main__":
    main()
