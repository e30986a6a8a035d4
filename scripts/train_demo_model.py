"""Train the bundled demo model and show that fusion does its job (``make demo-model``).

Trains the ``small`` a2 model on synthetic scenes with ``configs/demo.toml``, and the same recipe with the
elevation input zeroed (``train.zero_elevation=true``), as two single-threaded processes side by side (one
per core of a 2-core CPU). Both are then evaluated with sliding-window inference over held-out synthetic
scenes (generator seeds no training or validation scene used). The a2 model is written to
``resources/models/geofuse_demo_small.pt`` with the held-out scores added to its card; the zero-elevation
model is only reported.

Targets: mIoU (five ISPRS classes) ≥ 85 % with elevation, and at least 10 points less without.
The exit status is 1 when a target is missed (the model is still written, and the numbers printed).

Usage:
    python scripts/train_demo_model.py [--config configs/demo.toml] [--output runs/demo] [overrides...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL_PATH = REPO / "resources" / "models" / "geofuse_demo_small.pt"
HELD_OUT_SEED = 1000
HELD_OUT_SCENES = 4
TARGET_MIOU = 0.85
TARGET_GAP = 0.10
RUNS = {"elevation": "a2", "zero_elevation": "a2_zero_elevation"}
"""Sub-folders of ``--output`` holding the two runs."""


def _prepare_data(config: Path, output: Path, overrides: list[str]) -> None:
    """Write the training and validation scenes once, before two processes would race to write them."""
    from geofuse.backend.data.kinds import prepare_data
    from geofuse.backend.train_config import load_config

    settings = load_config(config, [*overrides, f"data.root={json.dumps(str(output / 'data'))}"])
    prepare_data(settings)


def _train_processes(config: Path, output: Path, overrides: list[str]) -> dict[str, Path]:
    """Start both trainings at once and wait; each writes its log beside its run."""
    runs = {name: output / run for name, run in RUNS.items()}
    processes = {}
    for name, run in runs.items():
        run.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "geofuse.backend.cli", "train", "--config", str(config),
            f"train.output={json.dumps(str(run))}", f"data.root={json.dumps(str(output / 'data'))}",
            f"train.zero_elevation={'true' if name == 'zero_elevation' else 'false'}", *overrides,
        ]  # fmt: skip
        log = (run / "train.log").open("w", encoding="utf-8")
        processes[name] = (subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO), log)
        print(f"training {name}: {' '.join(command[3:])} (log: {run / 'train.log'})", flush=True)
    failed = []
    for name, (process, log) in processes.items():
        if process.wait() != 0:
            failed.append(name)
        log.close()
    if failed:
        raise SystemExit(f"training failed: {failed}; see the train.log files under {output}")
    return {name: run / "model.pt" for name, run in runs.items()}


def main() -> int:
    """Train, evaluate, write the demo model, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "demo.toml")
    parser.add_argument("--output", type=Path, default=REPO / "runs" / "demo")
    parser.add_argument("--model-path", type=Path, default=MODEL_PATH, help="where the demo model goes")
    parser.add_argument(
        "--skip-training",
        action="store_true",
        help="evaluate and package the models already in <output>/a2 and <output>/a2_zero_elevation",
    )
    parser.add_argument("overrides", nargs="*", help="config overrides (section.key=value)")
    args = parser.parse_args()

    import torch

    from geofuse.backend.checkpoint import load_checkpoint, save_checkpoint
    from geofuse.backend.data.kinds import dataset_tiles
    from geofuse.backend.evaluation import evaluate_tiles, write_report

    started = time.perf_counter()
    if args.skip_training:
        models = {name: args.output / run / "model.pt" for name, run in RUNS.items()}
    else:
        _prepare_data(args.config, args.output, args.overrides)
        models = _train_processes(args.config, args.output, args.overrides)
    trained = time.perf_counter() - started
    torch.set_num_threads(2)
    tiles = dataset_tiles(
        "synthetic", args.output / "heldout", synthetic_seed=HELD_OUT_SEED, synthetic_count=HELD_OUT_SCENES
    )
    scores = {}
    for name, path in models.items():
        checkpoint = load_checkpoint(path)
        result = evaluate_tiles(checkpoint.build_model(), checkpoint.card, tiles, tile=512, overlap=64)
        write_report(result, path.parent / "heldout_metrics.json", {"model": str(path)})
        scores[name] = result.metrics()
    with_elevation, without = scores["elevation"].mean_iou or 0.0, scores["zero_elevation"].mean_iou or 0.0

    demo = load_checkpoint(models["elevation"])
    demo.card.training["heldout"] = {
        "generator_seed": HELD_OUT_SEED,
        "scenes": HELD_OUT_SCENES,
        "metrics": scores["elevation"].to_dict(),
        "zero_elevation_mean_iou": without,
    }
    save_checkpoint(args.model_path, demo.build_model(), demo.card)

    if not args.skip_training:
        print(f"\ntraining (both models side by side): {trained / 60:.1f} min")
    for name, path in models.items():
        training = load_checkpoint(path).card.training
        print(f"{name}: {path}, {training['steps']} steps, {training.get('duration_s')} s")
    print(f"held-out synthetic scenes: generator seed {HELD_OUT_SEED}, {HELD_OUT_SCENES} scenes of 512²")
    print(
        "| model | mIoU (5 classes) | OA | mF1 | "
        + " | ".join(c.name for c in scores["elevation"].classes)
        + " |"
    )
    print("|---|---:|---:|---:|" + "---:|" * len(scores["elevation"].classes))
    for name, metrics in scores.items():
        ious = " | ".join("n/a" if c.iou is None else f"{100 * c.iou:.1f}" for c in metrics.classes)
        print(
            f"| {name} | {100 * (metrics.mean_iou or 0):.2f} | {100 * (metrics.overall_accuracy or 0):.2f} "
            f"| {100 * (metrics.mean_f1 or 0):.2f} | {ious} |"
        )
    print(f"\nwrote {args.model_path} ({args.model_path.stat().st_size / 1e6:.1f} MB)")
    ok = with_elevation >= TARGET_MIOU and with_elevation - without >= TARGET_GAP
    print(
        f"targets: mIoU ≥ {100 * TARGET_MIOU:.0f} %: {100 * with_elevation:.2f} %; gap to zero elevation ≥ "
        f"{100 * TARGET_GAP:.0f} points: {100 * (with_elevation - without):.2f} points -> "
        + ("met" if ok else "NOT met")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
