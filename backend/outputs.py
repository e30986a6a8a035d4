"""The files one segmentation writes, and what a killed one left behind (no torch, no GDAL: QGIS imports it).

A segmentation places the class GeoTIFF, its ``.qml`` and ``.aux.xml`` sidecars and perhaps a confidence
GeoTIFF (:func:`segmentation_finals`). :class:`SegmentationOutputs` checks their names against the inputs
and each other, claims them (``backend/claims.py``: locks, journal, no overwriting unless asked), hands out
hidden temporaries to write, and places everything at the end, the class raster last. The Processing
side, whose worker may have been killed mid-run, removes what such a run left with
:func:`leftover_temporaries`, which knows the temporaries from the run's journal, never from a pattern.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

from .claims import OutputClaim, recover
from .classes import ClassInfo
from .errors import SegmentationError
from .styling import CLASS_BAND_DESCRIPTION, pam_xml, qml_text, sidecar_paths

RASTER_SUFFIXES = (".tif", ".tiff")
"""The output names written: GeoTIFF, which carries the colour table, category names (PAM) and NaN nodata
that the class and confidence rasters need, and can be written block by block."""


def segmentation_finals(output: str | Path, confidence: str | Path | None = None) -> list[Path]:
    """Every path a segmentation places, the class raster last: its ``.qml`` and ``.aux.xml`` sidecars, the
    confidence raster if any, the class raster."""
    aux, qml = sidecar_paths(output)
    return [qml, aux] + ([Path(confidence)] if confidence is not None else []) + [Path(output)]


def leftover_temporaries(output: str | Path, confidence: str | Path | None = None) -> list[Path]:
    """Remove what segmentations killed while writing ``output`` (and ``confidence``) left behind; the
    files removed.

    Exactly the files their journals list (hidden temporaries, and finals an unfinished run had placed),
    each only while it is the file journaled, then the lock files. Never a file found by a pattern, so a
    concurrent run's temporaries beside the same output are safe; outputs a live run holds are left alone.
    """
    return recover(segmentation_finals(output, confidence))


def check_formats(outputs: Iterable[Path]) -> None:
    """Refuse a raster output named for another format (``.gpkg``, ``.png``, ``.vrt``…): a GeoTIFF under
    that name would mislead every program that goes by the extension.

    Raises:
        SegmentationError: Naming the output and the names allowed.
    """
    for output in outputs:
        if output.suffix.lower() not in RASTER_SUFFIXES:
            raise SegmentationError(
                f"cannot write {output}: GeoFuse writes GeoTIFF rasters, so the name must end in .tif or "
                f".tiff (not {output.suffix or 'no extension'!r}); convert with gdal_translate if needed"
            )


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))


def check_paths(inputs: Sequence[Path], outputs: Sequence[Path]) -> None:
    """Refuse an output that is an input or is named twice; whether outputs exist is the claim's check.

    Raises:
        SegmentationError: Naming the output.
    """
    for index, output in enumerate(outputs):
        for source in inputs:
            if _same_file(output, source):
                raise SegmentationError(f"output {output} is an input; choose another output path")
        for other in outputs[index + 1 :]:
            if _same_file(output, other):
                raise SegmentationError(
                    f"{output} would be written twice (the class raster, its sidecars and the confidence "
                    "raster need different names)"
                )


class SegmentationOutputs:
    """One segmentation's outputs: checked on creation, claimed for the ``with`` block, placed at its end.

    Leaving the block with an exception (an error, a cancel, a signal) removes this run's files and nothing
    else; see :class:`geofuse.backend.claims.OutputClaim`.

    Args:
        output: The class GeoTIFF; its sidecars go beside it.
        confidence: The confidence GeoTIFF, or None.
        inputs: The input rasters, which no output may be.
        overwrite: Whether existing outputs may be replaced.

    Raises:
        SegmentationError: For a name that is not a GeoTIFF's, an output that is an input, or a name used
            twice (on creation); for an output that exists (without ``overwrite``) or is being written by
            another run (on entering).
    """

    def __init__(
        self, output: str | Path, confidence: str | Path | None, inputs: Sequence[str | Path], overwrite: bool
    ) -> None:
        self.output = Path(output)
        self.confidence = Path(confidence) if confidence is not None else None
        self.aux, self.qml = sidecar_paths(self.output)
        check_formats([self.output] + ([self.confidence] if self.confidence else []))
        finals = segmentation_finals(self.output, self.confidence)
        check_paths([Path(source) for source in inputs], finals)
        self._claim = OutputClaim(finals, overwrite, SegmentationError)
        self.temporary_output = self.output
        self.temporary_confidence: Path | None = None

    def __enter__(self) -> SegmentationOutputs:
        """Claim the outputs and name the temporaries the rasters are written to (journaled, not created)."""
        claim = self._claim.__enter__()
        try:
            self.temporary_output = claim.temporary(self.output)
            self.temporary_confidence = claim.temporary(self.confidence) if self.confidence else None
            temporaries = [path for path in (self.temporary_output, self.temporary_confidence) if path]
            claim.journal(*(sidecar_paths(path)[0] for path in temporaries))  # GDAL's PAM sidecars
        except BaseException as error:
            self._claim.__exit__(type(error), error, error.__traceback__)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Release the outputs; what this run placed stays only when the block ended without an exception."""
        self._claim.__exit__(kind, value, trace)

    def created(self) -> None:
        """Note that the temporary rasters now exist (so a clean-up removes exactly them)."""
        self._claim.created()

    def place(self, classes: Sequence[ClassInfo], band_description: str = CLASS_BAND_DESCRIPTION) -> None:
        """Write the sidecars for ``classes`` and move every temporary into place, the class raster last.

        The PAM sidecar's band description wins over the GeoTIFF's in GDAL, so it is the caller's too.

        The claim removes what was placed if a later move fails, and never replaces a file that appeared
        at a final path meanwhile.
        """
        temporary_aux = sidecar_paths(self.temporary_output)[0]
        temporary_aux.write_text(pam_xml(classes, band_description), encoding="utf-8")
        temporary_qml = self._claim.temporary(self.qml)
        temporary_qml.write_text(qml_text(classes), encoding="utf-8")
        self._claim.created()
        moves = [(temporary_qml, self.qml), (temporary_aux, self.aux)]
        if self.temporary_confidence is not None and self.confidence is not None:
            moves.append((self.temporary_confidence, self.confidence))
        moves.append((self.temporary_output, self.output))
        self._claim.place(moves)
