"""Adapting to another city from a few polygons: unadapted vs fine-tuned vs trained from scratch.

The shifted synthetic domain (``generate_scene(..., domain="shifted")``: other roof, road and vegetation
palettes, another camera, a noisier DSM with a datum offset, 0.15 m pixels) stands in for an analyst's own
area. On held-out scenes of that domain the script scores

* the bundled model as it is (``unadapted``);
* the bundled model fine-tuned (``geofuse finetune``'s function) from polygons an analyst might draw:
  ``--per-class`` squares of about ``--square-m`` metres per class, each inside one object of its class,
  on one training scene of the shifted domain, for ``--minutes`` of CPU time (``fine-tuned``);
* the same network trained from random weights on the same polygons for the same time (``from scratch``).

Seeds run side by side in ``--jobs`` processes.

Both trained arms run on one thread with their budget counted in this process's CPU time
(``train.budget_clock = "process"``), so a machine shared with other work gives them the same amount of
computation as an idle one (wall-clock minutes are printed too, with the load average). Each seed draws
other polygons and other crops. The table gives mean ± standard deviation over the seeds (and min..max),
per-class IoU, labelled pixels and the steps each run reached in its budget.

    .venv/bin/python bench/bench_adapt.py                         # 3 seeds, 3 CPU-minutes per run
    .venv/bin/python bench/bench_adapt.py --seeds 0 --minutes 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import fiona
import numpy as np

from geofuse.backend.checkpoint import load_checkpoint
from geofuse.backend.classes import ISPRS_CLASSES
from geofuse.backend.data.folder import folder_tiles
from geofuse.backend.data.synthetic import SHIFTED_GSD, generate_scene, write_scene, write_synthetic_folder
from geofuse.backend.evaluation import evaluate_tiles
from geofuse.backend.finetune import FinetuneRequest, finetune
from geofuse.backend.inference import DEMO_MODEL
from geofuse.backend.train_config import TrainConfig
from geofuse.backend.training import train

TRAIN_SEED = 7000
TEST_SEED = 7100
ARMS = ("unadapted", "fine-tuned", "from scratch")


def inside_positions(labels: np.ndarray, value: int, side: int) -> np.ndarray:
    """Top-left (row, col) of every side×side square lying wholly in class ``value`` (integral image)."""
    mask = (labels == value).astype(np.int32)
    integral = np.pad(mask.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (
        integral[side:, side:] - integral[:-side, side:] - integral[side:, :-side] + integral[:-side, :-side]
    )
    return np.argwhere(sums == side * side)


def draw_polygons(
    labels: np.ndarray, transform: object, crs: str, path: Path, per_class: int, square_m: float, seed: int
) -> dict[str, int]:
    """Write an analyst's training squares to a GeoPackage; returns the squares drawn per class.

    Each square is the largest of ``square_m``, ¾, ½ and ¼ of it (at least 2 pixels) that fits wholly
    inside an object of its class somewhere, placed at random among such places.
    """
    rng = np.random.default_rng(seed)
    schema = {"geometry": "Polygon", "properties": {"class": "str"}}
    drawn = {}
    with fiona.open(path, "w", driver="GPKG", crs=crs, schema=schema, layer="training") as sink:
        for info in ISPRS_CLASSES:
            for fraction in (1.0, 0.75, 0.5, 0.25):
                side = max(2, round(square_m * fraction / SHIFTED_GSD))
                places = inside_positions(labels, info.index, side)
                if len(places):
                    break
            if not len(places):
                continue
            chosen = places[rng.choice(len(places), size=min(per_class, len(places)), replace=False)]
            for row, col in chosen:
                x0, y0 = transform * (int(col), int(row))
                x1, y1 = transform * (int(col) + side, int(row) + side)
                ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
                sink.write(
                    {
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                        "properties": {"class": info.name},
                    }
                )
            drawn[info.name] = len(chosen)
    return drawn


def score(model_path: Path, tiles: list) -> dict:
    """mIoU (the ISPRS five) and per-class IoU of a checkpoint on the held-out tiles."""
    checkpoint = load_checkpoint(model_path)
    result = evaluate_tiles(checkpoint.build_model(), checkpoint.card, tiles)
    metrics = result.metrics()
    return {
        "miou": 100 * metrics.mean_iou,
        "iou": {c.name: (None if c.iou is None else 100 * c.iou) for c in metrics.classes},
        "steps": checkpoint.card.training.get("steps"),
    }


def from_scratch(args: argparse.Namespace, scene: dict, polygons: Path, folder: Path, seed: int) -> Path:
    """The bundled model's architecture and recipe from random weights, on the same polygons and time."""
    config = TrainConfig.from_dict(
        {
            "data": {
                "kind": "polygons",
                "optical": scene["optical"],
                "elevation": scene["elevation"],
                "polygons": str(polygons),
                "class_field": "class",
            },
            "optim": {"lr": 1e-3, "warmup_steps": 20},
            "train": {
                "steps": 100_000,
                "max_minutes": args.minutes,
                "budget_clock": "process",
                "threads": 1,
                "batch_size": args.batch_size,
                "crop_size": args.crop,
                "seed": seed,
                "checkpoint_every": 1_000_000,
                "output": str(folder),
            },
        }
    )
    return train(config)


def run_seed(args: argparse.Namespace, seed: int, shifted: object, scene: dict, tiles: list) -> dict:
    """One seed: draw the polygons, fine-tune and train from scratch on them, score both."""
    work = Path(args.workdir)
    polygons = work / f"polygons_{seed}.gpkg"
    polygons.unlink(missing_ok=True)
    drawn = draw_polygons(
        shifted.labels, shifted.transform, shifted.crs, polygons, args.per_class, args.square_m, seed
    )
    output = work / f"finetuned_{seed}.pt"
    started = time.perf_counter()
    request = FinetuneRequest(
        scene["optical"],
        scene["elevation"],
        str(polygons),
        "class",
        str(output),
        str(DEMO_MODEL),
        minutes=args.minutes,
        budget_clock="process",
        threads=1,
        steps=100_000,
        batch_size=args.batch_size,
        crop_size=args.crop,
        seed=seed,
        overwrite=True,
    )
    finetune(request)
    tuned = {**score(output, tiles), "minutes": (time.perf_counter() - started) / 60}
    started = time.perf_counter()
    scratch_model = from_scratch(args, scene, polygons, work / f"scratch_{seed}", seed)
    scratch = {**score(scratch_model, tiles), "minutes": (time.perf_counter() - started) / 60}
    card = load_checkpoint(output).card
    labelled = sum(card.training["data"]["polygons"]["labelled_pixels"].values())
    print(
        f"seed {seed}: polygons {drawn}, labelled px {labelled}, "
        f"fine-tuned {tuned['miou']:.1f} ({tuned['steps']} steps), "
        f"from scratch {scratch['miou']:.1f} ({scratch['steps']} steps)",
        flush=True,
    )
    return {"fine-tuned": tuned, "from scratch": scratch, "labelled": labelled}


def summarise(values: list[float], spread: bool = True) -> str:
    """mean ± standard deviation (and min..max) of a list of percentages."""
    if len(values) == 1 or len(set(values)) == 1:
        return f"{values[0]:.1f}"
    text = f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"
    return text + (f" ({min(values):.1f}..{max(values):.1f})" if spread else "")


def main() -> None:
    """Run every arm for every seed and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--minutes", type=float, default=3.0, help="CPU-time budget of each trained run")
    parser.add_argument("--per-class", type=int, default=5, help="polygons per class")
    parser.add_argument("--square-m", type=float, default=2.0, help="side of a polygon in metres")
    parser.add_argument("--train-size", type=int, default=1024, help="side of the training scene (pixels)")
    parser.add_argument("--test-scenes", type=int, default=3)
    parser.add_argument("--test-size", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--workdir", default="bench/results/adapt")
    parser.add_argument("--jobs", type=int, default=3, help="seeds run side by side (processes)")
    args = parser.parse_args()

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    shifted = generate_scene((TRAIN_SEED, 0), args.train_size, args.train_size, SHIFTED_GSD, domain="shifted")
    scene = {"optical": str(work / "optical.tif"), "elevation": str(work / "elevation.tif")}
    write_scene(shifted, scene["optical"], scene["elevation"], work / "labels.tif")
    write_synthetic_folder(
        work / "test", args.test_scenes, TEST_SEED, args.test_size, args.test_size, SHIFTED_GSD, "shifted"
    )
    tiles = folder_tiles(work / "test")

    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    unadapted = score(DEMO_MODEL, tiles)
    jobs = [(args, seed, shifted, scene, tiles) for seed in args.seeds]
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(run_seed, *zip(*jobs, strict=True)))
    rows: dict[str, list[dict]] = {
        "unadapted": [unadapted] * len(results),
        "fine-tuned": [result["fine-tuned"] for result in results],
        "from scratch": [result["from scratch"] for result in results],
    }
    labelled = [result["labelled"] for result in results]

    names = [info.name for info in ISPRS_CLASSES]
    print(
        f"\nShifted domain, {len(args.seeds)} seed(s), "
        f"{args.per_class} polygons/class of ≤ {args.square_m:g} m, "
        f"labelled pixels {summarise([float(v) for v in labelled])}, "
        f"budget {args.minutes:g} CPU-minutes (1 thread) per trained run, "
        f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n"
    )
    print("| model | mIoU (5 classes) | " + " | ".join(names) + " | steps | wall minutes |")
    print("|---|---:|" + "---:|" * len(names) + "---:|---:|")
    for arm in ARMS:
        runs = rows[arm]
        per_class = [
            summarise([r["iou"][name] for r in runs if r["iou"][name] is not None], spread=False)
            if any(r["iou"][name] is not None for r in runs)
            else "–"
            for name in names
        ]
        steps = "–" if arm == "unadapted" else summarise([float(r["steps"]) for r in runs], spread=False)
        minutes = "–" if arm == "unadapted" else f"{statistics.mean(r['minutes'] for r in runs):.1f}"
        print(
            f"| {arm} | {summarise([r['miou'] for r in runs])} | "
            + " | ".join(per_class)
            + f" | {steps} | {minutes} |"
        )
    tuned = [r["miou"] for r in rows["fine-tuned"]]
    gain = statistics.mean(tuned) - unadapted["miou"]
    lead = statistics.mean(tuned) - statistics.mean(r["miou"] for r in rows["from scratch"])
    print(
        f"\nfine-tuned − unadapted: {gain:+.1f} points (target ≥ +25: {'met' if gain >= 25 else 'NOT met'}); "
        f"fine-tuned − from scratch: {lead:+.1f} points (target ≥ +10: {'met' if lead >= 10 else 'NOT met'})"
    )
    (work / "results.json").write_text(
        json.dumps({"args": vars(args), "rows": rows}, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
