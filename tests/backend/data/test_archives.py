"""Listing files through folders, zips and zips in zips; GDAL paths and byte streams of what was found."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio
from isprs_miniature import raster_bytes, scene, zip_bytes

from geofuse.backend.data import archives
from geofuse.backend.data.archives import disk_path, list_files, open_bytes


def _nested(root: Path) -> bytes:
    tif = raster_bytes(scene(0, 8, 8)[1])
    inner = zip_bytes({"1_DSM/dsm_potsdam_02_10.tif": tif, "1_DSM/readme.txt": b"x" * 5000})
    outer = zip_bytes({"Potsdam/1_DSM.zip": inner, "__MACOSX/Potsdam/._1_DSM.zip": b"junk"})
    (root / "data").mkdir()
    (root / "data" / "Potsdam.zip").write_bytes(outer)
    (root / "data" / "notes.txt").write_text("hello")
    return tif


def test_nested_zips_are_listed_and_read_in_place(tmp_path: Path) -> None:
    tif = _nested(tmp_path)
    found = {f.name: f for f in list_files(tmp_path / "data")}
    assert sorted(found) == ["1_DSM.zip", "Potsdam.zip", "dsm_potsdam_02_10.tif", "notes.txt", "readme.txt"]
    dsm = found["dsm_potsdam_02_10.tif"]
    outer = str((tmp_path / "data" / "Potsdam.zip").resolve())
    assert dsm.chain == (outer, "Potsdam/1_DSM.zip", "1_DSM/dsm_potsdam_02_10.tif")
    assert dsm.folders == ("Potsdam", "1_DSM") and dsm.archives == ("Potsdam.zip", "1_DSM.zip")
    assert dsm.gdal_path == f"/vsizip/{{/vsizip/{{{outer}}}/Potsdam/1_DSM.zip}}/1_DSM/dsm_potsdam_02_10.tif"
    assert dsm.where() == f"{outer} › Potsdam/1_DSM.zip › 1_DSM/dsm_potsdam_02_10.tif"
    assert disk_path(dsm.gdal_path) == outer and disk_path(outer) == outer
    with open_bytes(dsm) as stream:
        assert stream.read() == tif
    with rasterio.open(dsm.gdal_path) as dataset:
        assert dataset.dtypes == ("float32",) and dataset.shape == (8, 8)
    assert list_files(tmp_path / "data" / "Potsdam.zip", max_depth=1)[-1].name == "1_DSM.zip"


def test_an_inner_directory_beyond_the_kept_tail_is_read_from_the_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _nested(tmp_path)
    expected = list_files(tmp_path / "data")
    monkeypatch.setattr(archives, "TAIL_BYTES", 64)  # smaller than the inner central directory
    assert list_files(tmp_path / "data") == expected


def test_a_broken_zip_is_named(tmp_path: Path) -> None:
    (tmp_path / "2_Ortho_RGB.zip").write_bytes(zip_bytes({"a.txt": b"a"})[:10])  # a cut download
    with pytest.raises(ValueError, match=r"2_Ortho_RGB.zip is not a readable zip archive"):
        list_files(tmp_path)
    with pytest.raises(FileNotFoundError):
        list_files(tmp_path / "absent")
