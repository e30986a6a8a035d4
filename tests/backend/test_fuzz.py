"""Property-based attacks (hypothesis) on every way in: worker request lines, CLI arguments, worker requests
with real files, masks, extents and raster pairs. The promises, asserted as properties:

* the process ends within :data:`TIME_BOUND` seconds;
* the worker sends exactly one final message (result, error or cancelled), last, and only JSON lines; the
  CLI's refusal is one ``error:`` line; an error caused by the input is a ``user`` error, never "report this
  as a bug", and no traceback reaches stderr;
* no file appears beyond the declared outputs, and no file that existed changes (unless overwritten by
  request);
* in an output, every pixel without both inputs (optical nodata, outside the elevation's footprint, outside
  the mask) is nodata.

The examples are derandomized (``derandomize=True``, no example database), so CI runs the same cases every
time; ``make fuzz`` runs :data:`SCALE` = 10 times as many (``GEOFUSE_FUZZ_SCALE``). Worker and CLI lines run
in subprocesses; requests with real rasters run through ``worker.serve`` and the engine in-process with the
``tiny`` stand-in network of ``conftest.py`` (each subprocess with torch costs seconds).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from rasterio.warp import transform as transform_points
from segment_runs import CHILD_ENV

from geofuse.backend import errors, worker
from geofuse.backend.classes import IGNORE_INDEX
from geofuse.backend.inference import LoadedModel, SegmentationError, SegmentOptions, segment_rasters

SCALE = int(os.environ.get("GEOFUSE_FUZZ_SCALE", "1"))
TIME_BOUND = 30
"""Seconds a worker or CLI process may take to refuse a bad input (generous: the CI machine is shared)."""


def fuzz(examples: int) -> settings:
    """Derandomized settings: the same ``examples`` cases on every run (× SCALE under ``make fuzz``)."""
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# ----------------------------------------------------------------------------------- worker request lines

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
HOSTILE_NUMBER = st.sampled_from(["1e308", "-1e308", "1e999", "9" * 400, "-" + "9" * 40, "NaN", "Infinity"])
FIELDS = [
    "model",
    "confidence",
    "mask",
    "device",
    "tile",
    "overlap",
    "batch_size",
    "extent",
    "optical_bands",
    "overwrite",
    "optical",
    "elevation",
]


@st.composite
def request_lines(draw: st.DrawFn) -> bytes:
    """A request line as a careless or hostile caller might write it: random bytes, deep nesting, huge or
    non-finite number literals, or a segment request with fields of any JSON type; never a usable output,
    so every case is refused before torch loads (a usable request is the in-process tests' business)."""
    kind = draw(st.sampled_from(["bytes", "deep", "number", "fields", "not an object"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)).replace(b"\n", b" ") + b"\n"
    if kind == "deep":
        depth = draw(st.integers(65, 200_000))
        return ("[" * depth + "]" * depth).encode() + b"\n"
    if kind == "not an object":
        return json.dumps(draw(JSON.filter(lambda value: not isinstance(value, dict)))).encode() + b"\n"
    fields = draw(st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6))
    request = json.dumps({"command": "segment", **fields, "output": draw(st.none() | st.integers())})
    if kind == "number":
        request = request[:-1] + ', "tile": ' + draw(HOSTILE_NUMBER) + "}"
    return request.encode() + b"\n"


@fuzz(30)
@given(line=request_lines())
@example(line=b"\xff\xfe\xfd not UTF-8\n")
@example(line=b"[" * 100_000 + b"]" * 100_000 + b"\n")
@example(line=b'{"command": "segment", "tile": ' + b"9" * 400 + b"}\n")
@example(line=b'{"command": "segment", "extent": [-1e308, -1e308, 1e308, 1e308]}\n')
@example(line=b'{"x": "' + b"a" * (3 << 20) + b'"}\n')
@example(line=b'{"command": "segment", "optical_bands": [1.5, 2, 3], "output": 1}\n')
def test_worker_answers_any_request_line_with_exactly_one_final_message(line: bytes, tmp_path: Path) -> None:
    folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "geofuse.backend.worker"],
        input=line,
        capture_output=True,
        timeout=TIME_BOUND,
        cwd=folder,
        env=CHILD_ENV,
    )
    messages = [json.loads(text) for text in done.stdout.decode("utf-8").splitlines()]
    finals = [message for message in messages if message["type"] in ("result", "error", "cancelled")]
    assert len(finals) == 1 and finals[0] is messages[-1], messages
    assert finals[0]["type"] == "error" and finals[0]["kind"] == "user", finals[0]
    assert len(finals[0]["message"]) < 600 and len(done.stdout) < 30_000
    assert done.returncode == errors.EXIT_USER_ERROR
    assert b"Traceback" not in done.stderr
    assert snapshot(folder) == {}


# ------------------------------------------------------------------------------------------ CLI arguments

HOSTILE_TEXT = st.one_of(
    st.text(st.characters(blacklist_characters="\x00"), max_size=30),  # argv cannot carry NUL
    HOSTILE_NUMBER,
    st.sampled_from(
        [
            "1,2",
            "0",
            "-5",
            "1.5",
            "1e999",
            "nan",
            "3,2,1.5",
            "a,b,c,d",
            "1,2,3,nan",
            "1,1,0,0",
            "-1e308,-1e308,1e308,1e308",
            "x" * 100_000,
            "99999999999",
            "",
        ]
    ),
)
OPTIONS = ["--extent", "--bands", "--tile", "--overlap", "--batch-size"]


@st.composite
def cli_arguments(draw: st.DrawFn) -> list[str]:
    """``geofuse segment`` arguments with one or more numeric options given hostile text."""
    chosen = draw(st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=3, unique=True))
    values = {option: draw(HOSTILE_TEXT) for option in chosen}
    accepted = {
        "--extent": "0,0,1,1", "--bands": "1,2,3", "--tile": "64", "--overlap": "8", "--batch-size": "2"
    }
    if all(value == accepted[option] for option, value in values.items()):  # pragma: no cover - unlikely
        values[chosen[0]] = "-1"
    return [part for option, value in values.items() for part in (f"{option}={value}",)]


def is_accepted(option: str, value: str) -> bool:
    """Whether the request layer accepts ``value`` for ``option`` (then the run would load torch)."""
    from geofuse.backend.commands import options

    parse = {
        "--extent": options.extent,
        "--bands": options.band_list,
        "--tile": options.positive,
        "--overlap": options.ranged(0, 16383),
        "--batch-size": options.ranged(1, 1024),
    }[option]
    try:
        parse(value)
    except Exception:
        return False
    return True


@fuzz(15)
@given(arguments=cli_arguments())
@example(arguments=["--extent=-1e308,-1e308,1e308,1e308"])
@example(arguments=["--bands=1.5,2,3"])
@example(arguments=["--tile=" + "9" * 400])
@example(arguments=["--extent=" + "1," * 50_000])
def test_cli_refuses_any_bad_option_with_one_error_line(arguments: list[str], tmp_path: Path) -> None:
    if all(is_accepted(*argument.split("=", 1)) for argument in arguments):
        return  # nothing to refuse here; such runs are the in-process tests' business
    folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "geofuse.backend.cli",
            "segment",
            "optical.tif",
            "elevation.tif",
            "-o",
            "out.tif",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=TIME_BOUND,
        cwd=folder,
        env=CHILD_ENV,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[-1].startswith("geofuse segment: error: argument --") and len(lines[-1]) < 400, lines
    assert snapshot(folder) == {}


# ------------------------------------------------------------------------------------------- raster pairs

CRSS = ["EPSG:32632", "EPSG:3857", "EPSG:4326"]
PLACE = ("EPSG:32632", 500000.0, 5000000.0)
"""Where every raster lies (in northern Italy), given in one CRS and transformed to the others."""
PIXEL = {"EPSG:32632": 1.0, "EPSG:3857": 1.4, "EPSG:4326": 1e-5}


@st.composite
def grids(draw: st.DrawFn, crs: str, offset: tuple[float, float] = (0.0, 0.0)) -> tuple[Affine, int, int]:
    """A geotransform (any rotation, pixel size, either axis direction) and a size from 1×1 up, its origin
    ``offset`` × 20 pixels from :data:`PLACE`."""
    size = PIXEL[crs] * draw(st.sampled_from([0.5, 1.0, 2.0, 3.7]))
    angle = draw(st.sampled_from([0.0, 0.0, 30.0, -45.0, 90.0, 7.5]))
    flip = draw(st.sampled_from([-1, -1, 1]))
    (x0,), (y0,) = transform_points(PLACE[0], crs, [PLACE[1]], [PLACE[2]])
    shift = PIXEL[crs] * 20
    origin = Affine.translation(x0 + offset[0] * shift, y0 + offset[1] * shift)
    transform = origin * Affine.rotation(angle) * Affine.scale(size, flip * size)
    return transform, draw(st.integers(1, 48)), draw(st.integers(1, 48))


@st.composite
def raster_pairs(draw: st.DrawFn) -> dict:
    optical_crs, elevation_crs = draw(st.sampled_from(CRSS)), draw(st.sampled_from(CRSS))
    optical_grid = draw(grids(optical_crs))
    offset = (draw(st.floats(-1, 1)), draw(st.floats(-1, 1)))
    elevation_grid = (
        draw(grids(elevation_crs, offset))
        if optical_crs != elevation_crs or draw(st.booleans())
        else optical_grid
    )
    return {
        "optical": (
            optical_crs,
            *optical_grid,
            draw(st.sampled_from(["uint8", "uint16", "int16", "float32"])),
        ),
        "elevation": (elevation_crs, *elevation_grid, draw(st.sampled_from(["float32", "float64", "int16"]))),
        "optical_nodata": draw(st.sampled_from([None, 0])),
        "elevation_nodata": draw(st.sampled_from([None, -9999.0])),
        "holes": draw(st.floats(0, 0.3)),
        "seed": draw(st.integers(0, 2**16)),
        "extent": draw(st.sampled_from([None] * 6 + ["huge", "random"])),
    }


def write_raster(
    path: Path,
    crs: str,
    transform: Affine,
    width: int,
    height: int,
    dtype: str,
    count: int,
    nodata: float | None,
    holes: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Random values (nodata at a ``holes`` share of pixels) written as a GeoTIFF; returns the hole mask."""
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    high = min(info.max, 3000) if info is not None else 300.0
    data = (rng.random((count, height, width)) * high).astype(dtype)
    missing = rng.random((height, width)) < holes if nodata is not None else np.zeros((height, width), bool)
    data[:, missing] = nodata if nodata is not None else 0
    if nodata is not None:
        missing = (data == nodata).all(axis=0) if count > 1 else data[0] == nodata
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=count,
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as target:
        target.write(data)
    return missing


def must_be_nodata(case: dict, optical_holes: np.ndarray, output: rasterio.DatasetReader) -> np.ndarray:
    """Output pixels that cannot have both inputs: the optical's nodata, or a centre more than two
    elevation pixels outside the elevation raster (beyond any resampling kernel's reach)."""
    crs, transform, width, height, _ = case["elevation"]
    rows, cols = np.mgrid[0 : output.height, 0 : output.width]
    x, y = output.transform * (cols + 0.5, rows + 0.5)
    if str(output.crs) != crs:
        x, y = (
            np.asarray(v).reshape(rows.shape) for v in transform_points(output.crs, crs, x.ravel(), y.ravel())
        )
    column, row = ~transform * (x, y)
    margin = 2.0
    outside = ~np.isfinite(column) | (column < -margin) | (column > width + margin)
    outside |= ~np.isfinite(row) | (row < -margin) | (row > height + margin)
    _, optical_transform, *_ = case["optical"]
    col0, row0 = ~optical_transform * output.transform * (0.5, 0.5)
    col0, row0 = math.floor(col0), math.floor(row0)
    holes = optical_holes[row0 : row0 + output.height, col0 : col0 + output.width]
    return outside | holes


@fuzz(40)
@given(case=raster_pairs())
def test_any_raster_pair_gives_nodata_where_an_input_is_missing_or_one_clear_error(
    case: dict, tiny: LoadedModel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("pair")
    rng = np.random.default_rng(case["seed"])
    crs, transform, width, height, dtype = case["optical"]
    holes = write_raster(
        folder / "optical.tif",
        crs,
        transform,
        width,
        height,
        dtype,
        3,
        case["optical_nodata"],
        case["holes"],
        rng,
    )
    crs, transform, width, height, dtype = case["elevation"]
    write_raster(
        folder / "elevation.tif",
        crs,
        transform,
        width,
        height,
        dtype,
        1,
        case["elevation_nodata"],
        case["holes"],
        rng,
    )
    before = snapshot(folder)
    extent = case["extent"]
    if extent == "huge":
        extent = (-1e308, -1e308, 1e308, 1e308)
    elif extent == "random":
        with rasterio.open(folder / "optical.tif") as optical:
            left, bottom, right, top = optical.bounds
        extent = tuple(rng.uniform(min(left, right), max(left, right), 2).tolist()) + tuple(
            rng.uniform(min(bottom, top), max(bottom, top), 2).tolist()
        )
        extent = (min(extent[:2]), min(extent[2:]), max(extent[:2]) + 1e-9, max(extent[2:]) + 1e-9)
    options = SegmentOptions(device="cpu", tile=32, overlap=8, extent=extent)
    try:
        segment_rasters(
            folder / "optical.tif", folder / "elevation.tif", folder / "out" / "classes.tif", tiny, options
        )
    except SegmentationError as refused:
        event(f"refused: {str(refused).split(':')[0][:40]}")
        assert len(str(refused).splitlines()) == 1
        assert snapshot(folder) == before
        return
    event("segmented")
    outputs = {"out/classes.tif", "out/classes.qml", "out/classes.tif.aux.xml"}
    assert set(snapshot(folder)) == set(before) | outputs
    assert {name: digest for name, digest in snapshot(folder).items() if name in before} == before
    with rasterio.open(folder / "out" / "classes.tif") as output:
        labels = output.read(1)
        missing = must_be_nodata(case, holes, output)
    assert (labels[missing] == IGNORE_INDEX).all(), f"{int((labels[missing] != IGNORE_INDEX).sum())} pixels"
    assert ((labels < 6) | (labels == IGNORE_INDEX)).all()


# -------------------------------------------------------------------------------------------------- masks

COORDINATE = st.floats(-50, 90) | st.sampled_from([1e308, -1e308, 0.0])
POSITION = st.lists(COORDINATE, min_size=2, max_size=2) | st.sampled_from(
    [["a", "b"], [1], [], [True, 2], None]
)
RING = st.lists(POSITION, min_size=0, max_size=6)


@st.composite
def masks(draw: st.DrawFn) -> object:
    """A GeoJSON document: often a proper polygon over the scene, else anything a mask file might hold."""
    left, bottom = draw(st.floats(-4, 28)), draw(st.floats(-4, 28))
    right, top = left + draw(st.floats(1, 12)), bottom + draw(st.floats(1, 12))
    square = [[left, bottom], [right, bottom], [right, top], [left, top], [left, bottom]]
    geometry = draw(st.sampled_from(["good", "good", "good", "rings", "multi", "json"]))
    if geometry == "good":
        coordinates: object = [square]
    elif geometry == "rings":
        coordinates = draw(st.lists(RING, max_size=3))
    elif geometry == "multi":
        coordinates = [draw(st.lists(RING, max_size=2)), [square]]
    else:
        return draw(JSON)
    kind = "MultiPolygon" if geometry == "multi" else "Polygon"
    polygon = {"type": kind, "coordinates": coordinates}
    return draw(
        st.sampled_from(
            [
                polygon,
                {"type": "Feature", "geometry": polygon},
                {"type": "FeatureCollection", "features": [{"geometry": polygon}]},
            ]
        )
    )


@pytest.fixture(scope="module")
def square_scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("square")
    rng = np.random.default_rng(3)
    grid = Affine.translation(0, 32) * Affine.scale(1, -1)
    write_raster(folder / "optical.tif", "EPSG:32632", grid, 32, 32, "uint8", 3, None, 0, rng)
    write_raster(folder / "elevation.tif", "EPSG:32632", grid, 32, 32, "float32", 1, None, 0, rng)
    return folder / "optical.tif", folder / "elevation.tif"


@fuzz(30)
@given(mask=masks())
@example(mask={"type": "Polygon", "coordinates": [[["a", "b"], ["c", "d"], ["e", "f"], ["a", "b"]]]})
@example(mask={"type": "Polygon", "coordinates": []})
@example(
    mask={
        "type": "Polygon",
        "coordinates": [[[-1e308, -1e308], [1e308, -1e308], [1e308, 1e308], [-1e308, -1e308]]],
    }
)
def test_any_mask_gives_nodata_outside_its_polygons_or_one_clear_error(
    mask: object, tiny: LoadedModel, square_scene: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("mask")
    path = folder / "mask.geojson"
    path.write_text(json.dumps(mask))
    output = folder / "classes.tif"
    options = SegmentOptions(device="cpu", tile=32, overlap=8, mask=path)
    try:
        segment_rasters(*square_scene, output, tiny, options)
    except SegmentationError as refused:
        event(f"refused: {str(refused).split(': ', 1)[-1][:40]}")
        assert len(str(refused).splitlines()) == 1 and len(str(refused)) < 800
        assert snapshot(folder) == {"mask.geojson": hashlib.sha256(path.read_bytes()).hexdigest()}
        return
    from rasterio import features

    with rasterio.open(output) as dataset:
        labels = dataset.read(1)
        geometries = json.loads(path.read_text())
        geometries = [item.get("geometry", item) for item in geometries.get("features", [geometries])]
        inside = features.geometry_mask(geometries, labels.shape, dataset.transform, invert=True)
    event("segmented")
    assert (labels[~inside] == IGNORE_INDEX).all()


# ------------------------------------------------------------------------------ requests with real files


@st.composite
def segment_requests(draw: st.DrawFn) -> dict:
    """Segment requests over the real 32² scene whose fields are often right and sometimes anything."""

    def field(right: st.SearchStrategy) -> st.SearchStrategy:
        return right | JSON | HOSTILE_NUMBER.map(lambda text: json.loads(text) if text[0] != "N" else None)

    request = {
        "tile": draw(field(st.sampled_from([32, 64]))),
        "overlap": draw(field(st.sampled_from([0, 8]))),
        "batch_size": draw(field(st.sampled_from([1, 2]))),
        "extent": draw(field(st.sampled_from([None, [4.0, 4.0, 20.0, 20.0], [40.0, 40.0, 50.0, 50.0]]))),
        "optical_bands": draw(field(st.sampled_from([None, [3, 2, 1], [1, 2, 9]]))),
        "device": draw(field(st.sampled_from(["cpu", "cuda:7"]))),
        "overwrite": draw(field(st.just(False))),
        "output": draw(field(st.sampled_from(["out/classes.tif", "out/classes.png", "existing.tif"]))),
        "confidence": draw(field(st.sampled_from([None, "out/confidence.tif", "existing.tif"]))),
    }
    return {name: value for name, value in request.items() if draw(st.booleans()) or name == "output"}


@fuzz(15)
@given(fields=segment_requests())
def test_any_segment_request_through_the_worker_is_one_final_message_and_leaves_only_its_outputs(
    fields: dict, model_path: Path, square_scene: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("request")
    (folder / "existing.tif").write_bytes(b"someone's")
    resolved = {
        key: str(folder / value) if key in ("output", "confidence") and isinstance(value, str) else value
        for key, value in fields.items()
    }
    request = {
        "command": "segment",
        "optical": str(square_scene[0]),
        "elevation": str(square_scene[1]),
        "model": str(model_path),
        **resolved,
    }
    before = snapshot(folder)
    stream = io.StringIO()
    status = worker.serve(json.loads(json.dumps(request)), worker.Emitter(stream), lambda: False)

    messages = [json.loads(line) for line in stream.getvalue().splitlines()]
    finals = [message for message in messages if message["type"] in ("result", "error", "cancelled")]
    assert len(finals) == 1 and finals[0] is messages[-1]
    after = snapshot(folder)
    assert {name: digest for name, digest in after.items() if name in before} == before
    event(finals[0]["type"])
    if finals[0]["type"] == "error":
        assert status == errors.EXIT_USER_ERROR and finals[0]["kind"] == "user", finals[0]
        assert after == before
        return
    declared = {Path(finals[0]["output_path"]), Path(finals[0]["qml_path"])}
    declared |= {Path(f"{finals[0]['output_path']}.aux.xml")}
    declared |= {Path(finals[0]["confidence_path"])} if finals[0]["confidence_path"] else set()
    assert {folder / name for name in set(after) - set(before)} == declared


def test_unknown_request_keys_are_ignored_with_a_warning(
    square_scene: tuple[Path, Path], tmp_path: Path
) -> None:
    """Decided: an unknown key is logged and ignored (an older worker serves a newer plugin's request)."""
    missing = str(tmp_path / "missing.tif")
    request = {"command": "segment", "optical": str(square_scene[0]), "elevation": missing,
               "output": str(tmp_path / "out.tif"), "colour_ramp": "viridis"}  # fmt: skip
    stream = io.StringIO()
    assert worker.serve(request, worker.Emitter(stream), lambda: False) == errors.EXIT_USER_ERROR
    messages = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert messages[0] == {
        "type": "log",
        "level": "warning",
        "message": "ignored unknown request key(s): 'colour_ramp'",
    }
    assert messages[-1]["type"] == "error" and "not found" in messages[-1]["message"]
