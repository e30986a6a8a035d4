"""What can end a GeoFuse command besides success, and the exit code each gives (no torch, no QGIS).

Every error a user can fix derives from :class:`GeoFuseError` and is shown as its one-line message; every
stop the user asked for derives from :class:`Cancelled`. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
"""An unexpected error (a bug): the traceback is printed."""
EXIT_USER_ERROR = 2
"""Bad input or a bad environment the user can fix: one line, no traceback (argparse uses 2 as well)."""
EXIT_CANCELLED = 130
"""The user stopped the run (the shell's code for Ctrl+C)."""

EXIT_CODES_HELP = (
    f"exit codes: {EXIT_OK} done, {EXIT_USER_ERROR} bad input (one line saying what), {EXIT_CANCELLED} "
    f"cancelled, {EXIT_INTERNAL_ERROR} internal error (a bug: please report the traceback)"
)


class GeoFuseError(ValueError):
    """A problem with the user's input or environment, told in one line without a traceback."""


class Cancelled(Exception):  # noqa: N818 - a cancel is the user's choice, not an error
    """The caller's cancel check returned true; nothing half-finished is left behind."""


class SegmentationError(GeoFuseError):
    """Inputs, options or outputs that cannot be segmented; the message says why in a user's terms.

    Defined here rather than beside the engine so that the torch-free parts of a segmentation (its outputs,
    the raster pair) raise it too.
    """
