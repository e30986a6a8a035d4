"""Build the plugin ZIP for the QGIS plugin repository: ``dist/geofuse-<version>.zip``.

The ZIP is ``git archive`` of HEAD under one folder ``geofuse/`` (so ``export-ignore`` in ``.gitattributes``
keeps tests and development files out, and uncommitted edits never ship), checked against the official
repository's rules before it is written: a ZIP that breaks one is refused, not written.

Run with the system Python (standard library only)::

    python3 scripts/package.py [--output-dir dist]
    python3 scripts/package.py --sync-changelog   # rewrite metadata.txt's changelog from CHANGELOG.md
"""

from __future__ import annotations

import argparse
import configparser
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDER = "geofuse"
FOLDER_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
MAX_BYTES = 25 * 1024 * 1024
REQUIRED_METADATA = (
    "name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
    "repository", "tracker", "license", "changelog",
)  # fmt: skip
REQUIRED_FILES = ("LICENSE", "README.md", "metadata.txt", "__init__.py", "CHANGELOG.md")
LANGUAGES = ("de", "fr")
DEV_PARTS = {"tests", "scripts", "bench", ".ci", "configs", "docs", "__pycache__", ".git", ".venv"}
DEV_FILES = {"Makefile", "pyproject.toml", ".gitignore", ".gitattributes", "setup.py", "conftest.py"}
BINARY_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib", ".whl", ".egg")
RUNTIME_HINT = re.compile(r"PyTorch runtime.*first use|first use.*PyTorch runtime", re.IGNORECASE | re.DOTALL)


class PackageError(Exception):
    """The ZIP (or the metadata it is built from) breaks a plugin repository rule; the message lists which."""


def read_metadata(text: str) -> configparser.SectionProxy:
    """The ``[general]`` section of a metadata.txt, read the way QGIS reads it (no interpolation)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are camelCase (qgisMinimumVersion)
    parser.read_string(text)
    return parser["general"]


def changelog_entries(markdown: str) -> list[tuple[str, list[str]]]:
    """The releases of a Keep-a-Changelog file, newest first: (``"0.1.0 (2026-11-29)"``, bullet lines)."""
    releases: list[tuple[str, list[str]]] = []
    for line in markdown.splitlines():
        heading = re.match(r"^## \[?([^\]\s]+)\]?(?:\s*-\s*(\S+))?", line)
        if heading:
            version, date = heading.groups()
            releases.append((f"{version} ({date})" if date else version, []))
        elif releases and line.startswith("- "):
            releases[-1][1].append(line[2:].strip())
        elif releases and line.startswith("  ") and releases[-1][1] and line.strip():
            releases[-1][1][-1] += " " + line.strip()  # a wrapped bullet
    return releases


def metadata_changelog(markdown: str) -> str:
    """What metadata.txt's ``changelog`` holds: every release of CHANGELOG.md, one line per change."""
    lines: list[str] = []
    for title, items in changelog_entries(markdown):
        lines.append(title)
        lines.extend(f"- {item}" for item in items)
    return "\n".join(lines)


def sync_changelog(metadata_path: Path, changelog_path: Path) -> bool:
    """Rewrite the ``changelog=`` entry of metadata.txt from CHANGELOG.md; True if it changed."""
    text = metadata_path.read_text(encoding="utf-8")
    wanted = metadata_changelog(changelog_path.read_text(encoding="utf-8"))
    block = "changelog=\n" + "".join(f"    {line}\n" for line in wanted.splitlines())
    pattern = re.compile(r"^changelog=.*?(?=^\S|\Z)", re.MULTILINE | re.DOTALL)
    updated = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n" + block
    if updated != text:
        metadata_path.write_text(updated, encoding="utf-8")
    return updated != text


def metadata_problems(metadata_text: str, changelog_text: str | None) -> list[str]:
    """What the plugin repository would reject in a metadata.txt (and a changelog that has drifted)."""
    general = read_metadata(metadata_text)
    problems = [
        f"metadata.txt: '{key}' is missing or empty"
        for key in REQUIRED_METADATA
        if not general.get(key, "").strip()
    ]
    if general.get("hasProcessingProvider", "").strip().lower() != "yes":
        problems.append("metadata.txt: hasProcessingProvider must be 'yes'")
    if not RUNTIME_HINT.search(general.get("about", "")):
        problems.append("metadata.txt: 'about' must say that a PyTorch runtime is set up on first use")
    if not re.fullmatch(r"\d+\.\d+\.\d+", general.get("version", "").strip()):
        problems.append(f"metadata.txt: version '{general.get('version')}' is not MAJOR.MINOR.PATCH")
    if changelog_text is not None:
        if general.get("changelog", "").strip() != metadata_changelog(changelog_text):
            problems.append(
                "metadata.txt: changelog differs from CHANGELOG.md (run scripts/package.py --sync-changelog)"
            )
        releases = changelog_entries(changelog_text)
        if not releases or not releases[0][0].startswith(general.get("version", "").strip()):
            problems.append("CHANGELOG.md: the newest release is not metadata.txt's version")
    return problems


def archive_problems(archive: zipfile.ZipFile, size: int) -> list[str]:
    """Every rule of the plugin repository that the ZIP breaks; empty when it may be uploaded."""
    names = archive.namelist()
    problems: list[str] = []
    if size > MAX_BYTES:
        problems.append(f"the ZIP is {size / 2**20:.1f} MB, more than {MAX_BYTES / 2**20:.0f} MB")
    tops = {name.split("/", 1)[0] for name in names}
    if tops != {FOLDER}:
        problems.append(f"the ZIP must hold exactly one top-level folder '{FOLDER}', not {sorted(tops)}")
    if not FOLDER_PATTERN.match(FOLDER):
        problems.append(f"the folder name '{FOLDER}' does not match {FOLDER_PATTERN.pattern}")
    for required in REQUIRED_FILES:
        if f"{FOLDER}/{required}" not in names:
            problems.append(f"{required} is missing")
    for language in LANGUAGES:
        if f"{FOLDER}/i18n/geofuse_{language}.qm" not in names:
            problems.append(f"i18n/geofuse_{language}.qm is missing (run make translations and commit it)")
    for name in names:
        parts = name.rstrip("/").split("/")[1:]
        if not parts:
            continue
        if name.endswith(BINARY_SUFFIXES) or "__pycache__" in parts:
            problems.append(f"compiled or binary code: {name}")
        elif DEV_PARTS.intersection(parts) or parts[-1] in DEV_FILES or name.endswith(".ts"):
            problems.append(f"development file: {name}")
        elif "torch" in parts or parts[-1].startswith("libtorch"):
            problems.append(f"PyTorch must not be bundled: {name}")
    if f"{FOLDER}/metadata.txt" in names:
        metadata = archive.read(f"{FOLDER}/metadata.txt").decode("utf-8")
        changelog = (
            archive.read(f"{FOLDER}/CHANGELOG.md").decode("utf-8")
            if f"{FOLDER}/CHANGELOG.md" in names
            else None
        )
        problems.extend(metadata_problems(metadata, changelog))
        icon = read_metadata(metadata).get("icon", "").strip()
        if icon and f"{FOLDER}/{icon}" not in names:
            problems.append(f"the icon {icon} named in metadata.txt is missing")
    return problems


def git(*args: str, repo: Path = REPO) -> bytes:
    """Output of a git command in ``repo``."""
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True).stdout


def build(output_dir: Path, repo: Path = REPO) -> Path:
    """Archive HEAD as ``<output_dir>/geofuse-<version>.zip`` after checking it.

    Raises:
        PackageError: If the archive breaks a rule; nothing is written then.
    """
    metadata = read_metadata(git("show", "HEAD:metadata.txt", repo=repo).decode("utf-8"))
    version = metadata.get("version", "").strip()
    data = git("archive", "--format=zip", f"--prefix={FOLDER}/", "-9", "HEAD", repo=repo)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        problems = archive_problems(archive, len(data))
    if problems:
        raise PackageError("refusing to write the plugin ZIP:\n  " + "\n  ".join(problems))
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"{FOLDER}-{version}.zip"
    partial = target.with_suffix(".zip.part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: build the ZIP (default) or sync the metadata changelog."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=REPO / "dist", help="where the ZIP goes (dist/)")
    parser.add_argument(
        "--sync-changelog", action="store_true", help="rewrite metadata.txt's changelog from CHANGELOG.md"
    )
    args = parser.parse_args(argv)
    if args.sync_changelog:
        changed = sync_changelog(REPO / "metadata.txt", REPO / "CHANGELOG.md")
        print("metadata.txt changelog " + ("updated" if changed else "already matches CHANGELOG.md"))
        return 0
    if git("status", "--porcelain", "--untracked-files=no").strip():
        print("note: uncommitted changes are not packaged (the ZIP is built from HEAD)", file=sys.stderr)
    try:
        target = build(args.output_dir)
    except PackageError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{target} ({target.stat().st_size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
