"""Options several ``geofuse`` commands share, defined once so they are spelt, checked and explained alike.

Values go through :mod:`geofuse.backend.validation`, the checks the worker (and so Processing) applies, so
the command line accepts exactly what QGIS accepts; a refusal is argparse's one-line usage error.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from geofuse.backend import validation

DEVICE_HELP = "auto (CUDA if available), cpu, cuda or cuda:N (default: auto)"


def _numbers(text: str) -> list[int | float]:
    """Comma-separated numbers as written (``2`` an int, ``2.5`` a float), for the request layer to judge."""
    values: list[int | float] = []
    for part in text.split(","):
        try:
            values.append(int(part))
        except ValueError:
            try:
                values.append(float(part))
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected comma-separated numbers, got {validation.echo(text)}"
                ) from None
    return values


def _checked(check: Callable[[str, Any], Any], value: Any) -> Any:
    """``value`` through one of backend.validation's checks; its refusal becomes argparse's usage error."""
    try:
        return check("value", value)
    except validation.RequestError as error:
        raise argparse.ArgumentTypeError(str(error).replace("'value' ", "")) from None


def band_list(text: str) -> tuple[int, ...]:
    """``"3,2,1"`` → ``(3, 2, 1)``: 1-based band indices (whole numbers: ``1.5`` is refused)."""
    return _checked(validation.bands, _numbers(text))


def extent(text: str) -> tuple[float, float, float, float]:
    """``"left,bottom,right,top"`` in the optical raster's CRS: finite, of sane size, a box."""
    return _checked(validation.extent, _numbers(text))


def ranged(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type: one integer in ``minimum..maximum``."""

    def parse(text: str) -> int:
        (value,) = _numbers(text) if "," not in text else [text]
        return _checked(lambda name, item: validation.integer(name, item, minimum, maximum), value)

    return parse


positive = ranged(1, validation.MAX_TILE)
"""A positive integer option (at most the request layer's largest tile)."""


def add_device(parser: argparse.ArgumentParser) -> None:
    """``--device``: where the network runs (checked by :func:`geofuse.backend.device.resolve_device`,
    whose refusal is one line and exit status 2)."""
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)


def add_tiling(parser: argparse.ArgumentParser, tile: int | None = None, overlap: int = 64) -> None:
    """``--tile`` and ``--overlap`` of the sliding window (the rule between them: ``backend/tiling.py``).

    Args:
        parser: The command's parser.
        tile: The default tile, or None for the model's (512, or its training crop if larger).
        overlap: The default overlap.
    """
    default = "512, or the training crop if larger" if tile is None else str(tile)
    parser.add_argument(
        "--tile", type=positive, default=tile, help=f"tile size in pixels (default: {default})"
    )
    parser.add_argument(
        "--overlap",
        type=ranged(0, validation.MAX_TILE - 1),
        default=overlap,
        help=f"pixels shared by neighbouring tiles, 0 to tile-1 (default: {overlap})",
    )


def add_batch_size(
    parser: argparse.ArgumentParser, default: int | None, what: str = "tiles per forward pass"
) -> None:
    """``--batch-size``: how many tiles or crops go through the network at once (``--batch`` still works,
    hidden: it was ``segment``'s spelling). With ``default`` None, ``what`` says where the default comes
    from."""
    kind = ranged(1, validation.MAX_BATCH)
    described = what if default is None else f"{what} (default: {default})"
    parser.add_argument("--batch-size", type=kind, default=default, help=described)
    parser.add_argument(
        "--batch", type=kind, dest="batch_size", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
