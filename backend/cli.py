"""``geofuse``: the backend's command line. Each sub-command lives in ``backend/commands/<name>.py``.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``, and
optionally ``CANCELLED``, what a stopped run leaves (else the cancel's own message is shown); it imports
torch and friends inside ``run`` so that ``geofuse --help`` stays instant. Options several commands take
come from ``backend/commands/options.py``. How a run ends is decided once, in :func:`main`, with the exit
codes of ``backend/errors.py``: a user error is one line, a cancel says what is left, a bug keeps its
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .errors import EXIT_CANCELLED, EXIT_CODES_HELP, EXIT_INTERNAL_ERROR, EXIT_USER_ERROR, Cancelled

COMMANDS = ("segment", "segment-batch", "train", "finetune", "evaluate", "ablate", "demo")


def build_parser() -> argparse.ArgumentParser:
    """The parser with every sub-command, each documenting the exit codes."""
    parser = argparse.ArgumentParser(
        prog="geofuse",
        description="Land-cover segmentation from an optical raster and an elevation raster.",
        epilog=EXIT_CODES_HELP,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"geofuse.backend.commands.{name.replace('-', '_')}")
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP, epilog=EXIT_CODES_HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run, cancelled=getattr(module, "CANCELLED", None))
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
    # not isinstance: under ``python -m`` the Interrupted raised is __main__'s
    return getattr(interrupt, "exit_status", EXIT_CANCELLED)


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


def describe_failure(error: Exception) -> tuple[str, bool]:
    """What to tell the user about ``error``, and whether it is a bug.

    What the user can fix (a :class:`~geofuse.backend.errors.GeoFuseError`, bad or unreadable files, a
    full disk, memory: the worker's :func:`~geofuse.backend.worker.explain` decides, as for QGIS, and any
    error the OS or GDAL raised counts too) is not a bug; anything else is.
    """
    from .worker import error_text, explain

    message, kind = explain(error)
    if kind == "internal" and (isinstance(error, OSError) or type(error).__module__.startswith("rasterio")):
        return error_text(error), False  # an input or folder GDAL or the OS refused
    return message, kind == "internal"


def fail(error: Exception) -> int:
    """Tell the user why the run failed and return its exit status: a user error is one line on stderr and
    :data:`EXIT_USER_ERROR`, a bug its traceback and :data:`EXIT_INTERNAL_ERROR`."""
    message, bug = describe_failure(error)
    if bug:
        traceback.print_exception(error)
        print(
            f"geofuse: internal error ({type(error).__name__}: {error}); please report this as a bug, with "
            "the traceback above",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR
    print(f"geofuse: error: {message}", file=sys.stderr)
    return EXIT_USER_ERROR


def cancelled(stop: BaseException, left: str | None) -> int:
    """Say that the run was stopped and what it left (``left``, else the cancel's own message); the exit
    status is the shell's for the signal (130 for Ctrl-C and for a cancel callback)."""
    if left is not None:
        print(f"geofuse: cancelled; {left}", file=sys.stderr)
    elif isinstance(stop, Cancelled) and str(stop):
        print(f"geofuse: {stop}", file=sys.stderr)
    else:
        print("geofuse: cancelled", file=sys.stderr)
    return exit_status(stop) if isinstance(stop, KeyboardInterrupt) else EXIT_CANCELLED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geofuse`` console script: run the command and end it by the exit-code table
    (``geofuse --help``)."""
    args = build_parser().parse_args(argv)
    with stop_signals():
        try:
            return args.handler(args)
        except (Cancelled, KeyboardInterrupt) as stop:  # Ctrl-C, SIGTERM, SIGHUP: see stop_signals
            return cancelled(stop, args.cancelled)
        except Exception as error:
            return fail(error)


if __name__ == "__main__":
    sys.exit(main())
