"""Miniature ISPRS Vaihingen and Potsdam downloads in every layout a user may have.

The miniatures keep the real archives' names, members, nesting, dtypes and band counts, with tiles
scaled down (Potsdam's 6000² px → 24², Vaihingen's ~2000×2500 → about 40×36):

- Vaihingen: ``ISPRS_semantic_labeling_Vaihingen.zip`` (``top/`` IRRG uint8, ``dsm/`` float32 metres,
  ``gts_for_participants/`` colour labels of the 16 training areas), ``..._ground_truth_COMPLETE.zip``
  (all 33 colour labels, flat) and ``..._ground_truth_eroded_COMPLETE.zip`` (``*_noBoundary``, flat,
  boundaries black). Vaihingen tiles carry no georeferencing.
- Potsdam: ``Potsdam.zip`` holding ``Potsdam/<product>.zip`` inner zips: ``1_DSM`` (float32),
  ``1_DSM_normalisation`` (8-bit single-band JPEGs, one of them one pixel narrower than its tile, as one
  real nDSM is 5999 px wide), ``2_Ortho_RGB``, ``3_Ortho_IRRG``, ``4_Ortho_RGBIR`` (uint8, 3/3/4 bands,
  in a folder named after the zip), ``5_Labels_all`` and ``5_Labels_all_noBoundary`` (colour labels, flat).

Layouts (``layout`` argument): ``"zips"`` (the downloads as they are), ``"unzipped"`` (every zip unzipped
in place, zips removed), ``"folder-per-zip"`` (each zip extracted into a folder named after it: double
nesting), ``"arranged"`` (today's hand-arranged folders).
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning

from geofuse.backend.classes import indices_to_colours
from geofuse.backend.data.isprs import SPLITS

POTSDAM_SIZE = 24
NARROW_NDSM = "2_10"
"""The miniature tile whose nDSM JPEG is one pixel narrower than the others."""
LAYOUTS = ("zips", "unzipped", "folder-per-zip", "arranged")
VAIHINGEN_ZIPS = {
    "main": "ISPRS_semantic_labeling_Vaihingen.zip",
    "complete": "ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE.zip",
    "eroded": "ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE.zip",
}
Archives = dict[str, dict[str, bytes]]
"""Archive name → member name → bytes (members that are themselves zips are built first)."""


def raster_bytes(data: np.ndarray, driver: str = "GTiff", georeferenced: bool = True) -> bytes:
    """A raster file's bytes (3-D data: bands first), written by rasterio in memory."""
    data = data if data.ndim == 3 else data[None]
    georef = {}
    if georeferenced and driver == "GTiff":
        georef = {"crs": "EPSG:32633", "transform": Affine(0.05, 0, 366_000.0, 0, -0.05, 5_808_000.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.MemoryFile() as memory:
            with memory.open(
                driver=driver,
                count=data.shape[0],
                height=data.shape[1],
                width=data.shape[2],
                dtype=data.dtype,
                **georef,
            ) as dst:
                dst.write(data)
            return memory.read()


def scene(seed: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(optical uint8 4×h×w with IR as band 4, DSM float32 metres, class indices): roofs 10 m up."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 6, (height, width), dtype=np.uint8)
    optical = rng.integers(0, 256, (4, height, width), dtype=np.uint8)
    dsm = (265.0 + rng.normal(0, 0.05, (height, width)) + 10.0 * (labels == 1)).astype(np.float32)
    return optical, dsm, labels


def eroded_colours(labels: np.ndarray) -> np.ndarray:
    """Colour labels with black boundaries in every 7th column, as the ``*_noBoundary`` references."""
    colours = indices_to_colours(labels)
    colours[:, :, ::7] = 0
    return colours


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deflated zip holding these members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def vaihingen_archives() -> Archives:
    """The three Vaihingen downloads (all 33 areas)."""
    main, complete, eroded = {}, {}, {}
    train = set(SPLITS["vaihingen"]["benchmark"]["train"])
    areas = sorted({*train, *SPLITS["vaihingen"]["benchmark"]["test"]}, key=int)
    for area in areas:
        optical, dsm, labels = scene(int(area), 40 + int(area) % 3 * 4, 36 + int(area) % 5 * 2)
        name = f"top_mosaic_09cm_area{area}.tif"
        main[f"top/{name}"] = raster_bytes(optical[[3, 0, 1]], georeferenced=False)
        main[f"dsm/dsm_09cm_matching_area{area}.tif"] = raster_bytes(dsm, georeferenced=False)
        colours = raster_bytes(indices_to_colours(labels), georeferenced=False)
        if area in train:
            main[f"gts_for_participants/{name}"] = colours
        complete[name] = colours
        eroded[f"top_mosaic_09cm_area{area}_noBoundary.tif"] = raster_bytes(
            eroded_colours(labels), georeferenced=False
        )
    return {
        VAIHINGEN_ZIPS["main"]: main,
        VAIHINGEN_ZIPS["complete"]: complete,
        VAIHINGEN_ZIPS["eroded"]: eroded,
    }


def potsdam_archives() -> Archives:
    """``Potsdam.zip`` with its inner zips (all 38 tiles)."""
    inner: dict[str, dict[str, bytes]] = {
        name: {}
        for name in (
            "1_DSM",
            "1_DSM_normalisation",
            "2_Ortho_RGB",
            "3_Ortho_IRRG",
            "4_Ortho_RGBIR",
            "5_Labels_all",
            "5_Labels_all_noBoundary",
        )
    }
    tiles = [*SPLITS["potsdam"]["benchmark"]["train"], *SPLITS["potsdam"]["benchmark"]["test"]]
    for index, tile in enumerate(tiles):
        a, b = (int(part) for part in tile.split("_"))
        optical, dsm, labels = scene(100 + index, POTSDAM_SIZE, POTSDAM_SIZE)
        ndsm = np.clip((dsm - 265.0) * 20, 0, 255).astype(np.uint8)
        if tile == NARROW_NDSM:
            ndsm = ndsm[:, :-1]
        inner["1_DSM"][f"1_DSM/dsm_potsdam_{a:02d}_{b:02d}.tif"] = raster_bytes(dsm)
        inner["1_DSM_normalisation"][
            f"1_DSM_normalisation/dsm_potsdam_{a:02d}_{b:02d}_normalized_lastools.jpg"
        ] = raster_bytes(ndsm, "JPEG")
        inner["2_Ortho_RGB"][f"2_Ortho_RGB/top_potsdam_{tile}_RGB.tif"] = raster_bytes(optical[:3])
        inner["3_Ortho_IRRG"][f"3_Ortho_IRRG/top_potsdam_{tile}_IRRG.tif"] = raster_bytes(optical[[3, 0, 1]])
        inner["4_Ortho_RGBIR"][f"4_Ortho_RGBIR/top_potsdam_{tile}_RGBIR.tif"] = raster_bytes(optical)
        inner["5_Labels_all"][f"top_potsdam_{tile}_label.tif"] = raster_bytes(indices_to_colours(labels))
        inner["5_Labels_all_noBoundary"][f"top_potsdam_{tile}_label_noBoundary.tif"] = raster_bytes(
            eroded_colours(labels)
        )
    return {"Potsdam.zip": {f"Potsdam/{name}.zip": zip_bytes(members) for name, members in inner.items()}}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _unzip_in_place(folder: Path, name: str, data: bytes, per_zip_folder: bool) -> None:
    """Extract an archive (and, recursively, the zips in it) as a user's unzip tool would."""
    target = folder / Path(name).stem if per_zip_folder else folder
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            content = archive.read(member)
            if member.lower().endswith(".zip"):
                _unzip_in_place(target / Path(member).parent, Path(member).name, content, per_zip_folder)
            else:
                _write(target / member, content)


def _arranged(root: Path, dataset: str, archives: Archives) -> None:
    """Today's hand-arranged layout: one folder per product, labels in their own folders."""
    if dataset == "vaihingen":
        for member, data in archives[VAIHINGEN_ZIPS["main"]].items():
            if not member.startswith("gts_for_participants/"):
                _write(root / member, data)
        for name, data in archives[VAIHINGEN_ZIPS["complete"]].items():
            _write(root / "gts_for_participants" / name, data)
        for name, data in archives[VAIHINGEN_ZIPS["eroded"]].items():
            _write(root / "gts_eroded_for_participants" / name, data)
        return
    for inner_name, inner in archives["Potsdam.zip"].items():
        product = Path(inner_name).stem
        with zipfile.ZipFile(io.BytesIO(inner)) as archive:
            for member in archive.namelist():
                _write(root / product / Path(member).name, archive.read(member))


def write_layout(root: Path, dataset: str, layout: str, archives: Archives) -> Path:
    """Lay the miniature archives out under ``root`` as ``layout`` says; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    if layout == "arranged":
        _arranged(root, dataset, archives)
        return root
    for name, members in archives.items():
        data = zip_bytes(members)
        if layout == "zips":
            _write(root / name, data)
        else:
            _unzip_in_place(root, name, data, per_zip_folder=layout == "folder-per-zip")
    return root
