"""The plugin's translator: German, French, ... from ``i18n/geofuse_<lang>.qm`` for QGIS's user locale.

QGIS keeps the user's interface language in the setting ``locale/userLocale`` (``de``, ``fr_FR``, ...); the
plugin installs a QTranslator for its first two letters when it loads and removes it again on unload, so
``tr()`` strings (filed by pylupdate5 under their class name) come out in that language.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

I18N_DIR = Path(__file__).resolve().parent.parent / "i18n"


def user_language() -> str:
    """The two-letter language of QGIS's user locale (``locale/userLocale``), else the system's."""
    locale = str(QgsSettings().value("locale/userLocale", "") or "") or QLocale.system().name()
    return locale[:2].lower()


def install_translator(language: str | None = None) -> QTranslator | None:
    """Load ``i18n/geofuse_<language>.qm`` (default: :func:`user_language`) and install it in the application.

    Returns:
        The installed translator, which the caller keeps (Qt does not own it) and passes to
        :func:`remove_translator`; None when GeoFuse has no translation for the language (English then).
    """
    path = I18N_DIR / f"geofuse_{language or user_language()}.qm"
    if not path.is_file():
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator


def remove_translator(translator: QTranslator | None) -> None:
    """Uninstall a translator from :func:`install_translator` (None is allowed: nothing was installed)."""
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
