"""The paper's §4.3 ablation: every variant trained and evaluated under one budget, several seeds each.

An arm is a variant, optionally with options: ``a2+one-to-one`` (one-to-one OT), ``a2+full-scan``
(full-sequence scans at every stage), ``a2+window-ot`` (8×8 window OT at every stage), ``a2+paper`` (the
paper preset), see :data:`ARM_OPTIONS`; or ``unet``, the early-fusion U-Net a user would pick instead
(:mod:`~geofuse.backend.early_fusion`, needs the ``bench`` extra). Each (arm, seed) run is an ordinary
:func:`~geofuse.backend.training.train` run with only the model settings of the arm and ``train.seed``
changed (the U-Net: the same recipe in :func:`~geofuse.backend.early_fusion.train_early_fusion`), evaluated
with sliding-window inference over the whole validation tiles. Synthetic data can be drawn from several
domains of :mod:`~geofuse.backend.data.synthetic` (``home``, ``hard``, ``shifted``), each trained and scored
on its own scenes. The table gives mIoU, OA, mF1 and the per-class IoU as mean ± sample standard deviation
over seeds, the mIoU difference to the same domain's baseline and whether it lies inside the seed spread,
and the network's parameters, FLOPs and single-image CPU throughput.
"""

from __future__ import annotations

import copy
import csv
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from .checkpoint import ModelCard, load_checkpoint
from .data.folder import TileFiles
from .data.kinds import ensure_synthetic_folder, prepare_data
from .data.synthetic import DOMAINS
from .device import resolve_device
from .evaluation import ModelCost, evaluate_tiles, measure_cost
from .metrics import SegmentationMetrics
from .models.network import VARIANTS, GeoFuseNet
from .train_config import ModelSettings, TrainConfig
from .training import train

UNET_ARM = "unet"
"""The early-fusion U-Net (segmentation_models_pytorch, ResNet-18, optical + elevation stacked)."""

ARM_OPTIONS: dict[str, dict[str, Any]] = {
    "one-to-one": {"fusion": {"ot_assignment": "one-to-one"}},
    "argmin": {"fusion": {"ot_assignment": "argmin"}},
    "full-scan": {"fusion": {"scan_max_tokens": None}},
    "window-ot": {"fusion": {"ot_mode": "window"}},
    "paper": {"preset": "paper"},
}
"""Options an arm may add to its variant (``a2+one-to-one+full-scan``): model settings they change."""


@dataclass
class VariantResult:
    """The runs of one arm on one domain: scores per seed, the network's cost and the runs' wall time."""

    variant: str
    runs: list[SegmentationMetrics] = field(default_factory=list)
    cost: ModelCost | None = None
    seconds: list[float] = field(default_factory=list)
    domain: str = "home"
    steps: list[int] = field(default_factory=list)
    """Training steps each run took (under a time budget they differ between arms)."""


def parse_arm(arm: str) -> tuple[str, list[str]]:
    """``"a2+one-to-one"`` → ``("a2", ["one-to-one"])``; ``"unet"`` → ``("unet", [])``.

    Raises:
        ValueError: for an unknown variant or option.
    """
    variant, *options = (part.strip() for part in arm.split("+"))
    if variant == UNET_ARM and not options:
        return variant, []
    unknown = [o for o in options if o not in ARM_OPTIONS]
    if variant not in VARIANTS or unknown:
        raise ValueError(
            f"unknown arm {arm!r}: variants {sorted(VARIANTS)} or {UNET_ARM!r}, options (joined with +) "
            f"{sorted(ARM_OPTIONS)}"
        )
    if options and not VARIANTS[variant].sfb:
        raise ValueError(f"arm {arm!r}: the baseline has no fusion options")
    return variant, options


def apply_arm(model: ModelSettings, arm: str) -> None:
    """Set ``model``'s variant and the arm's options (in place).

    Raises:
        ValueError: For an unknown arm, or the U-Net (not a GeoFuse setting).
    """
    variant, options = parse_arm(arm)
    if variant == UNET_ARM:
        raise ValueError(f"arm {arm!r} is not a GeoFuse model setting")
    model.variant = variant
    for option in options:
        for key, value in ARM_OPTIONS[option].items():
            if key == "fusion":
                model.fusion = {**model.fusion, **value}
            else:
                setattr(model, key, value)


def _mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    defined = [v for v in values if v is not None]
    if not defined:
        return None, None
    return statistics.fmean(defined), statistics.stdev(defined) if len(defined) > 1 else 0.0


def domain_config(base: TrainConfig, domain: str, output: Path) -> TrainConfig:
    """``base`` for one domain: ``"home"`` is the data as configured (the home synthetic scenes by default,
    or any dataset the config names), another synthetic domain becomes folders of its scenes (same
    counts, seeds, size and gsd) written under ``output/data-<domain>``.

    Raises:
        ValueError: For an unknown domain, or a domain other than home with non-synthetic data.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: one of {DOMAINS}")
    config = copy.deepcopy(base)
    if domain == "home":
        if config.data.kind == "synthetic" and not config.data.root:
            config.data.root = str(output / "data")
        return config
    if config.data.kind != "synthetic":
        raise ValueError(f"domain {domain!r} needs synthetic data (data.kind = 'synthetic')")
    settings, root = config.data, output / f"data-{domain}"
    for part, count, seed in (
        ("train", settings.synthetic_train_scenes, settings.synthetic_seed),
        ("val", settings.synthetic_val_scenes, settings.synthetic_seed + 1),
    ):
        ensure_synthetic_folder(
            root / part, count, seed, settings.synthetic_size, settings.synthetic_gsd, domain=domain
        )
    settings.kind, settings.root, settings.val_root = "folder", str(root / "train"), str(root / "val")
    return config


def _train_arm(config: TrainConfig, arm: str) -> tuple[nn.Module, ModelCard]:
    """Train one run of ``arm`` and return the network (eval mode, on the run's device) and its card."""
    if arm == UNET_ARM:
        from .early_fusion import train_early_fusion

        run = train_early_fusion(config)
        return run.model, run.card
    apply_arm(config.model, arm)
    checkpoint = load_checkpoint(train(config))
    return checkpoint.build_model(resolve_device(config.train.device)), checkpoint.card


def run_ablation(
    base: TrainConfig,
    variants: Sequence[str],
    seeds: int,
    output: str | Path,
    *,
    domains: Sequence[str] = ("home",),
    tile: int = 512,
    overlap: int = 64,
    cost_size: int = 256,
    log: Callable[[str], None] = print,
) -> list[VariantResult]:
    """Train and evaluate each arm with seeds 0..seeds-1 on ``base``'s data and budget, on each domain.

    Seeds form the outer loop (seed 0 of every domain and arm, then seed 1, ...) and the tables are
    rewritten after every run, so an ablation cut short keeps every arm with the seeds it finished.

    Args:
        base: The shared configuration (data, budget, optimiser); the arm's model settings, the seed and
            the output are replaced.
        variants: Arm names, e.g. ``["baseline", "a0", "a1", "a2", "a3", "a2+one-to-one", "unet"]``.
        seeds: Runs per arm and domain.
        output: Folder for the runs (``<domain>/<arm>_seed<k>/``), the synthetic data and the tables.
        domains: Synthetic domains (:data:`~geofuse.backend.data.synthetic.DOMAINS`); other than
            ``"home"`` only with synthetic data.
        tile: Sliding-window tile size of the evaluation.
        overlap: Sliding-window overlap.
        cost_size: Input side for the FLOPs and throughput measurement.
        log: Receives one line per finished run.

    Raises:
        ValueError: For an unknown arm or domain, or fewer than one seed.
        MissingExtraError: For the U-Net arm without the ``bench`` extra (before anything is trained).
    """
    for arm in variants:
        parse_arm(arm)
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if UNET_ARM in variants:
        from .early_fusion import import_smp

        import_smp()
    output = Path(output)
    configs: dict[str, TrainConfig] = {}
    tiles: dict[str, list[TileFiles]] = {}
    for domain in domains:
        configs[domain] = domain_config(base, domain, output)
        tiles[domain] = prepare_data(configs[domain]).val
        if not tiles[domain]:
            raise ValueError("the ablation needs validation tiles (data.val_root for a folder dataset)")
    results = {(domain, arm): VariantResult(arm, domain=domain) for domain in domains for arm in variants}
    for seed in range(seeds):
        for domain in domains:
            for arm in variants:
                result = results[domain, arm]
                start = time.perf_counter()
                config = copy.deepcopy(configs[domain])
                config.train.seed = seed
                config.train.output = str(output / domain / f"{arm}_seed{seed}")
                model, card = _train_arm(config, arm)
                device = resolve_device(config.train.device)
                evaluation = evaluate_tiles(
                    model, card, tiles[domain], tile=tile, overlap=overlap, device=device
                )
                metrics = evaluation.metrics()
                result.runs.append(metrics)
                result.seconds.append(time.perf_counter() - start)
                result.steps.append(int(card.training.get("steps") or 0))
                log(
                    f"{domain} {arm} seed {seed}: mIoU {metrics.mean_iou} OA {metrics.overall_accuracy} "
                    f"({result.steps[-1]} steps, {result.seconds[-1]:.0f} s)"
                )
                if result.cost is None:
                    network = model.cpu() if arm == UNET_ARM else GeoFuseNet(card.model)
                    result.cost = measure_cost(network, cost_size)
                # The table so far: a long ablation cut short keeps its runs.
                write_ablation([r for r in results.values() if r.runs], output)
    return list(results.values())


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"


def _within_spread(result: VariantResult, baseline: VariantResult | None) -> str:
    """mIoU difference to the baseline in points, and whether it is inside the two arms' seed spreads."""
    if baseline is None or result is baseline:
        return ""
    mine, my_std = _mean_std([run.mean_iou for run in result.runs])
    base, base_std = _mean_std([run.mean_iou for run in baseline.runs])
    if mine is None or base is None:
        return "n/a"
    delta = mine - base
    inside = abs(delta) <= (my_std or 0.0) + (base_std or 0.0)
    return f"{100 * delta:+.2f}" + (" (inside spread)" if inside else "")


def ablation_rows(results: Sequence[VariantResult]) -> tuple[list[str], list[list[str]]]:
    """CSV header and rows: mean/std of mIoU, OA, mF1 and per-class IoU (percent), ΔmIoU vs the same
    domain's baseline, per-class IoU Δ vs it, cost, mean training steps and wall seconds per run."""
    names = [scores.name for scores in results[0].runs[0].classes]
    slugs = [name.replace(" ", "_") for name in names]
    baselines = {r.domain: r for r in results if r.variant == "baseline"}

    def class_iou(result: VariantResult, index: int) -> tuple[float | None, float | None]:
        return _mean_std([run.classes[index].iou for run in result.runs])

    header = ["variant", "domain", "seeds"]
    for key in ("miou", "oa", "mf1", *(f"iou_{slug}" for slug in slugs)):
        header += [f"{key}_mean", f"{key}_std"]
    header += ["miou_delta"]
    header += [f"iou_delta_{slug}" for slug in slugs]
    header += ["params_m", "gflops", "images_per_s", "cost_input", "steps_per_run", "seconds_per_run"]
    rows = []
    for result in results:
        baseline = baselines.get(result.domain)
        row = [result.variant, result.domain, str(len(result.runs))]
        for attribute in ("mean_iou", "overall_accuracy", "mean_f1"):
            mean, std = _mean_std([getattr(run, attribute) for run in result.runs])
            row += [_pct(mean), _pct(std)]
        for index in range(len(names)):
            row += [_pct(value) for value in class_iou(result, index)]
        row.append(_within_spread(result, baseline))
        for index in range(len(names)):
            mine = class_iou(result, index)[0]
            base = class_iou(baseline, index)[0] if baseline is not None else None
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
        row.append(f"{statistics.fmean(result.steps):.0f}" if result.steps else "n/a")
        row.append(f"{statistics.fmean(result.seconds):.0f}" if result.seconds else "n/a")
        rows.append(row)
    return header, rows


def ablation_markdown(results: Sequence[VariantResult]) -> str:
    """The §4.3 table as Markdown: scores and per-class IoU as mean ± std (%), ΔmIoU vs the same domain's
    baseline (marked when inside the seed spread), training steps, cost."""
    header, rows = ablation_rows(results)
    names = [scores.name for scores in results[0].runs[0].classes]
    columns = ["arm", "domain", "seeds", "steps", "mIoU (%)", "ΔmIoU", "OA (%)", "mF1 (%)"]
    columns += [f"IoU {n}" for n in names]
    columns += ["params (M)", "GFLOPs", "img/s (CPU)"]
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    at = {key: index for index, key in enumerate(header)}
    for row in rows:
        pairs = ["miou", "oa", "mf1", *(f"iou_{n.replace(' ', '_')}" for n in names)]
        scores = {key: f"{row[at[key + '_mean']]} ± {row[at[key + '_std']]}" for key in pairs}
        cells = [row[at["variant"]], row[at["domain"]], row[at["seeds"]], row[at["steps_per_run"]]]
        cells += [scores["miou"], row[at["miou_delta"]] or "—", scores["oa"], scores["mf1"]]
        cells += [scores[key] for key in pairs[3:]]
        cells += [row[at["params_m"]], row[at["gflops"]], row[at["images_per_s"]]]
        lines.append("| " + " | ".join(cells) + " |")
    cost_input = rows[0][at["cost_input"]] if rows else ""
    lines.append("")
    lines.append(
        "Mean ± sample std over the seeds; steps: training steps per run (mean); mIoU/mF1 over the five "
        'ISPRS classes (clutter excluded); ΔmIoU in points vs the same domain\'s baseline, "inside spread" '
        "when |Δ| ≤ the sum of the two arms' std; FLOPs (matmul/conv only, torch.utils.flop_counter) and "
        f"throughput at 1×{cost_input}."
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
