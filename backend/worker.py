"""The GeoFuse worker: the backend in its own process, driven by one JSON request, answering in JSON lines.

QGIS never imports torch: the plugin starts ``python -m geofuse.backend.worker`` in the GeoFuse runtime (a
Python with torch, numpy and rasterio), writes one request line on its stdin and reads JSON lines from its
stdout. A crash, an out-of-memory kill or a native-library clash then ends this process, never QGIS.

Protocol (one JSON object per line, UTF-8):

* stdin, first line: the request,
  ``{"command": "segment" | "evaluate" | "train" | "finetune" | "diagnostics", ...}``
  (``"self-check"`` is another name for ``"diagnostics"``). ``"stop_on_stdin_close": true`` makes a
  closed stdin mean "stop" (the plugin sets it, so a worker whose QGIS went away stops too).
* stdin, later lines: ``{"type": "stop"}`` (or the word ``stop``) asks the worker to stop politely;
  SIGTERM and SIGHUP do the same.
* stdout: ``{"type": "progress", "fraction", "done", "total", "eta_s", "message"}``,
  ``{"type": "log", "level", "message"}``, then exactly one of ``{"type": "result", ...}``,
  ``{"type": "error", "message", "kind", "detail"}`` or ``{"type": "cancelled", "message"}``.

Nothing else reaches stdout: the protocol is written to a duplicate of the original stdout descriptor,
and descriptor 1 itself is pointed at stderr, so prints from Python *and* from native libraries land on
stderr. Exit status: 0 result, 1 error, 2 cancelled.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import IO, Any

from .errors import EXIT_CANCELLED, EXIT_INTERNAL_ERROR, EXIT_OK, EXIT_USER_ERROR, Cancelled
from .validation import MAX_REQUEST_BYTES, RequestError, check_segment_request, echo, parse_request

STOP_WORDS = ("stop", "cancel")
DEFERRING = "See previous exception for details."
FULL_DISK = (errno.ENOSPC, errno.EDQUOT)


class Emitter:
    """Writes protocol lines; thread-safe because progress callbacks may come from loader threads."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: Mapping[str, Any]) -> None:
        """Write one message as a JSON line and flush, so the reader sees it at once."""
        line = json.dumps(message, default=_jsonable, allow_nan=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def log(self, message: str, level: str = "info") -> None:
        """A line for the user's log (Processing's log panel)."""
        self.send({"type": "log", "level": level, "message": message})

    def progress(
        self,
        fraction: float,
        done: int | None = None,
        total: int | None = None,
        eta_s: float | None = None,
        message: str | None = None,
    ) -> None:
        """Progress in [0, 1], with the unit count and remaining time where known."""
        self.send(
            {
                "type": "progress",
                "fraction": min(max(float(fraction), 0.0), 1.0),
                "done": done,
                "total": total,
                "eta_s": eta_s,
                "message": message,
            }
        )


class CancelledError(Cancelled):
    """Raised by a command to end the run as "cancelled" rather than as an error."""


def _jsonable(value: Any) -> Any:
    """JSON fallback for paths, dataclasses, numpy scalars/arrays and tuples inside results."""
    if isinstance(value, Path):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _field(request: Mapping[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    """A request field checked for type; missing required fields are request errors."""
    if name not in request or request[name] is None:
        if default is ...:
            raise RequestError(f"the request lacks '{name}'")
        return default
    value = request[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise RequestError(f"'{name}' has the wrong type: {echo(value)}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


# ----------------------------------------------------------------------------------------------- commands


def diagnostics(request: Mapping[str, Any], emit: Emitter, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """What this runtime is: Python, GeoFuse, torch (CUDA, devices and their memory), rasterio and GDAL.

    Every part is probed separately, so a broken torch still yields a report that says so.
    """
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "geofuse_package": str(Path(__file__).resolve().parent.parent),
        "problems": [],
        "devices": [],
    }
    problems: list[str] = report["problems"]
    try:
        import numpy

        report["numpy"] = numpy.__version__
    except Exception as error:
        problems.append(f"numpy does not import: {error}")
    try:
        import torch

        report["torch"] = torch.__version__
        report["torch_cuda_build"] = torch.version.cuda
        report["cuda_available"] = bool(torch.cuda.is_available())
        report["devices"].append({"id": "cpu", "name": platform.processor() or platform.machine()})
        if report["cuda_available"]:
            for index in range(torch.cuda.device_count()):
                properties = torch.cuda.get_device_properties(index)
                free, total = torch.cuda.mem_get_info(index)
                report["devices"].append(
                    {
                        "id": f"cuda:{index}",
                        "name": properties.name,
                        "total_memory_mb": round(total / 2**20),
                        "free_memory_mb": round(free / 2**20),
                        "capability": f"{properties.major}.{properties.minor}",
                    }
                )
    except Exception as error:
        report["torch"] = None
        report["cuda_available"] = False
        problems.append(f"PyTorch does not import: {error}")
    try:
        import rasterio

        report["rasterio"] = rasterio.__version__
        report["gdal"] = rasterio.__gdal_version__
    except Exception as error:
        report["rasterio"] = None
        problems.append(f"rasterio does not import: {error}")
    try:
        import mamba_ssm

        report["mamba_ssm"] = getattr(mamba_ssm, "__version__", "installed")
    except Exception:
        report["mamba_ssm"] = None
    report["ok"] = not problems
    return report


def segment(request: Mapping[str, Any], emit: Emitter, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """Classify an optical + elevation raster pair with a checkpoint (``backend.inference``).

    The result adds the model's class table (names and colours) to the engine's result, so the QGIS side
    can style the output without reading the checkpoint.
    """
    fields, unknown = check_segment_request(request)  # before torch is imported: a bad request is quick
    from .class_raster import BandDescriptions
    from .inference import LoadedModel, SegmentationCancelled, SegmentOptions, segment_rasters

    if unknown:
        emit.log(f"ignored unknown request key(s): {echo(', '.join(unknown))}", level="warning")
    optical, elevation, output = fields["optical"], fields["elevation"], fields["output"]
    options = SegmentOptions(
        device=fields["device"] or "auto",
        tile=fields["tile"],
        overlap=64 if fields["overlap"] is None else fields["overlap"],
        batch_size=fields["batch_size"] or 1,
        extent=fields["extent"],
        optical_bands=fields["optical_bands"],
        confidence_path=fields["confidence"],
        overwrite=bool(fields["overwrite"]),
        mask=fields["mask"],
        descriptions=BandDescriptions(
            fields["class_band_description"] or BandDescriptions.classes,
            fields["confidence_band_description"] or BandDescriptions.confidence,
        ),
    )
    emit.progress(0.0, message="loading the model")
    model = LoadedModel.load(fields["model"], options.device)
    emit.log(model.card.describe().splitlines()[0] + f" on {model.device}")

    def report(record: Any) -> None:
        emit.progress(record.fraction, done=record.tiles_done, total=record.tiles_total, eta_s=record.eta_s)

    try:
        result = segment_rasters(
            optical, elevation, output, model, options, progress=report, cancel=cancelled
        )
    except SegmentationCancelled as error:
        raise CancelledError(str(error) or "segmentation cancelled") from error
    emit.log(result.summary())
    return {**_plain(result), "class_table": [info.to_dict() for info in model.card.classes]}


def evaluate(request: Mapping[str, Any], emit: Emitter, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """Score a classified raster against a ground-truth raster on the same grid.

    Both may hold class indices (255 or their nodata value = not scored) or class colours. Scores follow
    ``backend.evaluation`` (ISPRS means without clutter for the ISPRS table; optional eroded boundaries).
    The rasters are read strip by strip (``backend.raster_scores``), so memory does not grow with them.
    """
    from .classes import ISPRS_CLASSES, read_class_table
    from .evaluation import mean_classes_for
    from .metrics import compute_metrics
    from .raster_scores import raster_grid, score_rasters

    table = _field(request, "classes", str, None)
    classes = read_class_table(table) if table else ISPRS_CLASSES
    prediction, truth = _field(request, "prediction", str), _field(request, "truth", str)
    grid, truth_grid = raster_grid(prediction), raster_grid(truth)
    if grid != truth_grid:
        raise RequestError(
            "the classified raster and the ground truth must share one pixel grid (size and geotransform); "
            f"got {grid[0]}×{grid[1]} and {truth_grid[0]}×{truth_grid[1]}"
        )
    radius = _field(request, "eroded_radius", int, 0)
    scores = score_rasters(prediction, truth, classes, radius, cancelled=cancelled)
    if scores is None:
        raise CancelledError("evaluation cancelled")
    metrics = compute_metrics(scores.matrix, [info.name for info in classes], mean_classes_for(classes))
    return {
        "metrics": metrics.to_dict(),
        "confusion_matrix": scores.matrix.tolist(),
        "class_table": [info.to_dict() for info in classes],
        "unpredicted_pixels": scores.unpredicted,
        "eroded_radius": radius,
    }


def link_tiles(tiles: list[Any], root: Path) -> Path:
    """Lay out explicit (optical, elevation, labels) raster triples as a training folder (``data/folder.py``).

    The files are linked (copied where links are not allowed), named ``tile_000.tif`` ... so the three
    folders match by name whatever the originals were called.
    """
    for index, tile in enumerate(tiles):
        if not isinstance(tile, Mapping):
            raise RequestError("each training tile must be an object with optical, elevation and labels")
        for kind in ("optical", "elevation", "labels"):
            source = Path(_field(tile, kind, str))
            if not source.is_file():
                raise FileNotFoundError(2, "No such file", str(source))
            target = root / kind / f"tile_{index:03d}.tif"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            try:
                target.symlink_to(source.resolve())
            except OSError:
                shutil.copyfile(source, target)
    return root


def train(request: Mapping[str, Any], emit: Emitter, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """Train a model from a training config (``backend.training``); the result names the checkpoint.

    ``tiles`` (a list of optical/elevation/labels paths) replaces ``[data] root`` with a folder of links to
    them under the run's output folder.
    """
    from .train_config import TrainConfig
    from .training import TrainingCancelled
    from .training import train as run_training

    data = json.loads(json.dumps(_field(request, "config", dict)))
    tiles = _field(request, "tiles", list, None)
    if tiles:
        output = Path(data.get("train", {}).get("output") or "runs/geofuse")
        data.setdefault("data", {}).update(kind="folder", root=str(link_tiles(tiles, output / "tiles")))
    config = TrainConfig.from_dict(data)
    started = time.monotonic()

    def report(record: Any) -> None:
        elapsed = time.monotonic() - started
        eta = elapsed / record.step * (record.total - record.step) if record.step else None
        message = f"step {record.step}/{record.total}, loss {record.loss:.3f}"
        if record.metrics is not None and record.metrics.mean_f1 is not None:
            message += f", validation mF1 {record.metrics.mean_f1:.3f}"
            emit.log(message)
        emit.progress(
            record.step / record.total, done=record.step, total=record.total, eta_s=eta, message=message
        )

    try:
        checkpoint = run_training(config, progress=report, cancel=cancelled)
    except TrainingCancelled as error:
        raise CancelledError(str(error)) from error
    return {"model": str(checkpoint), "steps": config.total_steps, "elapsed_s": time.monotonic() - started}


def finetune(request: Mapping[str, Any], emit: Emitter, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """Fine-tune a model on training polygons (``backend.finetune``); the result names the new checkpoint
    and what the card records of the polygons. A cancel leaves no file behind."""
    from .checkpoint import load_checkpoint
    from .finetune import FinetuneRequest
    from .finetune import finetune as run_finetune
    from .inference import DEMO_MODEL
    from .training import TrainingCancelled

    bands = _field(request, "optical_bands", list, [])
    if not all(isinstance(band, int) and not isinstance(band, bool) for band in bands):
        raise RequestError(f"'optical_bands' must be a list of band numbers: {bands!r}")
    job = FinetuneRequest(
        optical=_field(request, "optical", str),
        elevation=_field(request, "elevation", str),
        polygons=_field(request, "polygons", str),
        class_field=_field(request, "class_field", str),
        output=_field(request, "output", str),
        base=_field(request, "model", str, "") or str(DEMO_MODEL),
        layer=_field(request, "layer", str, ""),
        bands=tuple(bands),
        minutes=float(_field(request, "minutes", (int, float), 5.0)),
        steps=_field(request, "steps", int, 1000),
        freeze_encoder_steps=_field(request, "freeze_encoder_steps", int, 0),
        batch_size=_field(request, "batch_size", int, 4),
        crop_size=_field(request, "crop_size", int, 256),
        device=_field(request, "device", str, "auto"),
        seed=_field(request, "seed", int, 0),
        overwrite=_field(request, "overwrite", bool, False),
    )

    def report(record: Any) -> None:
        emit.progress(
            record.fraction,
            done=record.step,
            total=record.total,
            eta_s=record.eta_s,
            message=f"step {record.step}, loss {record.loss:.3f}",
        )

    try:
        model = run_finetune(
            job, progress=report, cancel=cancelled, log=lambda text: emit.log(text, "warning")
        )
    except TrainingCancelled as error:
        raise CancelledError("fine-tuning cancelled; nothing was written") from error
    card = load_checkpoint(model).card
    emit.log(card.describe().splitlines()[0])
    return {
        "model": str(model),
        "steps": card.training.get("steps"),
        "duration_s": card.training.get("duration_s"),
        "polygons": card.training["data"]["polygons"],
        "new_classes": card.training.get("new_classes", []),
        "class_table": [info.to_dict() for info in card.classes],
    }


COMMANDS: dict[str, Callable[[Mapping[str, Any], Emitter, Callable[[], bool]], dict[str, Any]]] = {
    "diagnostics": diagnostics,
    "self-check": diagnostics,
    "segment": segment,
    "evaluate": evaluate,
    "train": train,
    "finetune": finetune,
}


def _plain(result: Any) -> dict[str, Any]:
    """A backend result object as a JSON-ready dict (round trip through JSON with the fallback above)."""
    data = (
        result if isinstance(result, Mapping) else (asdict(result) if is_dataclass(result) else vars(result))
    )
    return json.loads(json.dumps(data, default=_jsonable))


# ------------------------------------------------------------------------------------------- error texts


def error_text(error: BaseException) -> str:
    """The error's message on one line, with its cause's where the message only points there (rasterio's
    "Write failed. See previous exception for details." holds GDAL's reason in the cause)."""
    text = " ".join(str(error).split())
    cause = error.__cause__ or error.__context__
    if text.endswith(DEFERRING) and cause is not None:
        return f"{text.removesuffix(DEFERRING).rstrip(' .')}: {error_text(cause)}"
    return text or type(error).__name__


def _chain(error: BaseException) -> list[BaseException]:
    """The error and the errors it was raised from or during."""
    links: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not link for link in links):
        links.append(current)
        current = current.__cause__ or current.__context__
    return links


def explain(error: BaseException) -> tuple[str, str]:
    """A message a GIS analyst can act on, and its kind (``user``, ``resources`` or ``internal``).

    Errors the backend raises for bad input (CheckpointError, ValueError, missing files) already speak the
    user's language and pass through; resource exhaustion gets advice; anything else is a GeoFuse bug and
    says so, with the traceback in the ``detail`` field.
    """
    name = type(error).__name__
    text = str(error)
    if name == "OutOfMemoryError" or "CUDA out of memory" in text:
        return (
            "The GPU ran out of memory. Use a smaller tile size or batch size, or run on the CPU.",
            "resources",
        )
    if isinstance(error, MemoryError):
        return "The computer ran out of memory. Use a smaller tile size or batch size.", "resources"
    if any(isinstance(link, OSError) and link.errno in FULL_DISK for link in _chain(error)):
        return f"The disk is full: {error_text(error)}", "resources"
    if isinstance(error, FileNotFoundError):
        missing = error.filename or text
        return f"File not found: {missing}", "user"
    if isinstance(error, PermissionError):
        return f"Permission denied: {error.filename or text}", "user"
    if name in {"RasterioIOError", "CPLE_OpenFailedError"} or name.startswith("CPLE_"):
        verb = "write" if re.search(r"\b(write|create)", text, re.IGNORECASE) else "read"
        return f"Cannot {verb} the raster: {error_text(error)}", "user"
    if isinstance(
        error, ValueError | FileExistsError
    ):  # RequestError, CheckpointError and the backend's checks
        return error_text(error), "user"
    return f"GeoFuse worker failed unexpectedly ({name}: {text}). Please report this as a bug.", "internal"


# ---------------------------------------------------------------------------------------------- serving


def serve(request: Any, emit: Emitter, cancelled: Callable[[], bool]) -> int:
    """Run one request, emitting its result, error or cancellation; returns the exit status."""
    try:
        if not isinstance(request, Mapping):
            raise RequestError("the request must be a JSON object")
        command = request.get("command")
        if command not in COMMANDS:
            raise RequestError(f"unknown command {command!r}; known: {', '.join(sorted(COMMANDS))}")
        result = COMMANDS[command](request, emit, cancelled)
    except CancelledError as stop:
        emit.send({"type": "cancelled", "message": str(stop)})
        return EXIT_CANCELLED
    except Exception as error:
        message, kind = explain(error)
        detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        emit.send({"type": "error", "message": message, "kind": kind, "detail": detail[-20000:]})
        return EXIT_INTERNAL_ERROR if kind == "internal" else EXIT_USER_ERROR
    try:
        emit.send({"type": "result", "command": command, **result})
    except (TypeError, ValueError) as error:  # a result JSON cannot carry (a NaN area): still one final line
        emit.send(
            {
                "type": "error",
                "kind": "internal",
                "detail": echo(str(error)),
                "message": f"GeoFuse worker could not report its result ({error_text(error)}). "
                "Please report this as a bug.",
            }
        )
        return EXIT_INTERNAL_ERROR
    return EXIT_OK


def _is_stop(line: str) -> bool:
    text = line.strip()
    if text.lower() in STOP_WORDS:
        return True
    try:
        message = json.loads(text)
    except ValueError:
        return False
    return isinstance(message, Mapping) and message.get("type") in STOP_WORDS


class LineReader:
    """Bounded lines from a file descriptor, read with ``os.read``: Python's buffered reader holds a lock
    while it blocks, and a daemon thread blocked in it makes the interpreter abort at exit."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = bytearray()

    def readline(self, limit: int) -> bytes:
        """The next line (with its newline), at most ``limit`` bytes of it; ``b""`` at the end."""
        while b"\n" not in self.pending and len(self.pending) < limit:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                break
            self.pending += chunk
        newline = self.pending.find(b"\n")
        end = min(newline + 1 if newline >= 0 else len(self.pending), limit)
        line = bytes(self.pending[:end])
        del self.pending[:end]
        return line


def _watch_stdin(stdin: LineReader, stop: threading.Event, stop_on_close: bool) -> None:
    """Set ``stop`` on a stop message (or on EOF when asked); runs in a daemon thread. Lines are read
    bounded and decoded leniently: nothing a caller writes can end this thread with a traceback."""
    while line := stdin.readline(MAX_REQUEST_BYTES):
        if _is_stop(line.decode("utf-8", errors="replace")):
            stop.set()
            return
    if stop_on_close:
        stop.set()


def main() -> int:
    """Entry point: wire the descriptors, read the request, serve it; always exactly one final message."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    emit = Emitter(protocol)
    stop = threading.Event()
    for name in ("SIGTERM", "SIGHUP"):  # a polite kill or a closed terminal: the same clean stop
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda signum, frame: stop.set())
    stdin = LineReader(sys.stdin.fileno())
    first = stdin.readline(MAX_REQUEST_BYTES + 1)
    try:
        request = parse_request(first)
    except RequestError as error:
        emit.send(
            {
                "type": "error",
                "kind": "user",
                "detail": echo(first[:200]),
                "message": "the GeoFuse worker received no readable request (expected one JSON line): "
                f"{error}",
            }
        )
        return EXIT_USER_ERROR
    stop_on_close = bool(request.get("stop_on_stdin_close"))
    threading.Thread(target=_watch_stdin, args=(stdin, stop, stop_on_close), daemon=True).start()
    return serve(request, emit, stop.is_set)


if __name__ == "__main__":
    sys.exit(main())
