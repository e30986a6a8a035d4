"""The paper's §4.3 ablation: every variant trained and evaluated under one budget, several seeds each.

Each (variant, seed) run is an ordinary :func:`~geofuse.backend.training.train` run with only
``model.variant`` and ``train.seed`` changed, evaluated with sliding-window inference over the whole
validation tiles. The table gives mIoU, OA and mF1 as mean ± sample standard deviation over seeds, the
per-class IoU difference to the baseline (means over seeds), and the network's parameters, FLOPs and
single-image CPU throughput.
"""

from __future__ import annotations

import copy
import csv
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .checkpoint import load_checkpoint
from .evaluation import ModelCost, evaluate_tiles, measure_cost
from .metrics import SegmentationMetrics
from .models.network import VARIANTS, GeoFuseNet
from .training import TrainConfig, prepare_data, resolve_device, train


@dataclass
class VariantResult:
    """The runs of one variant: scores per seed and the network's cost."""

    variant: str
    runs: list[SegmentationMetrics] = field(default_factory=list)
    cost: ModelCost | None = None


def _mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    defined = [v for v in values if v is not None]
    if not defined:
        return None, None
    return statistics.fmean(defined), statistics.stdev(defined) if len(defined) > 1 else 0.0


def run_ablation(
    base: TrainConfig,
    variants: Sequence[str],
    seeds: int,
    output: str | Path,
    *,
    tile: int = 512,
    overlap: int = 64,
    cost_size: int = 256,
    log: Callable[[str], None] = print,
) -> list[VariantResult]:
    """Train and evaluate each variant with seeds 0..seeds-1 on ``base``'s data and budget.

    Args:
        base: The shared configuration (data, budget, optimiser); variant, seed and output are replaced.
        variants: Variant names, e.g. ``["baseline", "a0", "a1", "a2", "a3"]``.
        seeds: Runs per variant.
        output: Folder for the runs (``<variant>_seed<k>/``) and shared synthetic data.
        tile: Sliding-window tile size of the evaluation.
        overlap: Sliding-window overlap.
        cost_size: Input side for the FLOPs and throughput measurement.
        log: Receives one line per finished run.

    Raises:
        ValueError: For an unknown variant or fewer than one seed.
    """
    unknown = [name for name in variants if name not in VARIANTS]
    if unknown or seeds < 1:
        raise ValueError(f"unknown variants {unknown} or seeds {seeds} < 1; variants: {sorted(VARIANTS)}")
    output = Path(output)
    base = copy.deepcopy(base)
    if base.data.kind == "synthetic" and not base.data.root:
        base.data.root = str(output / "data")
    tiles = prepare_data(base).val
    if not tiles:
        raise ValueError("the ablation needs validation tiles (data.val_root for a folder dataset)")
    results = []
    for variant in variants:
        result = VariantResult(variant)
        for seed in range(seeds):
            config = copy.deepcopy(base)
            config.model.variant, config.train.seed = variant, seed
            config.train.output = str(output / f"{variant}_seed{seed}")
            checkpoint = load_checkpoint(train(config))
            device = resolve_device(config.train.device)
            model = checkpoint.build_model(device)
            evaluation = evaluate_tiles(
                model, checkpoint.card, tiles, tile=tile, overlap=overlap, device=device
            )
            metrics = evaluation.metrics()
            result.runs.append(metrics)
            log(f"{variant} seed {seed}: mIoU {metrics.mean_iou} OA {metrics.overall_accuracy}")
            if result.cost is None:
                result.cost = measure_cost(GeoFuseNet(checkpoint.card.model), cost_size)
        results.append(result)
    return results


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"


def ablation_rows(results: Sequence[VariantResult]) -> tuple[list[str], list[list[str]]]:
    """CSV header and rows: mean/std of mIoU, OA, mF1 (percent), per-class IoU Δ vs baseline, cost."""
    names = [scores.name for scores in results[0].runs[0].classes]
    baseline = next((r for r in results if r.variant == "baseline"), None)

    def class_iou(result: VariantResult, index: int) -> float | None:
        return _mean_std([run.classes[index].iou for run in result.runs])[0]

    header = ["variant", "seeds"]
    for key in ("miou", "oa", "mf1"):
        header += [f"{key}_mean", f"{key}_std"]
    header += [f"iou_delta_{name.replace(' ', '_')}" for name in names]
    header += ["params_m", "gflops", "images_per_s", "cost_input"]
    rows = []
    for result in results:
        row = [result.variant, str(len(result.runs))]
        for attribute in ("mean_iou", "overall_accuracy", "mean_f1"):
            mean, std = _mean_std([getattr(run, attribute) for run in result.runs])
            row += [_pct(mean), _pct(std)]
        for index in range(len(names)):
            mine = class_iou(result, index)
            base = class_iou(baseline, index) if baseline is not None else None
            row.append("n/a" if mine is None or base is None else f"{100 * (mine - base):+.2f}")
        cost = result.cost
        row += (
            [
                f"{cost.parameters / 1e6:.3f}",
                f"{cost.gflops:.2f}",
                f"{cost.images_per_s:.2f}",
                f"{cost.size}²",
            ]
            if cost is not None
            else ["n/a"] * 4
        )
        rows.append(row)
    return header, rows


def ablation_markdown(results: Sequence[VariantResult]) -> str:
    """The §4.3 table as Markdown: scores as mean ± std (%), ΔIoU per class vs the baseline, cost."""
    rows = ablation_rows(results)[1]
    names = [scores.name for scores in results[0].runs[0].classes]
    columns = ["variant", "mIoU (%)", "OA (%)", "mF1 (%)", *(f"ΔIoU {n}" for n in names)]
    columns += ["params (M)", "GFLOPs", "img/s (CPU)"]
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    for row in rows:
        scores = [f"{row[i]} ± {row[i + 1]}" for i in (2, 4, 6)]
        deltas = row[8 : 8 + len(names)]
        lines.append(
            "| " + " | ".join([row[0], *scores, *deltas, *row[8 + len(names) : 11 + len(names)]]) + " |"
        )
    cost_input = rows[0][-1] if rows else ""
    lines.append("")
    lines.append(
        f"{rows[0][1] if rows else 0} seed(s) per variant; mIoU/mF1 over the five ISPRS classes (clutter "
        f"excluded); ΔIoU in points vs baseline; FLOPs (matmul/conv only) and throughput at 1×{cost_input}."
    )
    return "\n".join(lines) + "\n"


def write_ablation(results: Sequence[VariantResult], output: str | Path) -> tuple[Path, Path]:
    """Write ``ablation.md`` and ``ablation.csv`` to ``output``."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    markdown = output / "ablation.md"
    markdown.write_text(ablation_markdown(results), encoding="utf-8")
    table = output / "ablation.csv"
    header, rows = ablation_rows(results)
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return markdown, table
