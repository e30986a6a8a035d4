"""The ``geofuse`` command line's edges: one exit-code table for every command, shared options, the help.

Successful runs of the expensive commands are tested beside their engines (``test_segment_cli.py``,
``test_evaluation.py``, ``test_training.py``, ``test_finetune.py``); here every command's user error, and
the cheap successes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geofuse.backend import cli
from geofuse.backend.cli import build_parser, main
from geofuse.backend.errors import (
    EXIT_CANCELLED,
    EXIT_CODES_HELP,
    EXIT_INTERNAL_ERROR,
    EXIT_OK,
    EXIT_USER_ERROR,
    GeoFuseError,
)
from geofuse.backend.inference import DEMO_MODEL
from geofuse.backend.sliding_window import SegmentationCancelled

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


def one_line(text: str) -> str:
    """argparse wraps the epilog to the terminal's width; compare without the line breaks."""
    return " ".join(text.split())


def test_the_help_lists_every_command_and_the_exit_codes(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == EXIT_OK
    shown = one_line(capsys.readouterr().out)
    assert one_line(EXIT_CODES_HELP) in shown
    for name in cli.COMMANDS:
        assert name in shown
    assert "bench" not in cli.COMMANDS


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_command_documents_the_exit_codes(command: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = one_line(capsys.readouterr().out)
    assert one_line(EXIT_CODES_HELP) in shown and "--device" in shown and "--batch-size" in shown
    assert "--batch " not in shown  # the old spelling works but is not advertised


REQUIRED = {
    "segment": ["a.tif", "b.tif", "-o", "c.tif"],
    "segment-batch": ["scenes.csv"],
    "train": [],
    "finetune": ["--optical", "a.tif", "--elevation", "b.tif", "--polygons", "p.gpkg", "-o", "m.pt"],
    "evaluate": ["--model", "m.pt"],
    "ablate": [],
    "demo": [],
}
"""The least each command needs to parse."""


@pytest.mark.parametrize("command", cli.COMMANDS)
@pytest.mark.parametrize("spelling", ["--batch-size", "--batch"])
def test_batch_size_is_one_option_everywhere(command: str, spelling: str) -> None:
    args = build_parser().parse_args([command, *REQUIRED[command], spelling, "3"])
    assert args.batch_size == 3


@pytest.mark.parametrize("command", ["segment", "evaluate", "demo", "ablate"])
def test_tiling_options_share_one_range(command: str, capsys: pytest.CaptureFixture) -> None:
    args = build_parser().parse_args([command, *REQUIRED[command], "--tile", "96", "--overlap", "95"])
    assert (args.tile, args.overlap) == (96, 95)
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args([command, *REQUIRED[command], "--tile", "0"])
    assert refused.value.code == EXIT_USER_ERROR and "--tile" in capsys.readouterr().err


def test_segment_batch_succeeds_on_an_empty_list(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    listing = tmp_path / "scenes.csv"
    listing.write_text("optical,elevation,output\n", encoding="utf-8")
    assert main(["segment-batch", str(listing), "--device", "cpu"]) == EXIT_OK
    assert "0 segmented, 0 skipped, 0 failed of 0 scene(s)" in capsys.readouterr().out


def user_errors(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """A cheap user error for every command, and what its one line says."""
    missing = str(tmp_path / "missing.tif")
    return {
        "segment": (
            ["segment", str(SAMPLE / "optical.tif"), str(SAMPLE / "elevation.tif"), "-o",
             str(tmp_path / "out.tif"), "--device", "gpu"],
            "device must be auto, cpu, cuda or cuda:N, got gpu",
        ),
        "segment-batch": (["segment-batch", str(tmp_path / "none.csv")], "File not found"),
        "train": (["train", "--device", "gpu"], "device must be"),
        "finetune": (
            ["finetune", "--optical", missing, "--elevation", missing, "--polygons", missing, "-o",
             str(tmp_path / "m.pt")],
            "missing.tif",
        ),
        "evaluate": (
            ["evaluate", "--model", str(DEMO_MODEL), "--kind", "synthetic", "--device", "gpu", "--output",
             str(tmp_path / "evaluation")],
            "device must be",
        ),
        "ablate": (["ablate", "train.stepz=1", "--output", str(tmp_path / "ablation")], "stepz"),
        "demo": (["demo", "--output", str(tmp_path / "demo"), "--device", "gpu"], "device must be"),
    }  # fmt: skip


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_a_user_error_is_one_line_and_status_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv, message = user_errors(tmp_path)[command]
    assert main(argv) == EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("geofuse: error: ") and message in err, err


def test_a_bug_keeps_its_traceback_and_exits_1(capsys: pytest.CaptureFixture) -> None:
    try:
        {}["missing"]
    except KeyError as bug:
        assert cli.fail(bug) == EXIT_INTERNAL_ERROR
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err and "report this as a bug" in err


def test_user_errors_and_cancels_end_by_the_table(capsys: pytest.CaptureFixture) -> None:
    assert cli.fail(GeoFuseError("the tile is too large")) == EXIT_USER_ERROR
    assert capsys.readouterr().err == "geofuse: error: the tile is too large\n"
    assert cli.cancelled(SegmentationCancelled("segmentation cancelled"), "nothing was written") == 130
    assert capsys.readouterr().err == "geofuse: cancelled; nothing was written\n"
    assert cli.cancelled(KeyboardInterrupt(), None) == EXIT_CANCELLED == 130
