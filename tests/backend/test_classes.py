"""The class table: ISPRS colours, strict colour ↔ index conversion, CSV class table files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geofuse.backend.classes import (
    IGNORE_INDEX,
    ISPRS_CLASSES,
    ClassInfo,
    UnknownColourError,
    UnknownLabelError,
    check_indices,
    classes_from_dicts,
    classes_to_dicts,
    colours_to_indices,
    indices_to_colours,
    new_class_names,
    read_class_table,
    validate_classes,
    write_class_table,
)


def test_isprs_table_is_the_benchmark_colour_code() -> None:
    assert [(c.index, c.name, c.colour) for c in ISPRS_CLASSES] == [
        (0, "impervious surfaces", (255, 255, 255)),
        (1, "building", (0, 0, 255)),
        (2, "low vegetation", (0, 255, 255)),
        (3, "tree", (0, 255, 0)),
        (4, "car", (255, 255, 0)),
        (5, "clutter", (255, 0, 0)),
    ]


def test_colours_round_trip_through_indices() -> None:
    labels = np.arange(6, dtype=np.uint8).repeat(4).reshape(4, 6)
    rgb = indices_to_colours(labels)
    assert rgb.shape == (3, 4, 6) and rgb.dtype == np.uint8
    assert tuple(rgb[:, 0, 0]) == (255, 255, 255)
    assert tuple(rgb[:, 3, 5]) == (255, 0, 0)
    np.testing.assert_array_equal(colours_to_indices(rgb), labels)


def test_unknown_colour_is_refused_with_colour_and_file_position() -> None:
    rgb = indices_to_colours(np.zeros((5, 5), np.uint8))
    rgb[:, 2, 3] = (12, 34, 56)
    rgb[:, 4, 4] = (12, 34, 56)
    with pytest.raises(UnknownColourError) as error:
        colours_to_indices(rgb, offset=(100, 200), source="labels.tif")
    message = str(error.value)
    assert "(12, 34, 56)" in message
    assert "row 102, col 203" in message
    assert "labels.tif" in message and "2 pixel(s)" in message


def test_near_miss_colour_is_not_rounded_to_a_class() -> None:
    rgb = indices_to_colours(np.full((2, 2), 1, np.uint8))
    rgb[:, 0, 0] = (0, 0, 254)
    with pytest.raises(UnknownColourError, match=r"\(0, 0, 254\)"):
        colours_to_indices(rgb)


def test_ignore_colour_becomes_ignore_index() -> None:
    rgb = indices_to_colours(np.full((3, 3), 3, np.uint8))
    rgb[:, 1, 1] = 0
    with pytest.raises(UnknownColourError):
        colours_to_indices(rgb)
    labels = colours_to_indices(rgb, ignore_colour=(0, 0, 0))
    assert labels[1, 1] == IGNORE_INDEX and labels[0, 0] == 3


def test_check_indices_accepts_ignore_and_refuses_other_values() -> None:
    labels = np.array([[0, 5], [IGNORE_INDEX, 2]], np.uint8)
    np.testing.assert_array_equal(check_indices(labels, 6), labels)
    labels[0, 1] = 6
    with pytest.raises(UnknownLabelError, match=r"value 6 at pixel \(row 10, col 1\)"):
        check_indices(labels, 6, offset=(10, 0))


def test_class_table_csv_round_trip(tmp_path: Path) -> None:
    classes = (ClassInfo(0, "road, paved", (10, 20, 30)), ClassInfo(1, "roof", (200, 0, 0)))
    path = write_class_table(classes, tmp_path / "classes.csv")
    assert path.read_text().splitlines()[0] == "index,name,r,g,b"
    assert read_class_table(path) == classes


def test_class_table_rows_may_come_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "classes.csv"
    path.write_text("index,name,r,g,b\n1,roof,1,2,3\n0,road,4,5,6\n\n")
    assert [c.name for c in read_class_table(path)] == ["road", "roof"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("id,name,r,g,b\n0,a,1,2,3\n", "header"),
        ("index,name,r,g,b\n0,a,1,2\n", "line 2"),
        ("index,name,r,g,b\n0,a,1,2,x\n", "integers"),
        ("index,name,r,g,b\n0,a,1,2,300\n", "0..255"),
        ("index,name,r,g,b\n0,a,1,2,3\n2,b,4,5,6\n", "without gaps"),
        ("index,name,r,g,b\n0,a,1,2,3\n1,b,1,2,3\n", "distinct"),
        ("index,name,r,g,b\n0, ,1,2,3\n", "empty name"),
    ],
)
def test_malformed_class_tables_are_clear_errors(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "classes.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as error:
        read_class_table(path)
    assert str(path) in str(error.value)


def test_class_dicts_round_trip_as_plain_types() -> None:
    entries = classes_to_dicts(ISPRS_CLASSES)
    assert entries[1] == {"index": 1, "name": "building", "colour": [0, 0, 255]}
    assert classes_from_dicts(entries) == ISPRS_CLASSES
    with pytest.raises(ValueError, match="colour"):
        classes_from_dicts([{"index": 0, "name": "a"}])


def test_validate_refuses_too_many_classes() -> None:
    classes = [ClassInfo(i, f"c{i}", (i, i // 256, 7)) for i in range(256)]
    with pytest.raises(ValueError, match="uint8"):
        validate_classes(classes)


def test_new_class_names_match_case_insensitively_and_skip_indices_and_blanks() -> None:
    known = ["impervious surfaces", "building", "tree"]

    assert new_class_names(["Building", " TREE ", "pool", "Pool", None, "  ", "shed"], known) == (
        "pool",
        "shed",
    )
    assert new_class_names(["building", "tree"], known) == ()
    assert new_class_names([1, "3", 2.0, None], known) == ()  # class numbers: nothing is new
