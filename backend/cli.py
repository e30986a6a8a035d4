"""``geofuse``: the backend's command line. Each sub-command lives in ``backend/commands/<name>.py``.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``; it
imports torch and friends inside ``run`` so that ``geofuse --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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


STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that cancel a run: Ctrl-C, a polite kill, a closed terminal."""


class Interrupted(KeyboardInterrupt):
    """A stop signal, raised where the program stands so every ``finally`` and clean-up runs as for
    Ctrl-C; ``exit_status`` is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_status = 128 + signum


def exit_status(interrupt: KeyboardInterrupt) -> int:
    """The exit status of a run stopped by ``interrupt`` (130, as for Ctrl-C, unless another signal)."""
    return getattr(interrupt, "exit_status", 130)  # not isinstance: under ``python -m`` this is __main__


def _interrupt(signum: int, frame: object) -> None:
    for number in STOP_SIGNALS:  # one cancel: a second signal must not cut the clean-up short
        signal.signal(number, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP cancel like Ctrl-C for the ``with`` block (in the main thread only, where Python
    runs signal handlers); the previous handlers come back afterwards."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    try:
        for number in STOP_SIGNALS:
            signal.signal(number, _interrupt)
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geofuse`` console script."""
    args = build_parser().parse_args(argv)
    with stop_signals():
        return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
