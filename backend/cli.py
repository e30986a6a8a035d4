"""``geofuse``: the backend's command line. Each sub-command lives in ``backend/commands/<name>.py``.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``; it
imports torch and friends inside ``run`` so that ``geofuse --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("segment", "segment-batch", "train", "finetune", "evaluate", "ablate", "demo", "bench")


def build_parser() -> argparse.ArgumentParser:
    """The parser with every sub-command whose module is present."""
    parser = argparse.ArgumentParser(
        prog="geofuse",
        description="Land-cover segmentation from an optical raster and an elevation raster.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"geofuse.backend.commands.{name.replace('-', '_')}")
        except ModuleNotFoundError as error:
            if error.name != f"geofuse.backend.commands.{name.replace('-', '_')}":
                raise
            continue
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geofuse`` console script."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
