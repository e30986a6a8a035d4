"""Checkpoints are data, not code: hostile, broken and foreign model files through every backend entry point.

A hostile checkpoint here is a real one: its pickle calls ``pathlib.Path.touch`` on a marker file when
unpickled by a plain ``torch.load`` (checked first, so the test would notice a harmless "exploit"). Loading
it through :func:`load_checkpoint`, ``geofuse segment`` (in-process and as a subprocess) and the worker must
fail with a clear message, and the marker must never appear. The same file through ``processing.run`` is in
tests/plugin/test_reliability_processing.py.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from geofuse.backend.checkpoint import (
    FORMAT_VERSION,
    CheckpointError,
    ModelCard,
    load_checkpoint,
    save_checkpoint,
)
from geofuse.backend.cli import main
from geofuse.backend.data.synthetic import generate_scene, write_scene
from geofuse.backend.errors import EXIT_USER_ERROR
from geofuse.backend.models import build_model
from geofuse.backend.models.network import GeoFuseNet, ModelConfig


class Exploit:
    """Unpickles as ``Path(marker).touch()``: any loader that runs code from the file creates the marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def hostile_files(folder: Path, marker: Path) -> dict[str, Path]:
    """The exploit in a torch zip checkpoint (in the card; as the whole payload) and as a legacy pickle."""
    files = {name: folder / f"{name}.pt" for name in ("in_card", "whole", "legacy")}
    torch.save({"format": "geofuse-checkpoint", "version": 1, "card": Exploit(marker)}, files["in_card"])
    torch.save(Exploit(marker), files["whole"])
    files["legacy"].write_bytes(pickle.dumps({"state_dict": Exploit(marker)}, protocol=2))
    return files


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("baseline", width="small").eval()


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, model: torch.nn.Module) -> Path:
    return save_checkpoint(tmp_path_factory.mktemp("model") / "good.pt", model, ModelCard(model.config))


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("scene")
    optical, elevation = folder / "optical.tif", folder / "elevation.tif"
    write_scene(generate_scene(5, 32, 32), optical, elevation, folder / "labels.tif")
    return optical, elevation


def test_the_hostile_files_really_run_code_when_unpickled_unsafely(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    for path in hostile_files(tmp_path, marker).values():
        marker.unlink(missing_ok=True)
        if path.name == "legacy.pt":
            pickle.loads(path.read_bytes())
        else:
            torch.load(path, weights_only=False)
        assert marker.exists(), path.name


@pytest.mark.parametrize("name", ["in_card", "whole", "legacy"])
def test_hostile_checkpoints_are_refused_without_running_code(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "marker"
    path = hostile_files(tmp_path, marker)[name]

    with pytest.raises(CheckpointError, match=r"would run code") as refused:
        load_checkpoint(path)

    assert str(path) in str(refused.value)
    assert not marker.exists()


def test_hostile_checkpoint_through_the_cli_in_process(
    tmp_path: Path, scene: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    marker, output = tmp_path / "marker", tmp_path / "out.tif"
    path = hostile_files(tmp_path, marker)["in_card"]
    argv = ["segment", *map(str, scene), "-o", str(output), "--model", str(path), "--quiet"]

    assert main(argv) == EXIT_USER_ERROR

    err = capsys.readouterr().err.strip()
    assert "would run code" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "weights_only" not in err, "torch's advice to load the file unsafely must not reach the user"
    assert not marker.exists() and not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.pt" for n in ("in_card", "whole", "legacy")
    )


def test_hostile_checkpoint_through_the_cli_and_the_worker_as_processes(
    tmp_path: Path, scene: tuple[Path, Path]
) -> None:
    marker, output = tmp_path / "marker", tmp_path / "out.tif"
    path = hostile_files(tmp_path, marker)["whole"]
    command = [sys.executable, "-m", "geofuse.backend.cli", "segment", *map(str, scene), "-o", str(output),
               "--model", str(path), "--device", "cpu", "--quiet"]  # fmt: skip
    request = {"command": "segment", "optical": str(scene[0]), "elevation": str(scene[1]),
               "output": str(output), "model": str(path), "device": "cpu"}  # fmt: skip

    cli = subprocess.run(command, capture_output=True, text=True, timeout=120)
    worker = subprocess.run(
        [sys.executable, "-m", "geofuse.backend.worker"],
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert cli.returncode == EXIT_USER_ERROR, cli.stderr
    assert "would run code" in cli.stderr and "Traceback" not in cli.stderr
    assert worker.returncode == EXIT_USER_ERROR, worker.stderr
    final = json.loads(worker.stdout.splitlines()[-1])
    assert final["type"] == "error" and final["kind"] == "user"
    assert "would run code" in final["message"] and str(path) in final["message"]
    assert "weights_only" not in final["message"] + cli.stderr
    assert not marker.exists() and not output.exists()


def rewrite(source: Path, target: Path, change: Callable[[dict], object]) -> Path:
    """A copy of checkpoint ``source`` with its payload changed in place by ``change``."""
    payload = torch.load(source, weights_only=True)
    change(payload)
    torch.save(payload, target)
    return target


def not_a_torch_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "a zip archive, but no PyTorch file")


def set_card(key: str, value: object) -> Callable[[dict], None]:
    return lambda payload: payload["card"].__setitem__(key, value)


def set_model(key: str, value: object) -> Callable[[dict], None]:
    return lambda payload: payload["card"]["model"].__setitem__(key, value)


BROKEN_PAYLOADS: dict[str, tuple[Callable[[dict], object], str]] = {
    "newer version": (
        lambda p: p.__setitem__("version", FORMAT_VERSION + 7),
        f"version {FORMAT_VERSION + 7}",
    ),
    "no version": (lambda p: p.pop("version"), "version is missing"),
    "boolean version": (lambda p: p.__setitem__("version", True), "version is missing or not a number"),
    "version 0": (lambda p: p.__setitem__("version", 0), "unknown checkpoint format version 0"),
    "no card": (lambda p: p.pop("card"), "not a mapping"),
    "extra card key": (set_card("licence", "MIT"), "unknown \\['licence'\\]"),
    "classes as text": (set_model("num_classes", "6"), "num_classes has the wrong type"),
    "classes as bool": (set_model("num_classes", True), "num_classes has the wrong type"),
    "ratio not finite": (set_model("vss_ssm_ratio", float("inf")), "vss_ssm_ratio has the wrong type"),
    "unknown variant": (set_model("variant", "a9"), "unknown variant 'a9'"),
    "gsd infinite": (set_card("gsd_m", float("inf")), "gsd_m must be a positive"),
    "bands not names": (set_card("optical_bands", [1, 2, 3]), "optical_bands must be a list"),
    "weights not tensors": (lambda p: p["state_dict"].__setitem__("x", [1, 2]), "weights are missing"),
    "normalisation bad": (
        lambda p: p["card"]["normalization"].__setitem__("elevation_scale_m", -1.0),
        "elevation_scale_m must be positive",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_PAYLOADS))
def test_malformed_payloads_are_refused_when_loading(tmp_path: Path, good: Path, case: str) -> None:
    change, message = BROKEN_PAYLOADS[case]
    path = rewrite(good, tmp_path / "broken.pt", change)

    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_card_asking_for_an_enormous_network_is_refused_before_allocating(
    tmp_path: Path, good: Path
) -> None:
    """A state size out of range is refused on reading the card; one in range whose network would hold
    ~481 million parameters, with stride-0 weights of exactly the right shapes (a file of kilobytes), is
    refused by counting the parameters on the meta device, before anything is allocated."""
    out_of_range = rewrite(good, tmp_path / "range.pt", set_model("vss_d_state", 10**7))
    with pytest.raises(CheckpointError, match="vss_d_state has the wrong type or is out of range"):
        load_checkpoint(out_of_range)

    def enormous(payload: dict) -> None:
        payload["card"]["model"]["vss_d_state"] = 65536
        with torch.device("meta"):
            shapes = GeoFuseNet(ModelConfig.from_dict(payload["card"]["model"])).state_dict()
        payload["state_dict"] = {
            name: torch.zeros((), dtype=tensor.dtype).expand(tensor.shape) for name, tensor in shapes.items()
        }

    path = rewrite(good, tmp_path / "enormous.pt", enormous)
    assert path.stat().st_size < 2**20
    with pytest.raises(CheckpointError, match=r"asks for 481,\d{3},\d{3} parameters; at most"):
        load_checkpoint(path).build_model()


def test_a_card_nested_5000_deep_with_nan_weights_or_control_characters_is_refused(
    tmp_path: Path, good: Path
) -> None:
    def deep(payload: dict) -> None:
        nested: dict = {}
        for _ in range(5000):
            nested = {"x": nested}
        payload["card"]["training"] = nested

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(30000)  # torch.save pickles recursively; loading is iterative
    try:
        path = rewrite(good, tmp_path / "deep.pt", deep)
    finally:
        sys.setrecursionlimit(limit)
    with pytest.raises(CheckpointError, match="nests deeper than 32 levels"):
        load_checkpoint(path)

    def nan(payload: dict) -> None:
        for tensor in payload["state_dict"].values():
            if tensor.is_floating_point():
                tensor.fill_(float("nan"))

    with pytest.raises(CheckpointError, match="NaN or infinite values"):
        load_checkpoint(rewrite(good, tmp_path / "nan.pt", nan)).build_model()

    crop = rewrite(
        good, tmp_path / "crop.pt", lambda p: p["card"]["training"].__setitem__("crop_size", 10**9)
    )
    assert load_checkpoint(crop).card.tile_size() == 4096


def test_a_card_for_another_architecture_is_refused_before_allocating(tmp_path: Path, good: Path) -> None:
    wrong_width = rewrite(good, tmp_path / "width.pt", set_model("width", "base"))
    missing = rewrite(
        good, tmp_path / "missing.pt", lambda p: p["state_dict"].pop(next(iter(p["state_dict"])))
    )
    extra = rewrite(
        good, tmp_path / "extra.pt", lambda p: p["state_dict"].__setitem__("spare", torch.ones(1))
    )

    for path, words in [
        (wrong_width, "shape"),
        (missing, "missing"),
        (extra, "unexpected spare"),
    ]:
        with pytest.raises(CheckpointError, match=f"do not match the model card's architecture: .*{words}"):
            load_checkpoint(path).build_model()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.write_bytes(b""), "is empty"),
        (lambda path: path.write_text("weights: none\n", encoding="utf-8"), "not a readable checkpoint"),
        (not_a_torch_zip, "not a readable checkpoint"),
        (lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)), "not a readable checkpoint"),
        (lambda path: torch.save([torch.zeros(2)], path), "not a GeoFuse checkpoint"),
        (lambda path: path.mkdir(), "not found"),
    ],
    ids=["empty", "text", "zip", "png", "tensor list", "folder"],
)
def test_foreign_files_are_refused_with_the_path(tmp_path: Path, make: Callable, message: str) -> None:
    path = tmp_path / "model.pt"
    make(path)

    with pytest.raises(CheckpointError, match=message) as refused:
        load_checkpoint(path)

    assert str(path) in str(refused.value)


@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.99])
def test_truncated_checkpoints_are_refused(tmp_path: Path, good: Path, fraction: float) -> None:
    data = good.read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[: int(len(data) * fraction)])

    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)


def test_saving_writes_the_current_version_which_loads(tmp_path: Path, good: Path, model) -> None:
    payload = torch.load(good, weights_only=True)

    assert payload["format"] == "geofuse-checkpoint" and payload["version"] == FORMAT_VERSION
    loaded = load_checkpoint(good)
    assert loaded.card.model == model.config
    assert loaded.build_model().state_dict().keys() == model.state_dict().keys()


@pytest.mark.parametrize(
    ("case", "words"),
    [("truncated", "truncated"), ("newer", f"version {FORMAT_VERSION + 1}"), ("shape", "do not match")],
)
def test_broken_checkpoints_through_the_cli_are_one_line(
    tmp_path: Path, good: Path, scene: tuple[Path, Path], capsys: pytest.CaptureFixture, case: str, words: str
) -> None:
    path = tmp_path / "model.pt"
    if case == "truncated":
        path.write_bytes(good.read_bytes()[:1000])
    elif case == "newer":
        rewrite(good, path, lambda p: p.__setitem__("version", FORMAT_VERSION + 1))
    else:
        rewrite(good, path, lambda p: p["card"].__setitem__("model", ModelConfig("a2").to_dict()))
    output = tmp_path / "out.tif"

    argv = ["segment", *map(str, scene), "-o", str(output), "--model", str(path), "--quiet"]
    assert main(argv) == EXIT_USER_ERROR

    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not output.exists()


def test_the_bundled_demo_model_passes_the_checks() -> None:
    """The shipped checkpoint must stay loadable by the code it ships with (re-saved on retraining)."""
    from geofuse.backend.inference import DEMO_MODEL

    if not DEMO_MODEL.is_file():
        pytest.skip(f"{DEMO_MODEL} is not built here (make demo-model)")
    assert torch.load(DEMO_MODEL, weights_only=True)["version"] == FORMAT_VERSION
    checkpoint = load_checkpoint(DEMO_MODEL)
    assert checkpoint.build_model().config == checkpoint.card.model
