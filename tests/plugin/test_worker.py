"""The QGIS side of the worker: finding the runtime, starting the worker, cancel, dead workers, installing."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsSettings
from stand_ins import fake_python

from geofuse.plugin import runtime
from geofuse.plugin.runtime import (
    BOOTSTRAP,
    Runtime,
    RuntimeIncompleteError,
    RuntimeInstallError,
    RuntimeNotFoundError,
    StepProgress,
    child_environment,
    explain_install_failure,
    find_runtime,
    install_runtime,
    package_steps,
    qgis_python,
    torch_build,
)
from geofuse.plugin.runtime_network import pip_settings, probe
from geofuse.plugin.worker_client import (
    WorkerCancelledError,
    WorkerProgress,
    describe_exit,
    progress_text,
    run_worker,
)

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
        (tmp_path / "venv" / runtime.RUNTIME_MARKER).write_text("{}")
        QgsSettings().setValue(runtime.SETTINGS_KEY, str(PYTHON))

        assert find_runtime() == Runtime(PYTHON, "plugin setting")
        QgsSettings().remove(runtime.SETTINGS_KEY)
        assert find_runtime() == Runtime(venv_python, "runtime created by GeoFuse")

    def test_an_unfinished_created_venv_is_incomplete_not_used(self, tmp_path: Path) -> None:
        """A venv left by an interrupted set-up (no marker, no packages) is reported, never run."""
        venv_python = runtime.venv_python(tmp_path / "venv")
        venv_python.parent.mkdir(parents=True)
        venv_python.symlink_to("/usr/bin/python3")

        with pytest.raises(RuntimeIncompleteError, match="incomplete — Set up runtime again"):
            find_runtime()

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
        ("ProxyError('Cannot connect to proxy.', host='proxy.corp')", "Could not reach proxy.corp"),
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

    with pytest.raises(RuntimeInstallError, match=r"(?s)Updating pip failed\. Could not reach the package"):
        install_runtime(
            tmp_path / "venv",
            offline_base_python,
            lines.append,
            lambda p, s: steps.append((p, s)),
            lambda: False,
            lambda python: None,
        )

    assert lines == ["created venv", "Collecting pip", "Failed to establish a new connection"]
    assert steps == [
        (0, "Creating the runtime venv"),
        (5, "Creating the runtime venv"),
        (5, "Updating pip"),
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["base-python"]  # nothing half-built left


def installing_base_python(folder: Path) -> Path:
    """A base "python" whose venvs' "python" succeeds at every pip command (an installation in a second)."""
    base = folder / "base-python"
    base.write_text(
        '#!/bin/sh\nmkdir -p "$3/bin"\nprintf "#!/bin/sh\\necho ok\\n" > "$3/bin/python"\n'
        'chmod +x "$3/bin/python"\ntouch "$3/pyvenv.cfg"\n',
        encoding="utf-8",
    )
    base.chmod(0o755)
    return base


def test_a_runtime_failing_its_check_is_not_moved_into_place_and_the_old_one_stays(tmp_path: Path) -> None:
    target = tmp_path / "runtime"
    (target / "bin").mkdir(parents=True)
    (target / "pyvenv.cfg").write_text("old")
    checked: list[Path] = []

    def failing_check(python: Path) -> None:
        checked.append(python)
        raise RuntimeInstallError("No module named 'numpy'")

    with pytest.raises(RuntimeInstallError, match="numpy"):
        install_runtime(
            target, installing_base_python(tmp_path), print, lambda p, s: None, lambda: False, failing_check
        )

    assert checked and checked[0].parent.parent != target  # checked where it was built, not in place
    assert (target / "pyvenv.cfg").read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["base-python", "runtime"]


def test_a_checked_runtime_replaces_the_old_one_with_its_marker(tmp_path: Path) -> None:
    target = tmp_path / "runtime"
    (target / "bin").mkdir(parents=True)
    (target / "pyvenv.cfg").write_text("old")

    python = install_runtime(
        target, installing_base_python(tmp_path), print, lambda p, s: None, lambda: False, lambda p: None
    )

    assert python == runtime.venv_python(target)
    assert python.is_file()
    assert (target / "pyvenv.cfg").read_text() == ""
    assert (target / runtime.RUNTIME_MARKER).is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["base-python", "runtime"]


def test_a_folder_with_other_things_in_it_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "documents"
    target.mkdir()
    (target / "thesis.odt").write_text("precious")

    with pytest.raises(RuntimeInstallError, match="not empty and not a venv"):
        install_runtime(
            target, installing_base_python(tmp_path), print, lambda p, s: None, lambda: False, lambda p: None
        )
    assert (target / "thesis.odt").read_text() == "precious"


def test_torch_comes_from_pips_configured_indexes_with_pytorch_only_as_an_extra_index(tmp_path: Path) -> None:
    torch_step = package_steps(tmp_path, "https://download.pytorch.org/whl/cpu", "CPU")[0]
    assert "--index-url" not in torch_step.command
    assert torch_step.command[-2:] == ["--extra-index-url", "https://download.pytorch.org/whl/cpu"]
    assert "--extra-index-url" not in package_steps(tmp_path, None, "CPU")[0].command
    assert "raw" in torch_step.command  # pip reports download progress


def test_the_download_moves_the_progress_bar_and_keeps_the_log_readable() -> None:
    step = package_steps(Path("venv"), None, "CPU")[0]
    lines: list[str] = []
    progress: list[tuple[float, str]] = []
    relay = StepProgress(step, lines.append, lambda p, s: progress.append((p, s)))

    for line in ["Downloading torch-2.13.0+cpu.whl (200 MB)", "Progress 0 of 200000000"]:
        relay(line)
    relay("Progress 100000000 of 200000000")
    relay("Progress 200000000 of 200000000")
    relay("Progress 0 of 1000")  # the next, small download: the bar does not go back

    assert lines == ["Downloading torch-2.13.0+cpu.whl (200 MB)"]
    percents = [percent for percent, _ in progress]
    assert percents == [step.start, (step.start + step.progress) / 2, step.progress, step.progress]
    assert progress[1][1].endswith("100 of 200 MB downloaded")


def test_the_base_python_is_qgis_own_interpreter_not_a_shim_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shim = tmp_path / "shims" / "python3"
    shim.parent.mkdir()
    shim.write_text('#!/bin/sh\nexec pyenv exec python3 "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(shim))

    found = qgis_python()

    assert found is not None and found != shim
    assert Path(sys.base_exec_prefix) in found.parents
    version = subprocess.run(
        [str(found), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True
    )
    assert version.stdout.decode().strip() == str(tuple(sys.version_info[:2]))


def test_pip_settings_come_from_pip_conf_and_pip_variables(tmp_path: Path) -> None:
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = https://mirror.example/simple\nproxy = http://conf:3128\n")
    environment = {**os.environ, "PIP_CONFIG_FILE": str(config), "PIP_CERT": str(tmp_path / "company.pem")}

    settings = pip_settings(PYTHON, environment)

    assert settings["index-url"] == "https://mirror.example/simple"
    assert settings["proxy"] == "http://conf:3128"
    assert settings["cert"] == str(tmp_path / "company.pem")
    assert pip_settings(PYTHON, {**environment, "PIP_PROXY": "http://env:8080"})["proxy"] == "http://env:8080"


def test_the_probe_goes_through_pips_proxy_and_names_a_host_that_does_not_answer() -> None:
    seen: list[str] = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html></html>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proxy = f"http://127.0.0.1:{server.server_port}"
        assert probe("http://download.pytorch.invalid/whl/cpu/", {"proxy": proxy}) is None
        assert seen == ["http://download.pytorch.invalid/whl/cpu/"]
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        problem = probe(f"http://127.0.0.1:{port}/whl/cpu/", {}, timeout=5)
        assert problem is not None and problem.startswith("127.0.0.1")
    finally:
        server.shutdown()
        server.server_close()


PIP_RETRY = (
    "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after "
    "connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection "
    "object at 0x7fc4>: "
    "Failed to establish a new connection: [Errno -2] Name or service not known')': /whl/cpu/filelock/"
)


def test_a_network_failure_names_the_host_that_failed_and_what_was_reachable() -> None:
    output = [
        "Looking in indexes: https://pypi.org/simple, https://user:secret@mirror.example/simple, "
        "https://download.pytorch.org/whl/cpu",
        PIP_RETRY,
        "ERROR: No matching distribution found for filelock",
    ]

    message = explain_install_failure("Installing PyTorch", output, 1)

    assert "Could not reach download.pytorch.org (reachable: pypi.org, mirror.example)" in message
    assert "secret" not in message.split("Last output:")[0]


def test_install_runtime_algorithm_reports_the_failure(
    geofuse_provider: object, offline_base_python: Path, tmp_path: Path
) -> None:
    import processing

    with pytest.raises(QgsProcessingException, match="Check the internet connection"):
        processing.run(
            "geofuse:install_runtime",
            {"BUILD": "cpu", "BASE_PYTHON": str(offline_base_python), "TARGET": str(tmp_path / "runtime")},
        )


def test_a_place_the_runtime_cannot_be_built_is_one_clear_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file where the runtime's folder should be")

    with pytest.raises(RuntimeInstallError, match="Cannot create the runtime beside"):
        install_runtime(
            not_a_folder / "runtime", installing_base_python(tmp_path), print, lambda p, s: None,
            lambda: False, lambda p: None,
        )  # fmt: skip
    assert not_a_folder.read_text().startswith("a file")


def test_a_progress_message_becomes_values_and_malformed_fields_stay_unknown() -> None:
    message = {"type": "progress", "fraction": 1.7, "done": True, "total": "16", "eta_s": 5, "message": None}

    progress = WorkerProgress.from_message(message)

    assert progress == WorkerProgress(fraction=1.0, done=None, total=None, eta_s=5.0, message="")
    assert progress_text(WorkerProgress(0.5, done=3, total=16, eta_s=5.0)) == "3/16, about 5 s left"
