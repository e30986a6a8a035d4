"""Write the bundled sample scene ``resources/sample/`` (run from anywhere; the output is reproducible).

One synthetic urban scene of 1024 × 1024 pixels at 0.1 m in UTM 32N (EPSG:32632) from
:func:`geofuse.backend.data.synthetic.generate_scene`, with a seed that no training run uses, so the demo
segments a scene the demo model never saw:

- ``optical.tif``: 3 × uint8 RGB;
- ``elevation.tif``: float32 DSM in metres (rounded to the centimetre, below the generator's 5 cm noise,
  so the file compresses well);
- ``labels.tif``: uint8 ISPRS class indices with the class colour table (the truth).

Files are deflate-compressed, tiled GeoTIFFs with predictors, a few MB in all.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import rasterio

from geofuse.backend.classes import ISPRS_CLASSES
from geofuse.backend.data.synthetic import GENERATOR_VERSION, generate_scene

SAMPLE_SEED = 20261129
"""Seed of the sample scene; training uses small seeds and (seed, index) pairs, never this one."""

SIZE = 1024
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "resources" / "sample"


def write_sample(folder: Path = SAMPLE_DIR, seed: int = SAMPLE_SEED, size: int = SIZE) -> None:
    """Generate and write the sample scene into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = generate_scene(seed, size, size, gsd=0.1, crs="EPSG:32632")
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "crs": scene.crs,
        "transform": scene.transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "zlevel": 9,
    }
    tags = {"GEOFUSE_SYNTHETIC_SEED": str(seed), "GEOFUSE_GENERATOR_VERSION": str(GENERATOR_VERSION)}
    with rasterio.open(
        folder / "optical.tif", "w", count=3, dtype="uint8", photometric="RGB", predictor=2, **profile
    ) as dst:
        dst.write(scene.optical)
        dst.update_tags(**tags)
    dsm = np.round(scene.dsm, 2).astype(np.float32)
    with rasterio.open(
        folder / "elevation.tif", "w", count=1, dtype="float32", predictor=3, **profile
    ) as dst:
        dst.write(dsm, 1)
        dst.update_tags(**tags, UNITS="metre")
    with rasterio.open(folder / "labels.tif", "w", count=1, dtype="uint8", nodata=255, **profile) as dst:
        dst.write(scene.labels, 1)
        dst.write_colormap(1, {info.index: (*info.colour, 255) for info in ISPRS_CLASSES})
        dst.update_tags(**tags)


def main() -> None:
    """Command line: ``python scripts/make_sample.py [--output DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=SAMPLE_DIR, help="folder to write (default: %(default)s)"
    )
    write_sample(parser.parse_args().output)


if __name__ == "__main__":
    main()
