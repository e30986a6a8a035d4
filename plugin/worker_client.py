"""Run one request in the GeoFuse worker process and relay its progress to a Processing feedback object.

Called from an algorithm's ``processAlgorithm`` (a background thread in the toolbox and the dock, the main
thread under ``processing.run``), so it uses ``subprocess`` and plain threads, no Qt event loop. Reader
threads only queue lines; every call on the feedback object happens in the calling thread.

The plugin's own messages are translated under the context ``WorkerClient``; the worker's messages and its
stderr (another process, English) are relayed as they are. pylupdate5 skips a ``translate()`` call whose
last argument has a trailing comma, so a call ``ruff format`` would split that way carries ``# fmt: skip``.

Cancel: a stop message on the worker's stdin, then a kill after :data:`STOP_GRACE_S` seconds, so the worker
is gone well within two seconds. A worker that ends without a result (killed, out of memory, segfault) is
a ``QgsProcessingException`` naming its exit code or signal, never a hang.

Progress crosses the process line as values: each progress message becomes a :class:`WorkerProgress`, which
a :class:`WorkerFeedback` re-emits for a widget that formats it in its own words (the dock); every feedback
also gets it as a percentage and a translated line of text for Processing's dialog and log.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from qgis.core import QgsProcessingException, QgsProcessingFeedback
from qgis.PyQt.QtCore import QCoreApplication, pyqtSignal

from ..backend.validation import RequestError, check_request
from .runtime import Runtime, RuntimeNotFoundError, child_environment, find_runtime, process_options

STOP_GRACE_S = 1.0
POLL_S = 0.1
STDERR_KEPT = 40
WINDOWS_CRASHES = {0xC0000005: "access violation", 0xC00000FD: "stack overflow", 0xC0000409: "abort"}
"""Windows crash codes and short technical names for them (kept in English, like POSIX signal names)."""


class WorkerCancelledError(QgsProcessingException):
    """The user cancelled; the worker was stopped and left nothing behind."""


@dataclass(frozen=True)
class WorkerProgress:
    """One progress message of the worker (``geofuse.backend.worker``'s protocol) as values.

    ``done`` of ``total`` units (tiles, training steps), the seconds left when the worker estimates them,
    and the worker's own note (English, from another process), such as ``"loading the model"``.
    """

    fraction: float
    done: int | None = None
    total: int | None = None
    eta_s: float | None = None
    message: str = ""

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> WorkerProgress:
        """Read a ``{"type": "progress", ...}`` message; a missing or malformed field is left unknown."""

        def number(key: str, kind: type) -> Any:
            value = message.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return kind(value)
            return None

        return cls(
            fraction=min(max(number("fraction", float) or 0.0, 0.0), 1.0),
            done=number("done", int),
            total=number("total", int),
            eta_s=number("eta_s", float),
            message=str(message.get("message") or ""),
        )


class WorkerFeedback(QgsProcessingFeedback):
    """A Processing feedback that also hands on the worker's progress as values, in ``worker_progress``.

    The signal is emitted from the thread that runs the algorithm; a widget connected to it on the main
    thread receives it queued, and formats it (translated, in the user's locale) itself.
    """

    worker_progress = pyqtSignal(object)
    """Emitted with a :class:`WorkerProgress` for each progress message of the worker."""


def _read_lines(stream: IO[str], tag: str, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((tag, line.rstrip("\r\n")))
    lines.put((tag, None))


def describe_exit(code: int) -> str:
    """How a worker ended, in words: an exit status, a POSIX signal or a Windows crash code.

    Returns:
        The predicate of "it ... before finishing" (see :meth:`WorkerRun._conclude`), translated.
    """
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = QCoreApplication.translate("WorkerClient", "unknown signal")
        if -code == 9:  # SIGKILL (signal.SIGKILL does not exist on Windows)
            return QCoreApplication.translate(
                "WorkerClient",
                "was killed by signal {number} ({name}) (the system may have run out of memory, or the "
                "process was killed)"
            ).format(number=-code, name=name)  # fmt: skip
        return QCoreApplication.translate("WorkerClient", "was killed by signal {number} ({name})").format(
            number=-code, name=name
        )
    crash = WINDOWS_CRASHES.get(code & 0xFFFFFFFF)
    if crash is not None:
        return QCoreApplication.translate("WorkerClient", "crashed ({crash}, exit code {code})").format(
            crash=crash, code=f"{code:#x}"
        )
    return QCoreApplication.translate("WorkerClient", "exited with code {code}").format(code=code)


class WorkerRun:
    """One worker process serving one request; :meth:`run` blocks until it ends."""

    def __init__(
        self, request: Mapping[str, Any], feedback: QgsProcessingFeedback | None, runtime: Runtime
    ) -> None:
        self.request = {**request, "stop_on_stdin_close": True}
        self.feedback = feedback if feedback is not None else QgsProcessingFeedback()
        self.runtime = runtime
        self.stderr: deque[str] = deque(maxlen=STDERR_KEPT)
        self.process: subprocess.Popen | None = None
        self.readers: list[threading.Thread] = []

    def run(self) -> dict[str, Any]:
        """Start the worker, relay its messages, return its result.

        Raises:
            QgsProcessingException: For the worker's error message, a dead worker or an unstartable runtime.
            WorkerCancelledError: When the feedback was cancelled.
        """
        lines: queue.Queue = queue.Queue()
        try:
            self.process = subprocess.Popen(
                self.runtime.worker_command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=child_environment(),
                cwd=tempfile.gettempdir(),
                text=True,
                encoding="utf-8",
                errors="replace",
                **process_options(),
            )
        except OSError as error:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "WorkerClient", "Cannot start the GeoFuse runtime {python} ({source}): {error}"
                ).format(python=self.runtime.python, source=self.runtime.source, error=error)
            ) from error
        process = self.process
        self.feedback.pushDebugInfo(
            f"GeoFuse worker (pid {process.pid}) running {self.runtime.python} ({self.runtime.source})"
        )
        for stream, tag in ((process.stdout, "out"), (process.stderr, "err")):
            reader = threading.Thread(target=_read_lines, args=(stream, tag, lines), daemon=True)
            reader.start()
            self.readers.append(reader)
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps(self.request) + "\n")
            process.stdin.flush()
        except OSError:
            pass  # the worker died at once; its exit status tells why below
        try:
            final = self._relay(lines)
        finally:
            self._finish()
        return self._conclude(final)

    def _relay(self, lines: queue.Queue) -> dict[str, Any] | None:
        """Pass messages on until stdout closes; stop the worker if the user cancels."""
        final: dict[str, Any] | None = None
        open_streams = 2
        while open_streams:
            if self.feedback.isCanceled():
                self._stop()
                raise WorkerCancelledError(
                    QCoreApplication.translate("WorkerClient", "Cancelled: the GeoFuse worker was stopped.")
                )
            try:
                tag, line = lines.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
            elif tag == "err":
                self.stderr.append(line)
                self.feedback.pushDebugInfo(line)
            else:
                final = self._handle(line) or final
        return final

    def _handle(self, line: str) -> dict[str, Any] | None:
        try:
            message = json.loads(line)
        except ValueError:
            self.feedback.pushDebugInfo(f"worker: {line}")
            return None
        kind = message.get("type")
        if kind == "progress":
            progress = WorkerProgress.from_message(message)
            self.feedback.setProgress(100.0 * progress.fraction)
            if isinstance(self.feedback, WorkerFeedback):
                self.feedback.worker_progress.emit(progress)
            text = progress_text(progress)
            if text:
                self.feedback.setProgressText(text)
        elif kind == "log":
            level, text = message.get("level"), str(message.get("message", ""))
            if level == "warning":
                self.feedback.reportError(text, False)
            elif level == "debug":
                self.feedback.pushDebugInfo(text)
            else:
                self.feedback.pushInfo(text)
        elif kind in {"result", "error", "cancelled"}:
            return message
        return None

    def _conclude(self, final: dict[str, Any] | None) -> dict[str, Any]:
        assert self.process is not None
        code = self.process.returncode
        if final is None:
            message = QCoreApplication.translate(
                "WorkerClient", "The GeoFuse worker process died: it {exit} before finishing."
            ).format(exit=describe_exit(code))
            if self.stderr:
                last = QCoreApplication.translate("WorkerClient", "Its last messages:")
                message += "\n" + last + "\n" + "\n".join(self.stderr)
            raise QgsProcessingException(message)
        if final["type"] == "error":
            if final.get("detail") and final.get("kind") == "internal":  # a bug: its traceback helps a report
                self.feedback.pushDebugInfo(final["detail"])
            raise QgsProcessingException(str(final.get("message")))
        if final["type"] == "cancelled":
            raise WorkerCancelledError(
                str(final.get("message") or QCoreApplication.translate("WorkerClient", "Cancelled."))
            )
        return final

    def _stop(self) -> None:
        """Ask politely, then kill after the grace period."""
        process = self.process
        assert process is not None
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps({"type": "stop"}) + "\n")
            process.stdin.flush()
        except OSError:
            pass
        deadline = time.monotonic() + STOP_GRACE_S
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None:
            self._kill()

    def _kill(self) -> None:
        process = self.process
        assert process is not None
        if os.name != "nt":
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the worker's own session: its children go too
        process.kill()

    def _finish(self) -> None:
        """Never leave a process behind: close stdin, reap, and kill if it lingers."""
        process = self.process
        assert process is not None
        try:
            if process.stdin is not None:
                process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._kill()
            process.wait()
        for reader in self.readers:
            reader.join(timeout=2)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def progress_text(progress: WorkerProgress) -> str:
    """The worker's progress as one translated line for Processing's dialog ("3/16, about 5 s left")."""
    parts = []
    if progress.message:
        parts.append(progress.message)
    if progress.done is not None and progress.total:
        parts.append(f"{progress.done}/{progress.total}")
    eta = progress.eta_s
    if eta is not None:
        if eta < 120:
            left = QCoreApplication.translate("WorkerClient", "about {seconds} s left").format(
                seconds=f"{eta:.0f}"
            )
        else:
            left = QCoreApplication.translate("WorkerClient", "about {minutes} min left").format(
                minutes=f"{eta / 60:.0f}"
            )
        parts.append(left)
    return ", ".join(parts)


def run_worker(
    request: Mapping[str, Any], feedback: QgsProcessingFeedback | None = None, runtime: Runtime | None = None
) -> dict[str, Any]:
    """Run ``request`` in the GeoFuse runtime's worker (see ``geofuse.backend.worker``) and return its result.

    Raises:
        QgsProcessingException: When no runtime is found, the worker reports an error or dies, or on cancel
            (:class:`WorkerCancelledError`).
    """
    try:
        check_request(request)  # the worker's own checks, before a process is started for nothing
    except RequestError as error:
        raise QgsProcessingException(str(error)) from error
    if runtime is None:
        try:
            runtime = find_runtime()
        except RuntimeNotFoundError as error:
            raise QgsProcessingException(str(error)) from error
    return WorkerRun(request, feedback, runtime).run()
