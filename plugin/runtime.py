"""The GeoFuse runtime: the Python (with torch, numpy, rasterio) that runs the backend worker for QGIS.

QGIS's own Python usually has no torch (Debian's has neither torch nor rasterio), and installing torch into
it is how QGIS installations get broken, so the backend runs in a separate interpreter, found in this order:

1. ``GEOFUSE_PYTHON`` in the environment (scripts, CI, ``qgis_process``);
2. the path in the plugin setting ``geofuse/runtime_python``;
3. the venv GeoFuse created under the QGIS profile (:func:`runtime_venv_dir`, made by
   :func:`install_runtime`); one without the completion marker whose packages are missing is reported as
   incomplete, not used;
4. the interpreter QGIS itself runs, if torch, numpy and rasterio import there.

The worker must import ``geofuse.backend`` from *this* plugin folder whatever the folder is called (a git
clone may be named anything), without touching the file system and on every OS, so the child runs a short
bootstrap (:data:`BOOTSTRAP`) that registers the plugin folder as the package ``geofuse`` and then runs
``geofuse.backend.worker`` as ``__main__``. Nothing is added to ``PYTHONPATH``: putting the plugin's parent
folder there would also put every other plugin next to it on the runtime's path.

This module runs inside QGIS: PyQGIS, the standard library and ``backend.paths`` only. Its messages for the
user are translated under the context ``Runtime``; the diagnostics report stays English (it goes into bug
reports; the dock gets the same facts as values). pylupdate5 skips a ``translate()`` call whose last argument
has a trailing comma, so the calls ``ruff format`` would split that way carry ``# fmt: skip``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qgis.core import QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication

from ..backend.paths import PLUGIN_DIR
from .runtime_network import failed_hosts, host_of, looked_in, pip_settings, probe

ENV_VAR = "GEOFUSE_PYTHON"
SETTINGS_KEY = "geofuse/runtime_python"
RUNTIME_PACKAGES = ("torch", "numpy", "rasterio")
CLEARED_VARIABLES = ("PYTHONHOME", "PYTHONPATH", "PYTHONEXECUTABLE", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__")

BOOTSTRAP = """\
import importlib.util, runpy, sys
if sys.path and sys.path[0] in ('', '.'):
    del sys.path[0]
root = sys.argv.pop(1)
spec = importlib.util.spec_from_file_location(
    'geofuse', root + '/__init__.py', submodule_search_locations=[root])
package = importlib.util.module_from_spec(spec)
sys.modules['geofuse'] = package
spec.loader.exec_module(package)
runpy.run_module('geofuse.backend.worker', run_name='__main__', alter_sys=True)
"""
"""Run with ``python -c BOOTSTRAP <plugin folder>``: registers the folder as ``geofuse``, runs the worker."""

TORCH_VERSION = "2.13.0"
REQUIREMENTS = ("numpy>=1.24", "rasterio>=1.3", "affine<3", "tqdm>=4.60", "matplotlib>=3.6", "fiona>=1.9")
"""The backend's dependencies besides torch, as pinned in pyproject.toml."""
PIP_REQUIREMENT = "pip>=24.1"
"""pip 24.1 added ``--progress-bar raw`` ("Progress <bytes> of <total>" lines), which the set-up shows."""
PYTORCH_INDEX = "https://download.pytorch.org/whl/"
DOWNLOAD_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)$")
RUNTIME_MARKER = "geofuse-runtime.json"
"""Written into a runtime venv once it passed its self-check: a venv without it is unfinished or foreign."""
CUDA_BUILDS = ((13.0, "cu130"), (12.8, "cu128"), (12.6, "cu126"))
"""PyTorch CUDA wheel builds for torch ``TORCH_VERSION``, newest first, with the CUDA version each needs."""


class RuntimeNotFoundError(Exception):
    """No usable GeoFuse runtime; the message tells the user how to get one."""


class NoRuntimeError(RuntimeNotFoundError):
    """Nothing is configured and nothing was found: the runtime has not been set up yet."""


class RuntimeIncompleteError(RuntimeNotFoundError):
    """The runtime GeoFuse created is unfinished or broken; the message says to set it up again."""


class RuntimeInstallError(Exception):
    """Creating the runtime failed; the message says why (no network, SSL, disk, ...) and what to do."""


@dataclass(frozen=True)
class Runtime:
    """A Python interpreter that can run the worker, and where it was found (for diagnostics)."""

    python: Path
    source: str

    def worker_command(self, plugin_dir: Path = PLUGIN_DIR) -> list[str]:
        """The command line that starts the worker from ``plugin_dir`` (this plugin's folder)."""
        return [str(self.python), "-u", "-c", BOOTSTRAP, str(plugin_dir)]


def runtime_venv_dir() -> Path:
    """Where :func:`install_runtime` puts the venv: ``<QGIS profile>/geofuse/runtime``."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "geofuse" / "runtime"


def venv_python(venv: Path) -> Path:
    """The interpreter of a venv on this OS."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def qgis_python() -> Path | None:
    """The Python interpreter program of the Python QGIS embeds.

    Found from ``sys.base_exec_prefix`` (the installation QGIS's libpython belongs to), not from
    ``sys.executable``: in an embedded interpreter that is whatever ``python3`` came first on ``PATH`` when
    QGIS started (a pyenv or conda shim from the user's shell), or the QGIS binary itself.
    """
    prefix = Path(sys.base_exec_prefix)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [
        prefix / "bin" / f"python{version}",
        prefix / "bin" / "python3",
        prefix / "python.exe",
        prefix / "python3.exe",
    ]
    return next((path for path in candidates if path.is_file()), None)


def child_environment() -> dict[str, str]:
    """The environment for runtime processes: QGIS's, minus the Python variables its launchers set."""
    environment = {key: value for key, value in os.environ.items() if key not in CLEARED_VARIABLES}
    environment["PYTHONIOENCODING"] = "utf-8"
    return environment


def process_options() -> dict[str, object]:
    """``subprocess.Popen`` options shared by every runtime process: own session, no console window."""
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NO_WINDOW | subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def has_runtime_packages(python: Path, timeout: float = 60) -> bool:
    """Whether torch, numpy and rasterio are importable by ``python`` (found, not imported: fast)."""
    check = (
        "import importlib.util as u, sys; "
        f"sys.exit(0 if all(u.find_spec(m) for m in {RUNTIME_PACKAGES!r}) else 1)"
    )
    try:
        done = subprocess.run(
            [str(python), "-c", check],
            env=child_environment(),
            capture_output=True,
            timeout=timeout,
            check=False,
            **process_options(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def find_runtime() -> Runtime:
    """The GeoFuse runtime, by the order in the module docstring.

    Raises:
        RuntimeNotFoundError: If an explicitly configured interpreter is missing, or none is found.
    """
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        if not Path(configured).is_file():
            raise RuntimeNotFoundError(
                QCoreApplication.translate(
                    "Runtime",
                    "{variable} is set to '{path}', which is not a file. Point it at a Python that has "
                    "torch, numpy and rasterio, or unset it."
                ).format(variable=ENV_VAR, path=configured)
            )  # fmt: skip
        return Runtime(Path(configured), ENV_VAR)
    setting = str(QgsSettings().value(SETTINGS_KEY, "") or "").strip()
    if setting:
        if not Path(setting).is_file():
            raise RuntimeNotFoundError(
                QCoreApplication.translate(
                    "Runtime",
                    "The GeoFuse runtime set in the plugin settings, '{path}', does not exist. Choose "
                    "another Python or clear the setting."
                ).format(path=setting)
            )  # fmt: skip
        return Runtime(Path(setting), "plugin setting")
    created = venv_python(runtime_venv_dir())
    if created.is_file():
        if (runtime_venv_dir() / RUNTIME_MARKER).is_file() or has_runtime_packages(created):
            return Runtime(created, "runtime created by GeoFuse")
        raise RuntimeIncompleteError(incomplete_message(runtime_venv_dir()))
    own = qgis_python()
    if own is not None and has_runtime_packages(own):
        return Runtime(own, "QGIS's Python")
    raise NoRuntimeError(
        QCoreApplication.translate(
            "Runtime",
            "No GeoFuse runtime (a Python with PyTorch, numpy and rasterio) was found. Create one with "
            "Set up runtime in the GeoFuse panel or the Processing Toolbox's GeoFuse ▸ Set-up ▸ Create "
            "GeoFuse runtime (geofuse:install_runtime), or set the environment variable {variable} to such "
            "a Python."
        ).format(variable=ENV_VAR)
    )  # fmt: skip


def incomplete_message(venv: Path) -> str:
    """What the user is told about an unfinished or broken runtime (status line, Segment, toolbox)."""
    return QCoreApplication.translate(
        "Runtime", "The GeoFuse runtime in {folder} is incomplete — Set up runtime again."
    ).format(folder=venv)


# ------------------------------------------------------------------------------------------ installing


def detect_cuda_version(nvidia_smi: str = "nvidia-smi") -> float | None:
    """The CUDA version the NVIDIA driver supports, from ``nvidia-smi``'s banner; None without a GPU."""
    program = shutil.which(nvidia_smi)
    if program is None:
        return None
    try:
        done = subprocess.run([program], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", done.stdout)
    if done.returncode != 0 or match is None:
        return None
    return int(match.group(1)) + int(match.group(2)) / 10


def torch_build(cuda_version: float | None) -> tuple[str, str]:
    """The PyTorch wheel index and a label: the newest CUDA build the driver supports, else the CPU build."""
    if cuda_version is not None:
        for needed, tag in CUDA_BUILDS:
            if cuda_version >= needed:
                return PYTORCH_INDEX + tag, f"CUDA ({tag})"
    return PYTORCH_INDEX + "cpu", "CPU"


@dataclass(frozen=True)
class InstallStep:
    """One command of the installation, and the progress (percent) at its start and when it is done.

    ``label`` is shown to the user (progress text, error messages), so it is translated.
    """

    label: str
    command: list[str]
    start: float
    progress: float


def pip_command(venv: Path) -> list[str]:
    """The venv's pip, quiet about its own version and never asking questions."""
    return [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check", "--no-input"]


def setup_steps(venv: Path, base_python: Path) -> list[InstallStep]:
    """Create the venv and bring its pip to a version that reports download progress (``raw``, pip 24.1)."""
    return [
        InstallStep(
            QCoreApplication.translate("Runtime", "Creating the runtime venv"),
            [str(base_python), "-m", "venv", str(venv)],
            0,
            5,
        ),
        InstallStep(
            QCoreApplication.translate("Runtime", "Updating pip"),
            [*pip_command(venv), "install", "--progress-bar", "off", "--upgrade", PIP_REQUIREMENT],
            5,
            10,
        ),
    ]


def package_steps(venv: Path, torch_index: str | None, build: str) -> list[InstallStep]:
    """Install pinned torch, then the backend's other packages, from pip's configured indexes.

    Args:
        venv: The venv being built.
        torch_index: The PyTorch wheel index, added as an *extra* index (None: pip's configuration only).
        build: The build's label for the user ("CPU", "CUDA (cu128)").
    """
    pip = [*pip_command(venv), "install", "--progress-bar", "raw"]
    extra = ["--extra-index-url", torch_index] if torch_index else []
    return [
        InstallStep(
            QCoreApplication.translate("Runtime", "Installing PyTorch {version} ({build} build)").format(
                version=TORCH_VERSION, build=build
            ),
            [*pip, f"torch=={TORCH_VERSION}", *extra],
            10,
            80,
        ),
        InstallStep(
            QCoreApplication.translate("Runtime", "Installing numpy, rasterio and friends"),
            [*pip, *REQUIREMENTS],
            80,
            92,
        ),
    ]


def explain_install_failure(step: str, output: Sequence[str], code: int) -> str:
    """Turn a failed installation command's output into advice a user can follow."""
    text = "\n".join(output)
    tail = "\n".join(output[-15:])
    if re.search(r"No space left on device|Errno 28", text):
        reason = QCoreApplication.translate(
            "Runtime", "The disk is full. Free some space (PyTorch needs several GB) and try again."
        )
    elif re.search(r"SSL|CERTIFICATE_VERIFY_FAILED|certificate verify failed", text):
        reason = QCoreApplication.translate(
            "Runtime",
            "The secure connection to {hosts} failed (SSL certificate). Behind a company proxy, set PIP_CERT "
            "(or cert in pip.conf) to your organisation's certificate bundle, or ask your IT department."
        ).format(
            hosts=", ".join(failed_hosts(output))
            or QCoreApplication.translate("Runtime", "the package index")
        )  # fmt: skip
    elif re.search(
        r"Failed to establish a new connection|Name or service not known|Temporary failure in name resolution"
        r"|Network is unreachable|Connection refused|No route to host|timed out|ProxyError",
        text,
    ):
        failed = failed_hosts(output)
        reachable = [host for host in map(host_of, looked_in(output)) if host not in failed]
        reason = QCoreApplication.translate(
            "Runtime",
            "Could not reach {failed} (reachable: {reachable}). Check the internet connection, or pip's "
            "proxy setting (HTTPS_PROXY, PIP_PROXY or proxy in pip.conf) if you are behind a proxy."
        ).format(
            failed=", ".join(failed) or QCoreApplication.translate("Runtime", "the package index"),
            reachable=", ".join(reachable) or QCoreApplication.translate("Runtime", "none"),
        )  # fmt: skip
    elif re.search(r"No matching distribution|Could not find a version", text):
        reason = QCoreApplication.translate(
            "Runtime", "No PyTorch {version} build exists for this Python ({python}) or this platform."
        ).format(version=TORCH_VERSION, python=f"{sys.version_info.major}.{sys.version_info.minor}")
    elif "ensurepip" in text or "No module named venv" in text:
        reason = QCoreApplication.translate(
            "Runtime", "This Python cannot create venvs; on Debian/Ubuntu install the package python3-venv."
        )
    else:
        reason = QCoreApplication.translate("Runtime", "The command exited with code {code}.").format(
            code=code
        )
    failed = QCoreApplication.translate("Runtime", "{step} failed. {reason}").format(step=step, reason=reason)
    return failed + "\n" + QCoreApplication.translate("Runtime", "Last output:") + "\n" + tail


def run_streaming(
    command: Sequence[str],
    on_line: Callable[[str], None],
    cancelled: Callable[[], bool],
    timeout: float = 3600,
) -> tuple[int, list[str]]:
    """Run a command, passing each output line to ``on_line``; kill it when ``cancelled()`` turns true.

    Returns:
        The exit code (negative for a signal, -1 when cancelled) and the output lines.
    """
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=child_environment(),
        cwd=tempfile.gettempdir(),
        text=True,
        encoding="utf-8",
        errors="replace",
        **process_options(),
    )
    lines: list[str] = []
    with process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            lines.append(line)
            on_line(line)
            if cancelled():
                process.kill()
                process.wait()
                return -1, lines
        return process.wait(timeout=timeout), lines


class StepProgress:
    """Turns a step's output into progress: pip's ``Progress <bytes> of <total>`` lines move the bar across
    the step's share while a download runs (never backwards); every other line goes to ``on_line``."""

    def __init__(
        self, step: InstallStep, on_line: Callable[[str], None], on_progress: Callable[[float, str], None]
    ) -> None:
        self.step = step
        self.on_line = on_line
        self.on_progress = on_progress
        self.percent = step.start

    def __call__(self, line: str) -> None:
        """Handle one output line."""
        match = DOWNLOAD_PROGRESS.match(line)
        if match is None:
            self.on_line(line)
            return
        done, total = int(match[1]), int(match[2])
        if total <= 0:
            return
        percent = self.step.start + (self.step.progress - self.step.start) * min(done / total, 1.0)
        self.percent = max(self.percent, percent)
        self.on_progress(
            self.percent,
            QCoreApplication.translate("Runtime", "{step}: {done} of {total} MB downloaded").format(
                step=self.step.label, done=f"{done / 1e6:.0f}", total=f"{total / 1e6:.0f}"
            ),
        )


def run_step(
    step: InstallStep,
    on_line: Callable[[str], None],
    on_progress: Callable[[float, str], None],
    cancelled: Callable[[], bool],
) -> None:
    """Run one installation step, reporting its start, download progress and end.

    Raises:
        RuntimeInstallError: When it cannot start, fails (explained) or is cancelled.
    """
    on_progress(step.start, step.label)
    try:
        code, output = run_streaming(step.command, StepProgress(step, on_line, on_progress), cancelled)
    except OSError as error:
        raise RuntimeInstallError(
            QCoreApplication.translate("Runtime", "{step} failed: cannot run {program} ({error}).").format(
                step=step.label, program=step.command[0], error=error
            )
        ) from error
    if code == -1 and cancelled():
        raise RuntimeInstallError(
            QCoreApplication.translate("Runtime", "Creating the GeoFuse runtime was cancelled.")
        )
    if code != 0:
        raise RuntimeInstallError(explain_install_failure(step.label, output, code))
    on_progress(step.progress, step.label)


def torch_index(
    venv: Path, cuda_version: float | None, on_line: Callable[[str], None]
) -> tuple[str | None, str]:
    """The PyTorch wheel index for this build if it answers through pip's proxy and certificates, else None
    (torch then comes from pip's configured indexes only), and the build's label."""
    index, build = torch_build(cuda_version)
    problem = probe(index + "/", pip_settings(venv_python(venv), child_environment()))
    if problem is None:
        on_line(
            QCoreApplication.translate(
                "Runtime", "Adding the PyTorch index {index} as an extra index."
            ).format(index=index)
        )
        return index, build
    on_line(
        QCoreApplication.translate(
            "Runtime",
            "The PyTorch index is not reachable ({problem}); looking for torch {version} in pip's configured "
            "indexes only."
        ).format(problem=problem, version=TORCH_VERSION)
    )  # fmt: skip
    return None, build


def building_folder(target: Path) -> Path:
    """A new empty folder beside ``target`` (same file system, so the finished venv moves by renaming).

    Raises:
        RuntimeInstallError: If ``target`` is a folder with other things in it than a venv.
    """
    if target.exists() and any(target.iterdir()) and not (target / "pyvenv.cfg").is_file():
        raise RuntimeInstallError(
            QCoreApplication.translate(
                "Runtime", "{folder} is not empty and not a venv; choose a new or empty folder for it."
            ).format(folder=target)
        )  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))


def move_into_place(built: Path, target: Path) -> None:
    """Replace ``target`` (an older runtime, an empty folder, or nothing) by the finished venv ``built``."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        target.rename(old / target.name)
    built.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def install_runtime(
    venv: Path,
    base_python: Path,
    on_line: Callable[[str], None],
    on_progress: Callable[[float, str], None],
    cancelled: Callable[[], bool],
    verify: Callable[[Path], None],
    cuda_version: float | None = None,
) -> Path:
    """Build the runtime venv in a temporary folder beside ``venv``, pip-install pinned torch (CPU or CUDA)
    and the backend's dependencies, check it with ``verify``, and only then move it to ``venv``.

    A failed, cancelled or unverified set-up leaves nothing at ``venv`` that could be taken for a runtime
    (an older runtime there stays as it was).

    Args:
        venv: Target folder: new, empty, or an older runtime, which is replaced when the new one works.
        base_python: The Python the venv is made from (its version decides which wheels fit).
        on_line: Receives each output line of venv and pip, and what the set-up decided.
        on_progress: Receives (percent, text) as the steps begin and end and while pip downloads.
        cancelled: Polled between output lines; True stops the installation.
        verify: Checks the built venv's interpreter (the worker's self-check); raises
            :class:`RuntimeInstallError` when it does not work.
        cuda_version: The driver's CUDA version (:func:`detect_cuda_version`), None for the CPU build.

    Returns:
        The runtime's interpreter, at its final place.

    Raises:
        RuntimeInstallError: With :func:`explain_install_failure`'s explanation, or when cancelled.
    """
    try:
        built = building_folder(venv)
    except OSError as error:
        raise RuntimeInstallError(
            QCoreApplication.translate(
                "Runtime", "Cannot create the runtime beside {folder}: {error}"
            ).format(folder=venv, error=error)
        ) from error
    try:
        for step in setup_steps(built, base_python):
            run_step(step, on_line, on_progress, cancelled)
        index, build = torch_index(built, cuda_version, on_line)
        for step in package_steps(built, index, build):
            run_step(step, on_line, on_progress, cancelled)
        on_progress(92, QCoreApplication.translate("Runtime", "Checking the new runtime"))
        verify(venv_python(built))
        (built / RUNTIME_MARKER).write_text(
            json.dumps({"torch": TORCH_VERSION, "build": build, "base_python": str(base_python)}) + "\n",
            encoding="utf-8",
        )
        move_into_place(built, venv)
    except OSError as error:
        raise RuntimeInstallError(
            QCoreApplication.translate(
                "Runtime", "Cannot put the runtime in place at {folder}: {error}"
            ).format(folder=venv, error=error)
        ) from error
    finally:
        shutil.rmtree(built, ignore_errors=True)
    return venv_python(venv)


def format_diagnostics(runtime: Runtime, report: dict) -> str:
    """The worker's self-check as plain text a user can paste into a bug report."""
    lines = [
        "GeoFuse runtime diagnostics",
        f"runtime: {runtime.python} (found via {runtime.source})",
        f"plugin folder: {PLUGIN_DIR}",
        f"python: {report.get('python')} ({report.get('platform')})",
        f"geofuse package: {report.get('geofuse_package')}",
        f"numpy: {report.get('numpy')}",
        f"torch: {report.get('torch')} (CUDA build: {report.get('torch_cuda_build')})",
        f"CUDA available: {report.get('cuda_available')}",
        f"rasterio: {report.get('rasterio')} (GDAL {report.get('gdal')})",
        f"mamba-ssm: {report.get('mamba_ssm')}",
        "devices:",
    ]
    for device in report.get("devices", []):
        memory = (
            f", {device['free_memory_mb']} MB free of {device['total_memory_mb']} MB"
            if "total_memory_mb" in device
            else ""
        )
        lines.append(f"  {device['id']}: {device.get('name')}{memory}")
    lines.extend(f"problem: {problem}" for problem in report.get("problems", []))
    return "\n".join(lines)
