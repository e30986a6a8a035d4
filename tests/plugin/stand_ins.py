"""Stand-ins the plugin tests share: a "runtime" that is a shell script, for workers that die, hang or say
exactly what a test needs."""

from __future__ import annotations

from pathlib import Path

from geofuse.plugin.runtime import Runtime


def fake_python(folder: Path, body: str) -> Runtime:
    """A 'runtime' that is a shell script running ``body`` (it gets the worker's command line and stdin)."""
    script = folder / "python"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return Runtime(script, "test")
