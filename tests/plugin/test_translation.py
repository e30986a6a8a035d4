"""Translations: German comes out (Processing and the dock) under a German user locale, English again once
the translator is removed; the dock shows the worker's progress and time left in German and French; the
shipped .ts files translate every string of the code, the .qm files are their compilation."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from qgis.core import QgsSettings
from qgis.gui import QgisInterface
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QLocale
from stand_ins import fake_python

from geofuse.plugin.algorithms.segment import SegmentAlgorithm
from geofuse.plugin.dock.task import DockFeedback
from geofuse.plugin.dock.widget import GeoFuseDock
from geofuse.plugin.labels import bands_label, class_label, number
from geofuse.plugin.translation import install_translator, remove_translator, user_language
from geofuse.plugin.worker_client import run_worker

REPO = Path(__file__).resolve().parents[2]
LANGUAGES = ("de", "fr")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@pytest.fixture
def german_locale() -> Iterator[None]:
    """QGIS's user locale set to German (as Settings ▸ Options ▸ General does), restored afterwards."""
    settings = QgsSettings()
    keys = ("locale/userLocale", "locale/overrideFlag")
    saved = {key: settings.value(key) for key in keys if settings.contains(key)}
    settings.setValue("locale/userLocale", "de")
    settings.setValue("locale/overrideFlag", True)
    yield
    for key in keys:
        if key in saved:
            settings.setValue(key, saved[key])
        else:
            settings.remove(key)


def segment_button_text(iface: QgisInterface) -> str:
    """The Segment button's text of a freshly built dock (built, read, destroyed)."""
    dock = GeoFuseDock(iface)
    try:
        return dock.segment_button.text()
    finally:
        dock.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_german_locale_translates_and_removing_the_translator_restores_english(
    german_locale: None, qgis_iface: QgisInterface
) -> None:
    assert SegmentAlgorithm().displayName() == "Segment land cover (optical + elevation)"
    assert segment_button_text(qgis_iface) == "Segment"
    assert user_language() == "de"
    translator = install_translator()
    assert translator is not None
    try:
        algorithm = SegmentAlgorithm()
        assert algorithm.displayName() == "Landbedeckung segmentieren (optisch + Höhe)"
        assert algorithm.group() == "Landbedeckung"
        assert algorithm.shortHelpString().startswith("Ordnet jedes Pixel des optischen Layers")
        assert segment_button_text(qgis_iface) == "Segmentieren"
    finally:
        remove_translator(translator)
    assert SegmentAlgorithm().displayName() == "Segment land cover (optical + elevation)"
    assert segment_button_text(qgis_iface) == "Segment"


PROGRESS = (
    '{"type": "progress", "fraction": 0.62, "done": 1234, "total": 2000, "eta_s": 95.4, "message": null}'
)


@pytest.mark.parametrize(
    ("language", "country", "expected"),
    [
        ("de", QLocale.Country.Germany, "1.234 / 2.000 Kacheln, noch etwa 1 min 35 s"),
        ("fr", QLocale.Country.France, "{done} / {total} tuiles, encore environ 1 min 35 s"),
    ],
)
def test_the_dock_shows_the_time_left_in_german_and_french(
    language: str, country: QLocale.Country, expected: str, qgis_iface: QgisInterface, tmp_path: Path
) -> None:
    """A worker's progress message, read by the real client from a real process, reaches the dock as values
    and comes out in the user's language and number format (the time left went missing under de/fr while
    the dock read the client's translated text back with an English pattern)."""
    worker = fake_python(tmp_path, f"read request\necho '{PROGRESS}'\necho '{{\"type\": \"result\"}}'")
    locale = QLocale(QLocale.Language.German if language == "de" else QLocale.Language.French, country)
    translator = install_translator(language)
    assert translator is not None
    default = QLocale()
    QLocale.setDefault(locale)
    dock = GeoFuseDock(qgis_iface)
    try:
        feedback = DockFeedback()
        feedback.worker_progress.connect(dock._worker_progress)
        run_worker({"command": "diagnostics"}, feedback, worker)
        shown = dock.progress.format()
    finally:
        QLocale.setDefault(default)
        remove_translator(translator)
        dock.shutdown()
        dock.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    assert shown == expected.format(done=locale.toString(1234), total=locale.toString(2000))
    assert feedback.progress() == pytest.approx(62.0)


def test_a_language_without_translation_installs_nothing() -> None:
    assert install_translator("xx") is None
    remove_translator(None)


def messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    """(context, source) → the <translation> element, for every message of a .ts file."""
    root = ET.parse(ts).getroot()
    return {
        (context.findtext("name", ""), message.findtext("source", "")): message.find("translation")
        for context in root.iter("context")
        for message in context.iter("message")
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(language: str) -> None:
    found = messages(REPO / "i18n" / f"geofuse_{language}.ts")
    assert len(found) > 50
    for (context, source), translation in found.items():
        assert translation is not None and translation.get("type") is None, (context, source)
        assert (translation.text or "").strip(), (context, source)
        assert sorted(PLACEHOLDER.findall(translation.text)) == sorted(PLACEHOLDER.findall(source)), source


def test_ts_files_hold_every_string_of_the_code_and_qm_files_are_compiled_from_them(tmp_path: Path) -> None:
    for tool in ("pylupdate5", "lrelease"):
        assert shutil.which(tool), f"{tool} missing: run `make setup`"
    sources = subprocess.run(
        ["git", "ls-files", "--", "plugin/*.py"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for language in LANGUAGES:
        committed = REPO / "i18n" / f"geofuse_{language}.ts"
        fresh = tmp_path / committed.name
        shutil.copy(committed, fresh)
        subprocess.run(
            ["pylupdate5", "-noobsolete", *sources, "-ts", str(fresh)],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        in_code, shipped = set(messages(fresh)), set(messages(committed))
        new, gone = in_code - shipped, shipped - in_code
        assert not new, f"strings missing from {committed.name} (run make translations): {sorted(new)}"
        assert not gone, f"strings in {committed.name} the code no longer has (run make translations): {gone}"
        compiled = tmp_path / f"geofuse_{language}.qm"
        subprocess.run(["lrelease", "-silent", str(committed), "-qm", str(compiled)], check=True)
        assert compiled.read_bytes() == committed.with_suffix(".qm").read_bytes(), "run make translations"


def test_shipped_class_and_band_names_and_numbers_follow_the_users_language(german_locale: None) -> None:
    translator = install_translator()
    default = QLocale()
    QLocale.setDefault(QLocale("de_DE"))
    try:
        assert class_label("impervious surfaces") == "Versiegelte Flächen"
        assert class_label("Building") == "Gebäude"
        assert class_label("my crops") == "my crops"  # a user's own class is shown as given
        assert bands_label(("IR", "R", "G")) == "NIR/R/G"
        assert number(2378.14, 1) == "2.378,1"
        assert number(1234567) == "1.234.567"
    finally:
        QLocale.setDefault(default)
        remove_translator(translator)
    assert class_label("impervious surfaces") == "impervious surfaces"
    assert bands_label(("IR", "R", "G")) == "IR/R/G"
