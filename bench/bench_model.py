"""Benchmark the whole network, every variant against the baseline, on one input size (eval mode).

Prints a Markdown table with, per variant: parameters (total, and the fusion blocks' difference from the
baseline's), FLOPs as counted by ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and
convolutions only: the selective scan's recurrence, exp/softplus, norms, activations and OT's argmin are
not FLOPs to it), the elements written by all ops (a proxy for that elementwise work), the median latency,
throughput and the throughput ratio to the baseline measured in the same run. Timings are interleaved
(each repeat runs every variant once), so load from other processes affects all variants alike.

With the ``bench`` extra installed (segmentation_models_pytorch and a matching torchvision) a last row
measures the early-fusion U-Net (ResNet-18, optical + elevation stacked) that a user would pick instead;
without it the row is left out with a note.

``--breakdown`` adds a table of where one forward pass spends its time (stems, each stage of each
branch, each fusion block, decoder), median over the repeats.

Usage:
    python bench/bench_model.py [--variants baseline a2] [--size 512] [--width small] [--repeats 5]
        [--threads 2] [--fusion '{"d_state": 4}'] [--breakdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from geofuse.backend.early_fusion import EarlyFusionUNet, MissingExtraError
from geofuse.backend.models import GeoFuseNet, build_model
from geofuse.backend.models.network import VARIANTS


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


def parameter_count(module: nn.Module) -> int:
    """Number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())


@contextmanager
def part_timer(model: GeoFuseNet, totals: dict[str, float]) -> Iterator[None]:
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


def main() -> None:
    """Parse options, measure, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--size", type=int, default=512, help="input height and width")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--width", default="small")
    parser.add_argument("--repeats", type=int, default=5, help="timed forward passes per variant (≥ 5)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads; default: torch's")
    parser.add_argument("--fusion", type=json.loads, default={}, help="FusionConfig overrides as JSON")
    parser.add_argument("--breakdown", action="store_true", help="also time each part of the network")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = list(dict.fromkeys(["baseline", *args.variants]))
    torch.manual_seed(0)
    models = {}
    for name in variants:
        fusion = args.fusion if VARIANTS[name].sfb else {}
        models[name] = build_model(name, width=args.width, fusion=fusion).eval()
    unet_note = ""
    try:
        models["early-fusion U-Net (ResNet-18)"] = EarlyFusionUNet().eval()
    except MissingExtraError as error:
        unet_note = f"No U-Net row: {error}"
    optical = torch.randn(args.batch, 3, args.size, args.size)
    elevation = torch.randn(args.batch, 1, args.size, args.size)

    flops, elements = {}, {}
    with torch.no_grad():
        for name, model in models.items():
            with FlopCounterMode(display=False) as counter, ElementCounter() as written:
                model(optical, elevation)
            flops[name], elements[name] = counter.get_total_flops(), written.elements
            for _ in range(args.warmup):
                model(optical, elevation)
        times: dict[str, list[float]] = defaultdict(list)
        parts: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in models}
        for _ in range(args.repeats):
            for name, model in models.items():
                totals: dict[str, float] = defaultdict(float)
                timed = args.breakdown and isinstance(model, GeoFuseNet)
                with part_timer(model, totals) if timed else nullcontext():
                    start = time.perf_counter()
                    model(optical, elevation)
                    times[name].append(time.perf_counter() - start)
                for part, ms in totals.items():
                    parts[name][part].append(ms)

    base = "baseline"
    base_params = parameter_count(models[base].fusions)
    base_latency = statistics.median(times[base])
    print(
        f"GeoFuse {args.width}, {args.batch}×{args.size}×{args.size}, eval, CPU, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}, median of {args.repeats} "
        f"after {args.warmup} warm-up"
        + (f", fusion overrides {json.dumps(args.fusion)}" if args.fusion else "")
    )
    print()
    print(
        "| variant | params (M) | fusion Δ vs baseline (M) | GFLOPs (mm/conv) | FLOPs vs baseline "
        "| elements written (G) | latency (ms) | images/s | throughput vs baseline |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, model in models.items():
        latency = statistics.median(times[name])
        fusions = getattr(model, "fusions", None)  # the U-Net has no fusion blocks
        fusion_delta = "–" if fusions is None else f"{(parameter_count(fusions) - base_params) / 1e6:+.3f}"
        print(
            f"| {name} | {parameter_count(model) / 1e6:.3f} "
            f"| {fusion_delta} "
            f"| {flops[name] / 1e9:.2f} | {flops[name] / flops[base] - 1:+.1%} "
            f"| {elements[name] / 1e9:.2f} | {latency * 1e3:.0f} | {args.batch / latency:.2f} "
            f"| {base_latency / latency:.2f}× |"
        )
    if unet_note:
        print()
        print(unet_note)
    if args.breakdown:
        names = list(dict.fromkeys(part for name in models for part in parts[name]))
        print()
        print("| part | " + " | ".join(f"{name} (ms)" for name in models) + " |")
        print("|---|" + "---:|" * len(models))
        for part in names:
            cells = " | ".join(
                f"{statistics.median(parts[name][part]):.0f}" if part in parts[name] else "–"
                for name in models
            )
            print(f"| {part} | {cells} |")


if __name__ == "__main__":
    main()
