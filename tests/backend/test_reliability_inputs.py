"""Awkward inputs through ``geofuse segment``: each either gives a correct output or one clear error line.

:data:`CASES` is the table (tests/plugin/test_reliability_processing.py runs the same table through
``processing.run``). Every row also checks what must hold whatever the outcome: no partial output, no
temporary file left, and the files that were there before unchanged (hashed before and after). Rows run the
CLI's ``main()`` in-process (one row, paths with spaces and non-ASCII characters, runs it as a process),
with a small random-weight GeoFuseNet checkpoint: the rows test the engine's handling of the inputs, not
the model's accuracy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geofuse.backend.checkpoint import ModelCard, save_checkpoint
from geofuse.backend.classes import IGNORE_INDEX
from geofuse.backend.cli import main
from geofuse.backend.data.synthetic import generate_scene
from geofuse.backend.errors import EXIT_USER_ERROR
from geofuse.backend.inference import SegmentationCancelled, SegmentOptions, segment_rasters
from geofuse.backend.models import build_model

SIZE = 64
TILING = ["--tile", "64", "--overlap", "16"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_REASON = "running as root, which reads and writes whatever the permission bits say"


@dataclass(frozen=True)
class Inputs:
    """The paths one row segments; ``kept`` are further files that must come through unchanged."""

    optical: Path
    elevation: Path
    output: Path
    kept: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Case:
    """One row: how to make the inputs and what must come out.

    Attributes:
        build: Writes the inputs into a folder and says where the output goes.
        error: Regular expression the one-line error must match, or None for a run that succeeds.
        check: For a run that succeeds, assertions on the output's class raster and the inputs.
        overwrite: Pass ``--overwrite``.
        needs_permissions: Relies on permission bits, which do not stop root.
        xfail: Why the row fails today (a known bug, with the fix named in the reason), or None.
    """

    build: Callable[[Path], Inputs]
    error: str | None = None
    check: Callable[[np.ndarray, Inputs], None] | None = None
    overwrite: bool = False
    needs_permissions: bool = False
    xfail: str | None = None


# ------------------------------------------------------------------------------------------------ writing


def profile(transform: Affine, height: int, width: int, count: int, dtype: str, crs: str = "EPSG:32632"):
    return {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": count,
        "dtype": dtype,
        "crs": crs,
        "transform": transform,
    }


def write(path: Path, data: np.ndarray, transform: Affine, crs: str = "EPSG:32632", **extra) -> Path:
    data = data if data.ndim == 3 else data[None]
    path.parent.mkdir(parents=True, exist_ok=True)
    options = profile(transform, data.shape[1], data.shape[2], data.shape[0], data.dtype.name, crs) | extra
    with rasterio.open(path, "w", **options) as target:
        target.write(data)
    return path


SCENE = generate_scene(21, SIZE, SIZE)


def scene_inputs(
    folder: Path,
    optical: np.ndarray | None = None,
    dsm: np.ndarray | None = None,
    elevation_transform: Affine | None = None,
    optical_name: str = "optical.tif",
    elevation_name: str = "elevation.tif",
    output: Path | None = None,
    **elevation_options,
) -> Inputs:
    """The 64² scene as GeoTIFFs, with the optical, the DSM or the DSM's grid replaced where given."""
    optical_path = write(
        folder / optical_name, SCENE.optical if optical is None else optical, SCENE.transform
    )
    elevation_path = write(
        folder / elevation_name,
        SCENE.dsm if dsm is None else dsm,
        SCENE.transform if elevation_transform is None else elevation_transform,
        **elevation_options,
    )
    return Inputs(optical_path, elevation_path, output or folder / "out" / "classes.tif")


def reference(folder: Path) -> Inputs:
    return scene_inputs(folder)


def shifted(pixels_x: float, pixels_y: float) -> Callable[[Path], Inputs]:
    return lambda folder: scene_inputs(
        folder, elevation_transform=SCENE.transform * Affine.translation(pixels_x, pixels_y)
    )


def geographic(folder: Path) -> Inputs:
    transform, width, height = calculate_default_transform(
        "EPSG:32632", "EPSG:4326", SIZE, SIZE, *rasterio.transform.array_bounds(SIZE, SIZE, SCENE.transform)
    )
    warped = np.full((height, width), -9999.0, np.float32)
    reproject(
        SCENE.dsm,
        warped,
        src_transform=SCENE.transform,
        src_crs="EPSG:32632",
        dst_transform=transform,
        dst_crs="EPSG:4326",
        resampling=Resampling.bilinear,
        dst_nodata=-9999.0,
    )
    return scene_inputs(folder, dsm=warped, elevation_transform=transform, crs="EPSG:4326", nodata=-9999.0)


def coarser_elevation(folder: Path) -> Inputs:
    """The DSM at 1 m (10× the optical's 0.1 m), block means over an extent a little larger."""
    padded = np.pad(SCENE.dsm, ((0, 6), (0, 6)), mode="edge")
    coarse = padded.reshape(7, 10, 7, 10).mean(axis=(1, 3)).astype(np.float32)
    return scene_inputs(folder, dsm=coarse, elevation_transform=SCENE.transform * Affine.scale(10))


def finer_elevation(folder: Path) -> Inputs:
    """The DSM at 0.01 m (10× finer than the optical)."""
    fine = np.repeat(np.repeat(SCENE.dsm, 10, axis=0), 10, axis=1)
    return scene_inputs(folder, dsm=fine, elevation_transform=SCENE.transform * Affine.scale(0.1))


def with_dsm(values: Callable[[np.ndarray], np.ndarray], **options) -> Callable[[Path], Inputs]:
    return lambda folder: scene_inputs(folder, dsm=values(SCENE.dsm.copy()), **options)


def holes(folder: Path) -> Inputs:
    optical = SCENE.optical.astype(np.float32) / 255
    optical[0, 5:9, 5:9] = np.nan
    optical[2, 40:42, 10:20] = np.inf
    dsm = SCENE.dsm.copy()
    dsm[20:30, 30:33] = np.nan
    dsm[50, :] = np.inf
    dsm[:, 60] = -np.inf
    return scene_inputs(folder, optical=optical, dsm=dsm)


def hole_mask() -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), bool)
    mask[5:9, 5:9] = mask[40:42, 10:20] = mask[20:30, 30:33] = mask[50, :] = mask[:, 60] = True
    return mask


def one_pixel(folder: Path) -> Inputs:
    return Inputs(
        write(folder / "optical.tif", SCENE.optical[:, :1, :1], SCENE.transform),
        write(folder / "elevation.tif", SCENE.dsm[:1, :1], SCENE.transform),
        folder / "out" / "classes.tif",
    )


def unusual_names(folder: Path) -> Inputs:
    place = folder / "survey 2024" / "Ørthofoto 日本 ü"
    return scene_inputs(
        place,
        optical_name="optical image é.tif",
        elevation_name="höhe DSM.tif",
        output=place / "résultat final" / "classes 土地.tif",
    )


def missing_elevation(folder: Path) -> Inputs:
    inputs = reference(folder)
    inputs.elevation.unlink()
    return inputs


def not_a_raster(folder: Path) -> Inputs:
    inputs = reference(folder)
    inputs.optical.write_text("this is a text file with a .tif name\n", encoding="utf-8")
    return inputs


def unreadable(folder: Path) -> Inputs:
    inputs = reference(folder)
    inputs.elevation.chmod(0)
    return inputs


def read_only_output_folder(folder: Path) -> Inputs:
    inputs = reference(folder)
    inputs.output.parent.mkdir()
    inputs.output.parent.chmod(0o555)
    return inputs


def read_only_parent(folder: Path) -> Inputs:
    inputs = read_only_output_folder(folder)
    return Inputs(inputs.optical, inputs.elevation, inputs.output.parent / "new" / "classes.tif")


def output_is_input(folder: Path) -> Inputs:
    inputs = reference(folder)
    return Inputs(inputs.optical, inputs.elevation, inputs.elevation)


def output_is_a_hard_link_to_input(folder: Path) -> Inputs:
    inputs = reference(folder)
    link = folder / "out" / "classes.tif"
    link.parent.mkdir()
    os.link(inputs.optical, link)
    return Inputs(inputs.optical, inputs.elevation, link)


def existing_output(folder: Path) -> Inputs:
    inputs = reference(folder)
    inputs.output.parent.mkdir()
    inputs.output.write_bytes(b"an earlier result, to keep")
    return Inputs(inputs.optical, inputs.elevation, inputs.output, kept=(inputs.output,))


# -------------------------------------------------------------------------------------------- assertions


def all_classified(labels: np.ndarray, inputs: Inputs) -> None:
    assert labels.shape == (SIZE, SIZE)
    assert (labels < 6).all()


def mostly_classified(labels: np.ndarray, inputs: Inputs) -> None:
    assert labels.shape == (SIZE, SIZE)
    assert (labels < 6).mean() > 0.97 and not ((labels >= 6) & (labels != IGNORE_INDEX)).any()


def all_nodata(labels: np.ndarray, inputs: Inputs) -> None:
    assert labels.shape == (SIZE, SIZE) and (labels == IGNORE_INDEX).all()


def only_the_corner(labels: np.ndarray, inputs: Inputs) -> None:
    expected = np.full((SIZE, SIZE), True)
    expected[-1, -1] = False
    assert labels.shape == (SIZE, SIZE)
    assert np.array_equal(labels == IGNORE_INDEX, expected) and labels[-1, -1] < 6


def holes_are_nodata(labels: np.ndarray, inputs: Inputs) -> None:
    assert np.array_equal(labels == IGNORE_INDEX, hole_mask())
    assert (labels[~hole_mask()] < 6).all()


def one_class(labels: np.ndarray, inputs: Inputs) -> None:
    assert labels.shape == (1, 1) and labels[0, 0] < 6


def same_as_uint8(labels: np.ndarray, inputs: Inputs) -> None:
    expected = read_labels(inputs.output.parent / "reference.tif")
    assert (labels == expected).mean() >= 0.999


def as_uint16(folder: Path) -> Inputs:
    return scene_inputs(folder, optical=SCENE.optical.astype(np.uint16) * 257)


def as_float32(folder: Path) -> Inputs:
    return scene_inputs(folder, optical=SCENE.optical.astype(np.float32) / 255)


ROTATED = Affine.translation(500000, 5000000) * Affine.rotation(30) * Affine.scale(1, -1)
"""A 30° rotated optical grid (1 m pixels); the DSM below is north-up and covers part of it."""
DSM_GRID = Affine.translation(500010, 4999980) * Affine.scale(0.5, -0.5)


def rotated_optical(folder: Path) -> Inputs:
    optical = write(folder / "optical.tif", SCENE.optical, ROTATED)
    elevation = write(folder / "elevation.tif", np.full((40, 40), 3.0, np.float32), DSM_GRID)
    return Inputs(optical, elevation, folder / "out" / "classes.tif")


def nodata_outside_the_footprint(labels: np.ndarray, inputs: Inputs) -> None:
    """Optical pixels whose centre lies outside the DSM (by more than a DSM pixel's half-diagonal, the
    bilinear warp's reach) are nodata; those well inside are classified."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    x, y = ROTATED * (cols + 0.5, rows + 0.5)
    column, row = ~DSM_GRID * (x, y)
    margin = 1.0
    outside = (column < -margin) | (column > 40 + margin) | (row < -margin) | (row > 40 + margin)
    inside = (column > margin) & (column < 40 - margin) & (row > margin) & (row < 40 - margin)
    assert labels.shape == (SIZE, SIZE) and outside.sum() > 3000 and inside.sum() > 150
    assert (labels[outside] == IGNORE_INDEX).all(), f"{(labels[outside] != IGNORE_INDEX).sum()} classified"
    assert (labels[inside] < 6).all()


def complex_optical(folder: Path) -> Inputs:
    return scene_inputs(folder, optical=SCENE.optical.astype(np.complex64))


def output_is_a_folder(folder: Path) -> Inputs:
    inputs = scene_inputs(folder)
    inputs.output.mkdir(parents=True)
    return inputs


def existing_aux_xml(folder: Path) -> Inputs:
    inputs = scene_inputs(folder)
    inputs.output.parent.mkdir(parents=True)
    aux = inputs.output.with_name(inputs.output.name + ".aux.xml")
    aux.write_text("<PAMDataset/>\n")
    return Inputs(inputs.optical, inputs.elevation, inputs.output, (aux,))


def named(name: str) -> Callable[[Path], Inputs]:
    return lambda folder: scene_inputs(folder, output=folder / "out" / name)


def zipped_optical(folder: Path) -> Inputs:
    """The optical raster inside a ZIP, named the GDAL way (``/vsizip/{archive}/member``)."""
    import zipfile

    inputs = scene_inputs(folder)
    with zipfile.ZipFile(folder / "optical.zip", "w") as archive:
        archive.write(inputs.optical, "optical.tif")
    inputs.optical.unlink()
    return Inputs(Path(f"/vsizip/{{{folder / 'optical.zip'}}}/optical.tif"), inputs.elevation, inputs.output)


def dangling_link(folder: Path) -> Inputs:
    inputs = scene_inputs(folder)
    inputs.output.parent.mkdir(parents=True)
    inputs.output.symlink_to(folder / "nowhere.tif")
    return inputs


CASES: dict[str, Case] = {
    "no overlap": Case(shifted(1000, 0), error="does not overlap"),
    "one-pixel overlap": Case(shifted(SIZE - 1, SIZE - 1), check=only_the_corner),
    "projected optical, geographic elevation": Case(geographic, check=mostly_classified),
    "elevation 10x coarser": Case(coarser_elevation, check=all_classified),
    "elevation 10x finer": Case(finer_elevation, check=all_classified),
    "elevation with 3 bands": Case(
        lambda folder: scene_inputs(folder, dsm=np.stack([SCENE.dsm] * 3)), error="must be one band"
    ),
    "optical with 1 band": Case(
        lambda folder: scene_inputs(folder, optical=SCENE.optical[:1]), error="needs 3 optical bands"
    ),
    "optical with 2 bands": Case(
        lambda folder: scene_inputs(folder, optical=SCENE.optical[:2]), error="needs 3 optical bands"
    ),
    "optical uint16": Case(as_uint16, check=same_as_uint8),
    "optical float32": Case(as_float32, check=same_as_uint8),
    "DSM all NaN": Case(with_dsm(lambda d: np.full_like(d, np.nan)), check=all_nodata),
    "DSM all nodata": Case(with_dsm(lambda d: np.full_like(d, -9999.0), nodata=-9999.0), check=all_nodata),
    "DSM constant": Case(with_dsm(lambda d: np.full_like(d, 312.5)), check=all_classified),
    "NaN and inf inside": Case(holes, check=holes_are_nodata),
    "1x1 raster": Case(one_pixel, check=one_class),
    "spaces and non-ASCII in paths": Case(unusual_names, check=all_classified),
    "missing file": Case(missing_elevation, error="input raster not found: .*elevation.tif"),
    "not a raster": Case(not_a_raster, error="cannot read input raster"),
    "unreadable file": Case(unreadable, error="cannot read input raster", needs_permissions=True),
    "read-only output folder": Case(
        read_only_output_folder, error="[Pp]ermission denied", needs_permissions=True
    ),
    "read-only output folder, message names the output": Case(
        read_only_output_folder,
        error=r"out/classes\.tif.*[Pp]ermission denied",
        needs_permissions=True,
    ),
    "output in a new folder inside a read-only folder": Case(
        read_only_parent, error="[Pp]ermission denied", needs_permissions=True
    ),
    "output is an input": Case(output_is_input, error="is an input", overwrite=True),
    "output is a hard link to an input": Case(
        output_is_a_hard_link_to_input, error="is an input", overwrite=True
    ),
    "existing output": Case(existing_output, error="exists; pass overwrite"),
    "existing output, overwrite": Case(existing_output, check=all_classified, overwrite=True),
    "rotated optical, north-up DSM without nodata": Case(rotated_optical, check=nodata_outside_the_footprint),
    "complex-valued optical": Case(complex_optical, error="holds complex numbers"),
    "output is a folder": Case(output_is_a_folder, error="is a folder; name a file", overwrite=True),
    "existing .aux.xml without the raster": Case(existing_aux_xml, error=r"classes\.tif\.aux\.xml exists"),
    "output is a dangling symbolic link": Case(dangling_link, error="exists; pass overwrite"),
    "output named .gpkg": Case(named("classes.gpkg"), error=r"must end in \.tif or \.tiff \(not '\.gpkg'\)"),
    "output named .png": Case(named("classes.png"), error=r"must end in \.tif or \.tiff \(not '\.png'\)"),
    "output named .vrt": Case(named("classes.vrt"), error=r"must end in \.tif or \.tiff"),
    "output named .TIF": Case(named("classes.TIF"), check=all_classified),
    "optical inside a ZIP (/vsizip/)": Case(zipped_optical, check=all_classified),
}


# ---------------------------------------------------------------------------------------------- helpers


def read_labels(path: Path) -> np.ndarray:
    with rasterio.open(path) as dataset:
        return dataset.read(1)


def snapshot(folder: Path) -> dict[Path, str]:
    """Every readable file under ``folder`` with its SHA-256 (unreadable ones by name only)."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            try:
                found[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except PermissionError:
                found[path] = "unreadable"
    return found


def assert_clean_outcome(folder: Path, before: dict[Path, str], inputs: Inputs, succeeded: bool) -> None:
    """Inputs untouched, no temporary file, and outputs exactly when the run succeeded."""
    after = snapshot(folder)
    assert not [path for path in after if ".tmp" in path.name], "temporary files were left behind"
    outputs = {inputs.output, inputs.output.with_suffix(".qml"), Path(f"{inputs.output}.aux.xml")}
    changed = {path for path in before if after.get(path) != before[path]} - (outputs if succeeded else set())
    assert not changed, f"changed or removed: {sorted(changed)}"
    new = set(after) - set(before)
    assert new == (outputs - set(before) if succeeded else set()), f"unexpected files {sorted(new)}"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A random-weight small baseline GeoFuseNet (fast on a CPU), one torch thread while the module runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = build_model("baseline", width="small")
    yield save_checkpoint(tmp_path_factory.mktemp("model") / "model.pt", model, ModelCard(model.config))
    torch.set_num_threads(threads)


def run_row(case: Case, folder: Path, model: Path) -> tuple[Inputs, int, dict[Path, str]]:
    """Build the row's inputs (and, for rows that compare, the uint8 reference), run the CLI in-process."""
    inputs = case.build(folder)
    if case.check is same_as_uint8:
        base = reference(folder / "base")
        inputs.output.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            "segment",
            str(base.optical),
            str(base.elevation),
            "-o",
            str(inputs.output.parent / "reference.tif"),
        ]
        assert main([*argv, "--model", str(model), "--quiet", *TILING]) == 0
    before = snapshot(folder)
    argv = ["segment", str(inputs.optical), str(inputs.elevation), "-o", str(inputs.output)]
    argv += ["--model", str(model), "--quiet", "--device", "cpu", *TILING]
    argv += ["--overwrite"] if case.overwrite else []
    return inputs, main(argv), before


def row(name: str) -> object:
    """A row as a pytest parameter, marked xfail where the table says a known bug makes it fail."""
    reason = CASES[name].xfail
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else name


def assert_one_error_line(err: str, pattern: str) -> None:
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("geofuse: error: ")
    assert re.search(pattern, err), err


@pytest.mark.parametrize("name", [row(name) for name in CASES])
def test_input_through_the_cli(
    name: str, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    case = CASES[name]
    if case.needs_permissions and IS_ROOT:
        pytest.skip(ROOT_REASON)

    try:
        inputs, code, before = run_row(case, tmp_path, model_path)
        err = capsys.readouterr().err.strip()

        if case.error is None:
            assert code == 0, err
            case.check(read_labels(inputs.output), inputs)
        else:
            assert code == EXIT_USER_ERROR, err
            assert_one_error_line(err, case.error)
        assert_clean_outcome(tmp_path, before, inputs, succeeded=case.error is None)
    finally:
        for path in [tmp_path, *tmp_path.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)


UNPRIVILEGED = """
import json, sys
from geofuse.backend.cli import main
for argv in json.loads(sys.argv[1]):
    print(json.dumps(main(argv)), flush=True)
    print("geofuse: row done", file=sys.stderr, flush=True)
"""
PERMISSION_ROWS = [name for name, case in CASES.items() if case.needs_permissions]


@dataclass(frozen=True)
class UnprivilegedRow:
    """What one permission row gave when run as ``nobody``."""

    inputs: Inputs
    code: int
    stderr: str
    folder: Path
    before: dict[Path, str]


@pytest.fixture(scope="module")
def unprivileged(model_path: Path) -> Iterator[dict[str, UnprivilegedRow]]:
    """Root reads and writes whatever the permission bits say, so as root the permission rows run the CLI
    in one process that has dropped to the ``nobody`` user, in a world-readable folder."""
    import pwd
    import shutil
    import tempfile

    nobody = pwd.getpwnam("nobody")
    folder = Path(tempfile.mkdtemp(prefix="geofuse_permissions_"))
    try:
        folder.chmod(0o755)
        model = Path(shutil.copy(model_path, folder / "model.pt"))
        built = {name: CASES[name].build(folder / name.replace(" ", "_")) for name in PERMISSION_ROWS}
        before = snapshot(folder)
        argvs = [
            ["segment", str(inputs.optical), str(inputs.elevation), "-o", str(inputs.output), "--quiet",
             "--model", str(model), "--device", "cpu", *TILING]
            for inputs in built.values()
        ]  # fmt: skip

        def drop() -> None:
            os.setgid(nobody.pw_gid)
            os.setgroups([])
            os.setuid(nobody.pw_uid)

        try:
            probe = subprocess.run(
                [sys.executable, "-c", "import geofuse.backend.cli"], preexec_fn=drop, capture_output=True
            )
        except PermissionError:
            probe = None
        if probe is None or probe.returncode != 0:
            pytest.skip(f"'nobody' cannot run {sys.executable} with GeoFuse (a checkout only root can read)")
        done = subprocess.run(
            [sys.executable, "-c", UNPRIVILEGED, json.dumps(argvs)],
            preexec_fn=drop,
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ | {"OMP_NUM_THREADS": "1", "HOME": str(folder)},
            cwd=folder,
        )
        assert done.returncode == 0, done.stderr
        codes = [json.loads(line) for line in done.stdout.splitlines()]
        errors = done.stderr.split("geofuse: row done\n")[: len(built)]
        yield {
            name: UnprivilegedRow(inputs, code, error.strip(), folder, before)
            for (name, inputs), code, error in zip(built.items(), codes, errors, strict=True)
        }
    finally:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(folder)


@pytest.mark.skipif(not IS_ROOT, reason="these rows run in-process when not root")
@pytest.mark.parametrize("name", [row(name) for name in PERMISSION_ROWS])
def test_permission_rows_as_an_unprivileged_user(name: str, unprivileged: dict[str, UnprivilegedRow]) -> None:
    case, result = CASES[name], unprivileged[name]

    assert result.code == EXIT_USER_ERROR, result.stderr
    assert_one_error_line(result.stderr, case.error)
    assert_clean_outcome(result.folder, result.before, result.inputs, succeeded=False)


def test_paths_with_spaces_and_non_ascii_through_the_cli_process(model_path: Path, tmp_path: Path) -> None:
    inputs = unusual_names(tmp_path)
    before = snapshot(tmp_path)
    command = [sys.executable, "-m", "geofuse.backend.cli", "segment", str(inputs.optical),
               str(inputs.elevation), "-o", str(inputs.output), "--model", str(model_path), "--device", "cpu",
               *TILING]  # fmt: skip
    environment = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"}

    done = subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", timeout=120, env=environment
    )

    assert done.returncode == 0, done.stderr
    assert f"wrote {inputs.output}" in done.stdout
    all_classified(read_labels(inputs.output), inputs)
    assert_clean_outcome(tmp_path, before, inputs, succeeded=True)


# ------------------------------------------------------------------------------------ a huge virtual raster

HUGE = 100_000


def huge_vrt(folder: Path) -> Inputs:
    """100,000² optical and elevation VRTs, each one source (the 64² scene) stretched over the whole grid:
    GDAL reads only the source pixels a window needs, so nothing forces reading the raster whole."""
    small = reference(folder / "small")
    geo = ", ".join(str(v) for v in SCENE.transform.to_gdal())

    def vrt(source: Path, bands: list[tuple[int, str]], name: str) -> Path:
        body = "".join(
            f'<VRTRasterBand dataType="{dtype}" band="{band}"><SimpleSource>'
            f'<SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>{band}</SourceBand>'
            f'<SrcRect xOff="0" yOff="0" xSize="{SIZE}" ySize="{SIZE}"/>'
            f'<DstRect xOff="0" yOff="0" xSize="{HUGE}" ySize="{HUGE}"/></SimpleSource></VRTRasterBand>'
            for band, dtype in bands
        )
        path = folder / name
        path.write_text(
            f'<VRTDataset rasterXSize="{HUGE}" rasterYSize="{HUGE}"><SRS>EPSG:32632</SRS>'
            f"<GeoTransform>{geo}</GeoTransform>{body}</VRTDataset>",
            encoding="utf-8",
        )
        return path

    optical = vrt(small.optical, [(1, "Byte"), (2, "Byte"), (3, "Byte")], "optical.vrt")
    elevation = vrt(small.elevation, [(1, "Float32")], "elevation.vrt")
    return Inputs(optical, elevation, folder / "out" / "classes.tif")


def test_a_100000_pixel_square_virtual_raster_streams_and_cancels_cleanly(
    model_path: Path, tmp_path: Path
) -> None:
    inputs = huge_vrt(tmp_path)
    with rasterio.open(inputs.optical) as dataset:
        assert dataset.shape == (HUGE, HUGE)
    before = snapshot(tmp_path)
    seen: list[int] = []
    started = time.perf_counter()

    with pytest.raises(SegmentationCancelled):
        segment_rasters(
            inputs.optical,
            inputs.elevation,
            inputs.output,
            model_path,
            SegmentOptions(device="cpu", tile=64, overlap=8),
            progress=lambda state: seen.append(state.tiles_done),
            cancel=lambda: len(seen) >= 3,
        )

    elapsed = time.perf_counter() - started
    assert seen == [1, 2, 3]
    assert elapsed < 20, f"{elapsed:.1f} s to reach 3 tiles of a raster that is never read whole"
    assert_clean_outcome(tmp_path, before, inputs, succeeded=False)
    assert not inputs.output.parent.exists() or not list(inputs.output.parent.iterdir())
