"""Training on the miniature ISPRS downloads: two steps from every layout, the card's benchmark facts,
and ``data.check`` (archive MD5s, every label colour) failing before step 1 with the full list."""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import rasterio
from isprs_miniature import LAYOUTS
from rasterio.errors import NotGeoreferencedWarning

from geofuse.backend.checkpoint import load_checkpoint
from geofuse.backend.cli import main
from geofuse.backend.data import check
from geofuse.backend.data.check import DataCheckError
from geofuse.backend.data.kinds import prepare_data
from geofuse.backend.train_config import load_config
from geofuse.backend.training import Progress, train

Layout = Callable[[str, str], Path]
TINY = [
    "model.vss_mlp_ratio=0.0",
    "model.fusion.d_state=4",
    "optim.warmup_steps=1",
    "train.crop_size=32",
    "train.batch_size=2",
    "train.steps=2",
    "train.steps_per_epoch=2",
    "train.val_window=32",
    "train.threads=1",
    "train.device='cpu'",
]


def _config(dataset: str, root: Path, output: Path, *extra: str):
    return load_config(
        None, [*TINY, f"data.kind={dataset}", f"data.root='{root}'", f"train.output='{output}'", *extra]
    )


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dataset", ["vaihingen", "potsdam"])
def test_two_steps_from_every_layout(
    isprs_layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dataset: str, layout: str
) -> None:
    monkeypatch.setattr(check, "ARCHIVE_MD5", {})  # the miniatures are not the published downloads
    root = isprs_layout(dataset, layout)
    extra = ["data.potsdam_optical=IRRG", "data.potsdam_elevation=ndsm"] if dataset == "potsdam" else []
    model = train(_config(dataset, root, tmp_path / "run", "data.split=fusion-papers", *extra))
    card = load_checkpoint(model).card
    data = card.training["data"]
    assert card.training["steps"] == 2 and card.training["metrics"] is not None  # validated on val tiles
    assert (
        data["split"] == "fusion-papers" and data["check"]["labels_checked"] == len(data["train_tiles"]) + 2
    )
    assert not set(data["val_tiles"]) & set(data["test_tiles"])
    assert card.optical_bands == ("IR", "R", "G")
    if dataset == "vaihingen":
        assert card.gsd_m == pytest.approx(0.09) and data["elevation"] == "dsm"
        assert len(data["train_tiles"]) == 10 and data["val_tiles"] == ["7", "34"]
        assert card.normalization.elevation_mode == "ground_filter"
    else:
        assert card.gsd_m == pytest.approx(0.05) and data["optical_source"] == "3_Ortho_IRRG"
        assert data["elevation"] == "ndsm" and data["elevation_source"] == "1_DSM_normalisation"
        assert card.normalization.elevation_mode == "absolute"
        assert card.normalization.elevation_scale_m == 255.0
        assert data["test_tiles"] == ["4_10", "5_11", "2_11", "3_10", "6_11", "7_12"]


def _paint(path: Path, colour: tuple[int, int, int], rows: slice) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        dst = rasterio.open(path, "r+")
    with dst:
        data = dst.read()
        data[:, rows, :3] = [[[c]] for c in colour]
        dst.write(data)


def test_bad_label_colours_fail_before_step_one(isprs_layout: Layout, tmp_path: Path) -> None:
    root = isprs_layout("vaihingen", "arranged")  # no zips: no checksums
    labels = root / "gts_for_participants"
    _paint(labels / "top_mosaic_09cm_area3.tif", (0, 0, 0), slice(0, 2))  # 2 rows × 3 px
    _paint(labels / "top_mosaic_09cm_area37.tif", (12, 200, 3), slice(5, 6))
    _paint(labels / "top_mosaic_09cm_area37.tif", (255, 255, 254), slice(9, 11))
    steps: list[Progress] = []
    output = tmp_path / "run"
    with pytest.raises(DataCheckError) as error:
        train(_config("vaihingen", root, output), progress=steps.append)
    message = str(error.value)
    assert "nothing was trained (2 problem(s))" in message
    assert "'vaihingen_area3'" in message and "(0, 0, 0) × 6 px" in message
    assert "'vaihingen_area37'" in message and "2 colour(s) outside the class table (9 px)" in message
    assert "(255, 255, 254) × 6 px" in message and "(12, 200, 3) × 3 px" in message
    assert steps == [] and not (output / "model.pt").exists() and not (output / "last.pt").exists()
    assert not (output / check.CHECK_NAME).exists()


def _member_md5(archive: Path, member: str) -> str:
    with zipfile.ZipFile(archive) as zipped:
        return hashlib.md5(zipped.read(member), usedforsecurity=False).hexdigest()


def test_archive_checksums(isprs_layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = isprs_layout("potsdam", "zips")
    outer = root / "Potsdam.zip"
    sums = {
        "Potsdam.zip": hashlib.md5(outer.read_bytes(), usedforsecurity=False).hexdigest(),
        "4_Ortho_RGBIR.zip": _member_md5(outer, "Potsdam/4_Ortho_RGBIR.zip"),
    }
    monkeypatch.setattr(check, "ARCHIVE_MD5", sums)
    config = _config("potsdam", root, tmp_path / "good")
    summary = prepare_data(config).summary["check"]
    assert summary["archives_verified"] == [
        str(outer.resolve()),
        f"{outer.resolve()} › Potsdam/4_Ortho_RGBIR.zip",
    ]
    assert not summary["reused"]
    assert prepare_data(config).summary["check"]["reused"]  # recorded in data_check.json, not read again

    monkeypatch.setattr(check, "ARCHIVE_MD5", {**sums, "4_Ortho_RGBIR.zip": "0" * 32})
    with pytest.raises(DataCheckError, match=r"Potsdam/4_Ortho_RGBIR.zip: MD5 [0-9a-f]{32} differs"):
        prepare_data(_config("potsdam", root, tmp_path / "bad"))
    skipped = prepare_data(_config("potsdam", root, tmp_path / "off", "data.check=false"))
    assert skipped.summary["check"] is None


def test_evaluate_checks_the_card_and_records_the_data(
    isprs_layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(check, "ARCHIVE_MD5", {})
    root = isprs_layout("potsdam", "zips")
    extra = ["data.split=fusion-papers", "data.potsdam_optical=IRRG", "data.potsdam_elevation=ndsm"]
    model = train(_config("potsdam", root, tmp_path / "run", "data.val_tiles=[]", *extra))
    base = ["evaluate", "--model", str(model), "--kind", "potsdam", "--data", str(root), "--device", "cpu"]
    base += ["--tile", "32", "--overlap", "8", "--eroded", "3"]

    assert main([*base, "--tiles", "4_10,5_11", "--output", str(tmp_path / "fits")]) == 0
    report = json.loads((tmp_path / "fits" / "metrics.json").read_text())
    data = report["data"]
    assert data["split"] == "fusion-papers" and data["tiles"] == ["4_10", "5_11"]  # the card's choices
    assert data["optical_source"] == "3_Ortho_IRRG" and data["elevation_source"] == "1_DSM_normalisation"
    assert data["optical_bands"] == ["IR", "R", "G"] and data["elevation"] == "ndsm"
    assert report["protocol"] == {"full_reference": True, "eroded_radius": 3}
    assert report["card_check"] == {"mismatches": [], "forced": False}
    page = (tmp_path / "fits" / "report.html").read_text(encoding="utf-8")
    assert "Split: fusion-papers<br>" in page and "Tiles: 4_10, 5_11" in page
    assert "Optical: 3_Ortho_IRRG (IR, R, G)" in page and "Elevation: 1_DSM_normalisation (ndsm)" in page
    assert "Protocol: full reference; eroded boundaries, radius 3" in page and "Resolution: 0.05 m" in page
    assert "<h2>Eroded boundaries (radius 3)</h2>" in page and "Model card: fits the data" in page

    wrong = [*base, "--potsdam-optical", "RGB", "--potsdam-elevation", "dsm", "--tiles", "4_10"]
    capsys.readouterr()
    assert main([*wrong, "--output", str(tmp_path / "refused")]) == 2
    error = capsys.readouterr().err
    assert "the model takes bands ['IR', 'R', 'G'], the data gives ['R', 'G', 'B']" in error
    assert "trained on an nDSM (height above ground), the data is a DSM" in error and "--force" in error
    assert not (tmp_path / "refused").exists()

    assert main([*wrong, "--force", "--output", str(tmp_path / "forced")]) == 0
    forced = json.loads((tmp_path / "forced" / "metrics.json").read_text())
    assert forced["card_check"]["forced"] and len(forced["card_check"]["mismatches"]) == 2
    assert forced["data"]["split"] == "fusion-papers" and forced["data"]["part"] is None
    page = (tmp_path / "forced" / "report.html").read_text(encoding="utf-8")
    assert "Model card: evaluated with --force: the model takes bands" in page

    vaihingen = isprs_layout("vaihingen", "arranged")
    other = [
        "evaluate",
        "--model",
        str(model),
        "--kind",
        "vaihingen",
        "--data",
        str(vaihingen),
        "--tiles",
        "5",
    ]
    assert main([*other, "--output", str(tmp_path / "other")]) == 2
    assert "trained at 0.05 m per pixel, the data is 0.09 m" in capsys.readouterr().err
