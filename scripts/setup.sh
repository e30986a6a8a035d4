#!/usr/bin/env bash
# Create .venv from the Python that has PyQGIS and install GeoFuse with its dev extras. Idempotent.
set -euo pipefail

QGIS_PYTHON=${QGIS_PYTHON:-/usr/bin/python3}
VENV=${VENV:-.venv}
DEBIAN_PACKAGES="qgis python3-qgis python3-venv xvfb pyqt5-dev-tools qttools5-dev-tools"

has_pyqgis() {
    "$QGIS_PYTHON" -c "import qgis.core" >/dev/null 2>&1
}

if ! has_pyqgis; then
    if [ "${GEOFUSE_WITHOUT_QGIS:-0}" = "1" ]; then
        echo "setup: PyQGIS not found for $QGIS_PYTHON; GEOFUSE_WITHOUT_QGIS=1, so only the backend will be tested." >&2
    elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: PyQGIS missing; installing Debian's $DEBIAN_PACKAGES" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $DEBIAN_PACKAGES >/dev/null
        has_pyqgis || { echo "setup: installed QGIS but '$QGIS_PYTHON -c \"import qgis.core\"' still fails." >&2; exit 1; }
    else
        cat >&2 <<MSG
setup: '$QGIS_PYTHON' cannot import qgis.core (PyQGIS).
  On Debian/Ubuntu, as root:  apt-get install -y $DEBIAN_PACKAGES
  Elsewhere: point QGIS_PYTHON= at the Python that QGIS uses, e.g.  make setup QGIS_PYTHON=/path/to/python3
  Or test the backend only:   GEOFUSE_WITHOUT_QGIS=1 make test
MSG
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$QGIS_PYTHON" -m venv --system-site-packages "$VENV"
fi

stamp="$VENV/.geofuse-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade "pip>=23.1"
    "$VENV/bin/python" -m pip install --quiet -e ".[dev]"
    echo "$want" > "$stamp"
fi
"$VENV/bin/python" -c "import geofuse.backend, torch; print('setup: geofuse', geofuse.__file__, '| torch', torch.__version__)"
