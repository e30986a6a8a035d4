"""The QGIS side of the worker: finding the runtime, starting the worker, cancel, dead workers, installing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsSettings
from segment_inputs import geofuse_provider

from geofuse.plugin import runtime
from geofuse.plugin.runtime import (
    BOOTSTRAP,
    Runtime,
    RuntimeInstallError,
    RuntimeNotFoundError,
    child_environment,
    explain_install_failure,
    find_runtime,
    install_runtime,
    torch_build,
)
from geofuse.plugin.worker_client import WorkerCancelledError, describe_exit, run_worker

__all__ = ["geofuse_provider"]
PYTHON = Path(sys.executable)


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps what the client reports, for assertions."""

    def __init__(self) -> None:
        super().__init__()
        self.debug: list[str] = []
        self.info: list[str] = []

    def pushDebugInfo(self, info: str) -> None:
        self.debug.append(info)

    def pushInfo(self, info: str) -> None:
        self.info.append(info)


def fake_python(folder: Path, body: str) -> Runtime:
    """A 'runtime' that is a shell script, to make the worker die or hang on purpose."""
    script = folder / "python"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return Runtime(script, "test")


def test_worker_imports_geofuse_from_a_plugin_folder_of_any_name(tmp_path: Path, repo_root: Path) -> None:
    clone = tmp_path / "GeoFuse-main (2)"
    clone.mkdir()
    shutil.copy(repo_root / "__init__.py", clone)
    shutil.copytree(repo_root / "backend", clone / "backend", ignore=shutil.ignore_patterns("__pycache__"))

    done = subprocess.run(
        Runtime(PYTHON, "test").worker_command(clone),
        input='{"command": "diagnostics"}\n',
        capture_output=True,
        text=True,
        env={**child_environment(), "PYTHONPATH": ""},
        cwd=tmp_path,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert f'"geofuse_package": "{clone}"' in done.stdout


def test_run_worker_returns_the_self_check_and_logs_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOFUSE_PYTHON", str(PYTHON))
    feedback = RecordingFeedback()

    report = run_worker({"command": "diagnostics"}, feedback)

    assert report["ok"] and report["torch"]
    assert any(line.startswith("GeoFuse worker (pid ") for line in feedback.debug)


def test_the_child_environment_drops_the_qgis_launchers_python_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PYTHONHOME", "PYTHONPATH", "PYTHONEXECUTABLE"):
        monkeypatch.setenv(name, "/opt/qgis/python")
    monkeypatch.setenv("GEOFUSE_KEEP", "1")

    environment = child_environment()

    assert not {"PYTHONHOME", "PYTHONPATH", "PYTHONEXECUTABLE"} & set(environment)
    assert environment["GEOFUSE_KEEP"] == "1"


class TestFindRuntime:
    @pytest.fixture(autouse=True)
    def _clean(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.delenv("GEOFUSE_PYTHON", raising=False)
        monkeypatch.setattr(runtime, "runtime_venv_dir", lambda: tmp_path / "venv")
        QgsSettings().remove(runtime.SETTINGS_KEY)
        yield
        QgsSettings().remove(runtime.SETTINGS_KEY)

    def test_the_environment_variable_comes_first(self, monkeypatch: pytest.MonkeyPatch) -> None:
        QgsSettings().setValue(runtime.SETTINGS_KEY, "/nonexistent/python")
        monkeypatch.setenv("GEOFUSE_PYTHON", str(PYTHON))

        assert find_runtime() == Runtime(PYTHON, "GEOFUSE_PYTHON")

    def test_a_configured_python_that_is_missing_is_an_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GEOFUSE_PYTHON", "/nonexistent/python")

        with pytest.raises(RuntimeNotFoundError, match="GEOFUSE_PYTHON is set to '/nonexistent/python'"):
            find_runtime()

    def test_the_setting_comes_before_the_created_venv(self, tmp_path: Path) -> None:
        venv_python = runtime.venv_python(tmp_path / "venv")
        venv_python.parent.mkdir(parents=True)
        venv_python.write_text("")
        QgsSettings().setValue(runtime.SETTINGS_KEY, str(PYTHON))

        assert find_runtime() == Runtime(PYTHON, "plugin setting")
        QgsSettings().remove(runtime.SETTINGS_KEY)
        assert find_runtime() == Runtime(venv_python, "runtime created by GeoFuse")

    def test_qgis_python_is_used_only_if_torch_imports_there(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(runtime, "qgis_python", lambda: PYTHON)
        assert find_runtime() == Runtime(PYTHON, "QGIS's Python")  # the test venv has torch

        monkeypatch.setattr(runtime, "qgis_python", lambda: Path("/usr/bin/python3"))
        if runtime.has_runtime_packages(Path("/usr/bin/python3")):
            pytest.skip("this system's Python has torch and rasterio")
        with pytest.raises(RuntimeNotFoundError, match="geofuse:install_runtime"):
            find_runtime()


def test_a_killed_worker_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        QgsProcessingException, match=r"worker process died: it was killed by signal 9 \(SIGKILL\)"
    ):
        run_worker({"command": "diagnostics"}, RecordingFeedback(), fake_python(tmp_path, "kill -9 $$"))


def test_a_worker_that_exits_without_a_result_shows_its_last_words(tmp_path: Path) -> None:
    body = "echo 'Fatal Python error: Segmentation fault' >&2; exit 139"
    with pytest.raises(QgsProcessingException, match=r"(?s)exited with code 139.*Segmentation fault"):
        run_worker({"command": "diagnostics"}, RecordingFeedback(), fake_python(tmp_path, body))


def test_cancel_kills_a_worker_that_ignores_the_stop_message(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    fake = fake_python(tmp_path, f"echo $$ > {pid_file}; exec sleep 60")
    feedback = RecordingFeedback()
    threading.Timer(0.5, feedback.cancel).start()

    started = time.monotonic()
    with pytest.raises(WorkerCancelledError):
        run_worker({"command": "segment"}, feedback, fake)

    assert time.monotonic() - started < 0.5 + 2.0
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists()


@pytest.mark.parametrize(
    ("code", "words"), [(-9, "signal 9 (SIGKILL)"), (-11, "signal 11 (SIGSEGV)"), (3, "exited with code 3")]
)
def test_exit_statuses_are_described(code: int, words: str) -> None:
    assert words in describe_exit(code)


def test_the_torch_build_follows_the_driver() -> None:
    assert torch_build(None)[0].endswith("/cpu")
    assert torch_build(12.8)[0].endswith("/cu128")
    assert torch_build(13.2)[0].endswith("/cu130")
    assert torch_build(11.0)[1] == "CPU"  # too old for any CUDA build: the CPU build still works


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ("OSError: [Errno 28] No space left on device", "disk is full"),
        ("SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED]", "PIP_CERT"),
        ("Failed to establish a new connection: [Errno -3] Temporary failure in name resolution", "internet"),
        ("ERROR: No matching distribution found for torch==2.13.0", "No PyTorch"),
    ],
)
def test_install_failures_are_explained(output: str, words: str) -> None:
    message = explain_install_failure("Installing PyTorch", ["Collecting torch", output], 1)

    assert message.startswith("Installing PyTorch failed.")
    assert words in message
    assert output in message


def test_the_bootstrap_removes_the_current_folder_from_the_path() -> None:
    assert "del sys.path[0]" in BOOTSTRAP
    assert os.sep == "/" or "'/__init__.py'" in BOOTSTRAP


@pytest.fixture
def offline_base_python(tmp_path: Path) -> Path:
    """A base "python" whose ``-m venv DIR`` makes a venv whose pip cannot reach the package index."""
    pip_python = (
        "#!/bin/sh\\necho Collecting pip\\necho 'Failed to establish a new connection' >&2\\nexit 1\\n"
    )
    base = tmp_path / "base-python"
    base.write_text(
        f'#!/bin/sh\nmkdir -p "$3/bin"\nprintf "{pip_python}" > "$3/bin/python"\nchmod +x "$3/bin/python"\n'
        "echo created venv\n",
        encoding="utf-8",
    )
    base.chmod(0o755)
    return base


def test_install_streams_output_and_explains_a_failed_step(offline_base_python: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    steps: list[tuple[float, str]] = []

    with pytest.raises(
        RuntimeInstallError, match=r"(?s)Updating pip failed\. The package index could not be"
    ):
        install_runtime(
            tmp_path / "venv",
            offline_base_python,
            lines.append,
            lambda p, s: steps.append((p, s)),
            lambda: False,
        )

    assert lines == ["created venv", "Collecting pip", "Failed to establish a new connection"]
    assert steps == [
        (0.0, "Creating the runtime venv"),
        (10, "Creating the runtime venv"),
        (10, "Updating pip"),
    ]


def test_install_runtime_algorithm_reports_the_failure(
    geofuse_provider: object, offline_base_python: Path, tmp_path: Path
) -> None:
    import processing

    with pytest.raises(QgsProcessingException, match="check the internet connection"):
        processing.run(
            "geofuse:install_runtime",
            {"BUILD": "cpu", "BASE_PYTHON": str(offline_base_python), "TARGET": str(tmp_path / "runtime")},
        )
