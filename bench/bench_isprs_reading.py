"""Benchmark reading training windows from a plain GeoTIFF, from inside a zip, and from a zip in a zip.

ISPRS downloads are zips (Potsdam: zips inside a zip) that GeoFuse reads in place through GDAL's
``/vsizip/``. This prints a Markdown table of the median time of ``--windows`` random square windows read
with :func:`geofuse.backend.data.folder.read_window` (three rasters per window: optical, DSM, labels,
uncompressed strip GeoTIFFs as the benchmark ships them, deflated in the zips), each raster reopened per
window or kept open (:class:`~geofuse.backend.data.folder.OpenRasters`, as the training datasets do), and
the ratio to the plain files, measured in the same run. It also times
:func:`geofuse.backend.data.archives.list_files` on the nested zip (one pass over each inner zip).

Example: ``python bench/bench_isprs_reading.py --size 3000 --window 256 --windows 20 --repeats 3``
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import rasterio

from geofuse.backend.classes import ISPRS_CLASSES, indices_to_colours
from geofuse.backend.data.archives import list_files
from geofuse.backend.data.folder import OpenRasters, TileFiles, inspect_tile, read_window
from geofuse.backend.data.normalize import NormalizationConfig

NAMES = ("optical.tif", "dsm.tif", "labels.tif")


def _rasters(size: int) -> dict[str, bytes]:
    """Optical (3 × uint8), DSM (float32) and colour labels with some spatial structure, as file bytes."""
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 6, (size // 50 + 1, size // 50 + 1))
    labels = np.kron(coarse, np.ones((50, 50), np.int64))[:size, :size].astype(np.uint8)
    optical = (labels[None] * 40 + rng.integers(0, 30, (3, size, size))).astype(np.uint8)
    dsm = (265.0 + 10.0 * (labels == 1) + rng.normal(0, 0.2, (size, size))).astype(np.float32)
    out = {}
    for name, data in zip(NAMES, (optical, dsm[None], indices_to_colours(labels)), strict=True):
        with rasterio.MemoryFile() as memory:
            with memory.open(
                driver="GTiff", count=data.shape[0], height=size, width=size, dtype=data.dtype
            ) as dst:
                dst.write(data)
            out[name] = memory.read()
    return out


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tile(paths: list[str]) -> TileFiles:
    optical, dsm, labels = (Path(path) for path in paths)
    return TileFiles("bench", optical, dsm, labels, label_colours=True, classes=ISPRS_CLASSES)


def _time_windows(tile: TileFiles, size: int, window: int, count: int, seed: int, keep: bool) -> float:
    info = inspect_tile(tile)
    rasters = OpenRasters(3 if keep else 0)
    rng = np.random.default_rng(seed)
    config = NormalizationConfig()
    start = time.perf_counter()
    for _ in range(count):
        row, col = (int(v) for v in rng.integers(0, size - window, 2))
        read_window(tile, info, row, col, window, config, rasters)
    return time.perf_counter() - start


def main() -> None:
    """Write the three layouts to a temporary folder and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=3000, help="tile side in pixels")
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--windows", type=int, default=20, help="windows per timing")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rasters = _rasters(args.size)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, data in rasters.items():
            (root / name).write_bytes(data)
        (root / "one.zip").write_bytes(_zip({f"product/{name}": data for name, data in rasters.items()}))
        (root / "outer.zip").write_bytes(_zip({"Potsdam/inner.zip": _zip(rasters)}))
        layouts = {
            "plain files": [str(root / name) for name in NAMES],
            "in a zip": [f"/vsizip/{{{root / 'one.zip'}}}/product/{name}" for name in NAMES],
            "in a zip in a zip": [
                f"/vsizip/{{/vsizip/{{{root / 'outer.zip'}}}/Potsdam/inner.zip}}/{name}" for name in NAMES
            ],
        }
        medians = {}
        for label, paths in layouts.items():
            tile = _tile(paths)
            for keep in (False, True):
                times = [
                    _time_windows(tile, args.size, args.window, args.windows, seed, keep)
                    for seed in range(args.repeats)
                ]
                medians[label, keep] = statistics.median(times) / args.windows
        listing = statistics.median(
            _timed(lambda: list_files(root / "outer.zip")) for _ in range(args.repeats)
        )
        sizes = {name: len(data) for name, data in rasters.items()}

    print(
        f"{args.size}² px tile ({sum(sizes.values()) / 1e6:.0f} MB in 3 rasters), {args.window}² windows, "
        f"median of {args.repeats} runs of {args.windows} windows\n"
    )
    print("| layout | rasters | ms per window | × plain (reopened) |")
    print("|---|---|---:|---:|")
    for (label, keep), seconds in medians.items():
        ratio = seconds / medians["plain files", False]
        print(f"| {label} | {'kept open' if keep else 'reopened'} | {1000 * seconds:.1f} | {ratio:.1f} |")
    print(f"\nlisting the zip in a zip: {1000 * listing:.0f} ms")


def _timed(function: object) -> float:
    start = time.perf_counter()
    function()  # type: ignore[operator]
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
