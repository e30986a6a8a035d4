"""How the two OT assignments treat the tokens of a trained model: coverage and transport cost per stage.

Segments the bundled sample with a checkpoint (default: the bundled demo model) and, at every fusion block
call, computes both plans on the block's own tokens X_p, X_g (the model itself runs as configured): the
argmin plan (each token to its nearest, many-to-one) and the one-to-one plan (an exact assignment), in the
block's OT mode and window. Prints, per stage and direction, the share of positions that receive a token
(100 % for one-to-one by construction; positions that receive none keep their own unaligned token under
argmin) and the mean cosine cost C(i, j*(i)) of the plan, averaged over all block calls of the run, plus the
mIoU of the sample with the model's own settings and with its OT switched to one-to-one (no retraining),
and the time the two plans took.

Usage:
    python bench/bench_ot.py [--model resources/models/geofuse_demo_small.pt] [--tile 512] [--smoke]

``--smoke`` runs on the sample's top-left 128² with 128² tiles (``make bench-smoke``).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import rasterio
import torch
import torch.nn.functional as F
from rasterio.windows import Window

from geofuse.backend.checkpoint import load_checkpoint
from geofuse.backend.data.folder import TileFiles
from geofuse.backend.evaluation import evaluate_tiles
from geofuse.backend.models.fusion import SynergisticFusionBlock
from geofuse.backend.models.optimal_transport import plan_statistics, transport_plans

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "sample"


def crop_sample(folder: Path, side: int) -> TileFiles:
    """The bundled sample's top-left side × side pixels, written to ``folder``."""
    paths = {}
    for name in ("optical", "elevation", "labels"):
        with rasterio.open(SAMPLE / f"{name}.tif") as source:
            window = Window(0, 0, side, side)
            profile = {**source.profile, "width": side, "height": side}
            profile["transform"] = source.window_transform(window)
            for key in ("blockxsize", "blockysize", "tiled"):  # a 128² crop is one strip
                profile.pop(key, None)
            paths[name] = folder / f"{name}.tif"
            with rasterio.open(paths[name], "w", **profile) as target:
                target.write(source.read(window=window))
    return TileFiles("sample", paths["optical"], paths["elevation"], paths["labels"])


def main() -> None:
    """Run the comparison and print the Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(ROOT / "resources" / "models" / "geofuse_demo_small.pt"))
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--smoke", action="store_true", help="the sample's top-left 128², 128² tiles")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="geofuse-bench-ot-")
    if args.smoke:
        args.tile = 128

    checkpoint = load_checkpoint(args.model)
    model = checkpoint.build_model()
    sample = TileFiles("sample", SAMPLE / "optical.tif", SAMPLE / "elevation.tif", SAMPLE / "labels.tif")
    if args.smoke:
        sample = crop_sample(Path(scratch.name), 128)
    stages = {id(block): stage for stage, block in enumerate(model.fusions)}
    sums: dict[tuple[int, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    seconds: dict[str, float] = defaultdict(float)

    def record(block: SynergisticFusionBlock, inputs: tuple[torch.Tensor, torch.Tensor]) -> None:
        f1, f2 = inputs
        height, width = f1.shape[-2:]
        weight = block.proj_in.weight.flatten(1)
        x_p = F.linear(f1.flatten(2).transpose(1, 2), weight, block.proj_in.bias)
        x_g = F.linear(f2.flatten(2).transpose(1, 2), weight, block.proj_in.bias)
        config = block.config
        for assignment in ("argmin", "one-to-one"):
            start = time.perf_counter()
            p_to_g, g_to_p = transport_plans(
                x_p, x_g, height, width, config.ot_mode, config.ot_chunk, config.ot_window, assignment
            )
            seconds[assignment] += time.perf_counter() - start
            for direction, plan, source, target in (("p→g", p_to_g, x_p, x_g), ("g→p", g_to_p, x_g, x_p)):
                share, cost = plan_statistics(source, target, plan)
                total = sums[(stages[id(block)], assignment, direction)]
                total[0] += share
                total[1] += cost
                total[2] += 1

    hooks = [block.register_forward_pre_hook(record) for block in model.fusions]
    own = evaluate_tiles(model, checkpoint.card, [sample], tile=args.tile).metrics().mean_iou
    for hook in hooks:
        hook.remove()
    for block in model.fusions:
        block.config = dataclasses.replace(block.config, ot_assignment="one-to-one")
    switched = evaluate_tiles(model, checkpoint.card, [sample], tile=args.tile).metrics().mean_iou

    plan = checkpoint.card.model.stage_plan()
    print(
        f"{Path(args.model).name} ({checkpoint.card.model.variant}, {checkpoint.card.model.width}, "
        f"reference size {checkpoint.card.model.reference_size}) on the bundled sample, {args.tile}² tiles; "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)\n"
    )
    print(
        "| stage | OT mode | direction | argmin: share receiving | one-to-one: share | argmin: mean cost "
        "| one-to-one: mean cost |"
    )
    print("|---|---|---|---:|---:|---:|---:|")
    for stage in range(len(model.fusions)):
        for direction in ("p→g", "g→p"):
            argmin = sums[(stage, "argmin", direction)]
            exact = sums[(stage, "one-to-one", direction)]
            calls = argmin[2]
            print(
                f"| {stage + 1} | {plan[stage]['ot']} | {direction} | {100 * argmin[0] / calls:.1f} % "
                f"| {100 * exact[0] / calls:.1f} % | {argmin[1] / calls:.3f} | {exact[1] / calls:.3f} |"
            )
    print(
        f"\nplans computed on the same tokens: argmin {seconds['argmin']:.2f} s, one-to-one "
        f"{seconds['one-to-one']:.2f} s in total; sample mIoU {100 * own:.2f} % as trained (argmin), "
        f"{100 * switched:.2f} % with one-to-one OT swapped in without retraining"
    )


if __name__ == "__main__":
    main()
