"""What pip is configured to reach, and whether the PyTorch wheel index answers through that configuration.

The runtime set-up installs with pip as the user (or their IT department) configured it: ``index-url``,
``extra-index-url``, ``proxy`` and ``cert`` from pip.conf and the ``PIP_*`` environment variables. GeoFuse
only *adds* the PyTorch wheel index as an extra index, and only when it answers: behind a firewall that lets a
company mirror through but not download.pytorch.org, pip would otherwise retry that host for every package.
The probe reads pip's own configuration (``pip config list``) so it goes through the same proxy and trusts
the same certificates as pip will.

This module runs inside QGIS: the standard library only.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

PIP_SCOPES = (":env:", "install", "global")
"""Where ``pip config list`` finds a setting, the one that wins first: environment, pip install, global."""
PROBE_TIMEOUT_S = 15
CONFIG_LINE = re.compile(r"^(?P<scope>[^.]+)\.(?P<key>[\w-]+)='(?P<value>.*)'$")
FAILURE = re.compile(r"Could not fetch URL|NewConnectionError|ProxyError|ConnectTimeout|SSLError|timed out")
FAILED_HOST = re.compile(r"host='([^']+)'")
RETRIED_PATH = re.compile(r"after connection broken by .*': (/\S*)$")
INDEXES_LINE = re.compile(r"^Looking in indexes: (.*)$")


def pip_settings(python: Path, environment: Mapping[str, str], timeout: float = 60) -> dict[str, str]:
    """pip's effective settings for ``python`` (``pip config list``: pip.conf files and ``PIP_*``), by key.

    A key set in several places takes the value of the first scope in :data:`PIP_SCOPES`.
    """
    try:
        done = subprocess.run(
            [str(python), "-m", "pip", "config", "list"],
            env=dict(environment),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[str, dict[str, str]] = {}
    for line in done.stdout.splitlines():
        match = CONFIG_LINE.match(line.strip())
        if match is not None:
            found.setdefault(match["key"], {})[match["scope"]] = match["value"]
    settings = {}
    for key, scopes in found.items():
        scope = next((name for name in PIP_SCOPES if name in scopes), next(iter(scopes)))
        settings[key] = scopes[scope]
    return settings


def host_of(url: str) -> str:
    """The host of an index URL, without credentials (``file://`` URLs: their path)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return parts.path
    return parts.hostname or url


def probe(url: str, settings: Mapping[str, str], timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Fetch ``url`` through pip's proxy and certificates; None when it answers, else why not (one line)."""
    handlers: list[urllib.request.BaseHandler] = []
    proxy = settings.get("proxy")
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    cert = settings.get("cert")
    context = ssl.create_default_context(cafile=cert if cert and Path(cert).is_file() else None)
    handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            response.read(1)
    except urllib.error.HTTPError as error:
        return f"{host_of(url)} answered HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"{host_of(url)}: {reason}"
    return None


def looked_in(output: Sequence[str]) -> list[str]:
    """The index URLs pip looked in, from its (last) ``Looking in indexes:`` line."""
    urls: list[str] = []
    for line in output:
        match = INDEXES_LINE.match(line.strip())
        if match is not None:
            urls = [url.strip() for url in match[1].split(",") if url.strip()]
    return urls


def failed_hosts(output: Sequence[str]) -> list[str]:
    """The hosts pip could not reach, as its output names them: URLs, ``host='…'``, or the path of a retried
    request matched to the index it belongs to."""
    indexes = looked_in(output)
    hosts: list[str] = []
    for line in output:
        if FAILURE.search(line) is None:
            continue
        hosts += [host_of(url) for url in re.findall(r"https?://[^\s'\"]+", line)]
        hosts += FAILED_HOST.findall(line)
        retried = RETRIED_PATH.search(line.strip())
        if retried is not None:
            hosts += [
                host_of(url) for url in indexes if retried[1].startswith(urlsplit(url).path.rstrip("/") + "/")
            ]
    return [host for host in dict.fromkeys(hosts) if host]
