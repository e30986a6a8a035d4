"""One prepared GPU check for GeoFuse (sized for under 8 minutes on one modern GPU; prints one table).

1. Selective scan: mamba-ssm's CUDA kernel against the PyTorch scan on the same CUDA tensors, outputs and
   the gradients of every input (float32; grouped and ungrouped B/C), as the largest relative difference.
   Without mamba-ssm (``pip install 'geofuse[cuda]'``) the row says so and the PyTorch scan is checked
   against a float64 run of itself instead.
2. Training: ``geofuse train``'s own loop (AMP on CUDA) for 50 steps on synthetic scenes, for a2 at the
   small and the base width and for the paper preset (small): steps/s, first and last loss, and whether
   every loss was finite.
   Also SS2D's merged four-direction scan (``selective_scan_orders``) by both of its routes on CUDA: the
   kernel's built sequences against the PyTorch gathers into the step layout, outputs and gradients.
3. Throughput: baseline and a2, small and base, single images of 1024² and 2048² under bf16 autocast,
   median of 10 timed passes after 3 warm-ups, with the a2/baseline ratio.
4. Segmentation: ``segment_rasters`` (the ``geofuse segment`` engine) with a2 small, random weights, on a
   synthetic 4096² raster pair with 1024² and 2048² tiles: megapixels per second end to end (reading,
   normalisation, blending and writing included).

On a machine without CUDA it prints one line saying so and exits with status 0.

Usage:
    python bench/gpu_check.py [--steps 50] [--output /tmp/geofuse-gpu-check] [--raster 4096]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch


def _relative(got: torch.Tensor, want: torch.Tensor) -> float:
    return float((got.float() - want.float()).abs().max() / want.float().abs().max().clamp(min=1e-12))


def _scan_and_grads(
    fn: Callable[..., object], inputs: dict[str, torch.Tensor], weight: torch.Tensor, dtype: torch.dtype
) -> list[torch.Tensor] | None:
    """[y, then ∂(Σ y·weight)/∂ every input] of one scan implementation on CUDA, or None if the guarded
    kernel failed at its first call."""
    leaves = {k: v.to("cuda", dtype).requires_grad_() for k, v in inputs.items()}
    y = fn(*leaves.values(), True, False)  # delta_softplus, no last state
    if y is None:
        return None
    grads = torch.autograd.grad((y * weight.to(dtype)).sum(), list(leaves.values()))
    return [y, *grads]


def check_scan() -> list[tuple[str, str, str]]:
    """Rows comparing the CUDA kernel (or float64) with the PyTorch scan, forward and backward."""
    from geofuse.backend.models import selective_scan as scan_module

    kernel = scan_module._mamba_ssm_kernel()
    rows = []
    for groups in (None, 2):
        generator = torch.Generator().manual_seed(0)
        batch, dim, state, length = 2, 64, 16, 4096
        shape_bc = (batch, state, length) if groups is None else (batch, groups, state, length)
        inputs = {
            "u": torch.randn(batch, dim, length, generator=generator),
            "delta": torch.randn(batch, dim, length, generator=generator) * 0.5 - 1.0,
            "A": -torch.exp(torch.randn(dim, state, generator=generator) * 0.5),
            "B": torch.randn(*shape_bc, generator=generator),
            "C": torch.randn(*shape_bc, generator=generator),
            "D": torch.randn(dim, generator=generator),
            "z": torch.randn(batch, dim, length, generator=generator),
            "delta_bias": torch.randn(dim, generator=generator) * 0.5,
        }
        weight = torch.randn(batch, dim, length, generator=generator).to("cuda")

        torch_path = _scan_and_grads(scan_module._torch_selective_scan, inputs, weight, torch.float32)
        if kernel is not None:
            label = "mamba-ssm kernel vs PyTorch scan (CUDA, fp32)"
            other = _scan_and_grads(kernel, inputs, weight, torch.float32)
        else:
            label = "PyTorch scan fp32 vs fp64 (CUDA; mamba-ssm not installed)"
            other = _scan_and_grads(scan_module._torch_selective_scan, inputs, weight, torch.float64)
        if torch_path is None or other is None:
            rows.append((label, f"groups={groups}", "kernel failed at its first call: fell back (see log)"))
            continue
        worst_forward = _relative(torch_path[0], other[0])
        worst_grad = max(_relative(a, b) for a, b in zip(torch_path[1:], other[1:], strict=True))
        result = f"y {worst_forward:.1e}, grads {worst_grad:.1e} (max rel.)"
        rows.append((label, f"groups={groups}, L={length}", result))
    rows.append(check_orders())
    return rows


def check_orders() -> tuple[str, str, str]:
    """SS2D's four-direction scan: mamba-ssm's route (built sequences) vs the PyTorch gathers, on CUDA."""
    from geofuse.backend.models import selective_scan as scan_module
    from geofuse.backend.models.vss import scan_orders

    generator = torch.Generator().manual_seed(1)
    batch, side, channels, state = 2, 64, 96, 16
    length, groups = side * side, 4
    inputs = {
        "u": torch.randn(batch, length, channels, generator=generator),
        "delta": torch.randn(batch, length, groups, channels, generator=generator) * 0.5 - 1.0,
        "A": -torch.exp(torch.randn(groups * channels, state, generator=generator) * 0.5),
        "B": torch.randn(batch, length, groups, state, generator=generator),
        "C": torch.randn(batch, length, groups, state, generator=generator),
        "D": torch.randn(groups * channels, generator=generator),
        "delta_bias": torch.randn(groups * channels, generator=generator) * 0.5,
    }
    orders = scan_orders(side, side, "cuda")
    weight = torch.randn(batch, length, channels, generator=generator).to("cuda")
    results = []
    for route in (scan_module._orders_as_sequences, scan_module._orders_in_steps):
        leaves = {k: v.to("cuda").requires_grad_() for k, v in inputs.items()}
        y = route(*list(leaves.values())[:5], orders, leaves["D"], leaves["delta_bias"], True)
        results.append([y, *torch.autograd.grad((y * weight).sum(), list(leaves.values()))])
    route = "mamba-ssm kernel" if scan_module._mamba_ssm_kernel() is not None else "PyTorch B×D×L scan"
    worst_grad = max(_relative(a, b) for a, b in zip(results[0][1:], results[1][1:], strict=True))
    return (
        f"SS2D four orders: {route} vs step-layout gathers (CUDA, fp32)",
        f"{side}×{side} map, E={channels}, N={state}",
        f"y {_relative(results[1][0], results[0][0]):.1e}, grads {worst_grad:.1e} (max rel.)",
    )


def check_training(steps: int, output: Path) -> list[tuple[str, str, str]]:
    """Rows for short AMP training runs through the project's own training loop."""
    from geofuse.backend.train_config import load_config
    from geofuse.backend.training import train

    rows = []
    data = output / "data"
    for label, overrides in (
        ("a2 small", ["model.width='small'"]),
        ("a2 base", ["model.width='base'"]),
        ("a2 small, paper preset", ["model.width='small'", "model.preset='paper'"]),
    ):
        name = label.replace(" ", "_").replace(",", "")
        losses: list[float] = []
        config = load_config(
            None,
            [
                *overrides,
                f"data.root='{data}'",
                "data.synthetic_train_scenes=4",
                "data.synthetic_val_scenes=1",
                f"train.steps={steps}",
                "train.batch_size=8",
                "train.crop_size=256",
                "train.device='cuda'",
                "train.amp=true",
                "train.val_every=1000",
                "train.checkpoint_every=100000",
                "optim.warmup_steps=5",
                f"train.output='{output / name}'",
            ],
        )
        torch.cuda.synchronize()
        start = time.perf_counter()
        train(config, progress=lambda p, into=losses: into.append(p.loss))
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        finite = all(torch.isfinite(torch.tensor(losses)).tolist()) if losses else False
        first, last = (f"{losses[0]:.3f}", f"{losses[-1]:.3f}") if losses else ("n/a", "n/a")
        rows.append(
            (
                f"AMP training, {steps} steps (batch 8, 256²)",
                label,
                f"{steps / elapsed:.2f} steps/s incl. validation; loss {first} → {last}; "
                f"all finite: {finite}",
            )
        )
    return rows


def check_throughput() -> list[tuple[str, str, str]]:
    """Rows of single-image bf16 throughput, baseline and a2, with their ratio."""
    from geofuse.backend.models import build_model

    rows = []
    for width in ("small", "base"):
        for size in (1024, 2048):
            speed = {}
            for variant in ("baseline", "a2"):
                model = build_model(variant, width=width).to("cuda").eval()
                optical = torch.rand(1, 3, size, size, device="cuda")
                elevation = torch.rand(1, 1, size, size, device="cuda")
                times = []
                with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
                    for index in range(13):
                        torch.cuda.synchronize()
                        start = time.perf_counter()
                        model(optical, elevation)
                        torch.cuda.synchronize()
                        if index >= 3:
                            times.append(time.perf_counter() - start)
                speed[variant] = 1.0 / statistics.median(times)
            rows.append(
                (
                    f"throughput {size}², bf16, batch 1",
                    f"{width}",
                    f"baseline {speed['baseline']:.1f} img/s, a2 {speed['a2']:.1f} img/s, "
                    f"a2/baseline {speed['a2'] / speed['baseline']:.2f}",
                )
            )
    return rows


def check_segmentation(raster: int, output: Path) -> list[tuple[str, str, str]]:
    """Rows of end-to-end ``segment_rasters`` throughput on CUDA at two tile sizes."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_inference import write_inputs

    from geofuse.backend.checkpoint import ModelCard, save_checkpoint
    from geofuse.backend.inference import LoadedModel, SegmentOptions, segment_rasters
    from geofuse.backend.models import build_model

    folder = output / "segment"
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    network = build_model("a2", width="small")
    path = save_checkpoint(folder / "model.pt", network, ModelCard(network.config))
    optical, elevation = write_inputs(folder, raster)
    model = LoadedModel.load(path, "cuda")
    rows = []
    for tile in (1024, 2048):
        options = SegmentOptions(device="cuda", tile=tile, overlap=64, overwrite=True)
        segment_rasters(optical, elevation, folder / "warm-up.tif", model, options)
        torch.cuda.synchronize()
        start = time.perf_counter()
        result = segment_rasters(optical, elevation, folder / "classes.tif", model, options)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        rows.append(
            (
                f"segment {raster}² raster, a2 small",
                f"tile {tile}², overlap 64",
                f"{raster * raster / 1e6 / seconds:.1f} MPix/s ({result.tiles} tiles, {seconds:.1f} s)",
            )
        )
    return rows


def main() -> int:
    """Run the checks and print the table; status 0 without CUDA (nothing to check)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=50, help="training steps per run")
    parser.add_argument("--output", help="folder for the training runs (default: a temporary folder)")
    parser.add_argument("--raster", type=int, default=4096, help="side of the segmented raster (pixels)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device is available (torch.cuda.is_available() is False); nothing checked.")
        return 0
    start = time.perf_counter()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(args.output) if args.output else Path(scratch)
        checks = {
            "scan": check_scan,
            "training": lambda: check_training(args.steps, output),
            "throughput": check_throughput,
            "segmentation": lambda: check_segmentation(args.raster, output),
        }
        for name, check in checks.items():
            try:
                rows += check()
            except Exception as error:  # one failed check must not hide the others' results
                message = str(error).splitlines()[0] if str(error) else ""
                rows.append((name, "error", f"{type(error).__name__}: {message}"))
    elapsed = time.perf_counter() - start
    device = torch.cuda.get_device_name()
    print(f"GeoFuse GPU check on {device}, torch {torch.__version__}, {elapsed:.0f} s\n")
    print("| check | setting | result |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
