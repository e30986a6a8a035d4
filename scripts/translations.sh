#!/usr/bin/env bash
# Refresh the translation sources and compile them:
#   pylupdate5 collects every tr()/QCoreApplication.translate() string of plugin/**.py (tracked by git) into i18n/geofuse_<lang>.ts
#   (existing translations are kept; strings no longer in the code are dropped), lrelease compiles each .ts to the
#   .qm the plugin loads. Translate new strings (Qt Linguist, or edit the .ts), then run this again and commit both.
# Debian: pyqt5-dev-tools (pylupdate5) and qttools5-dev-tools (lrelease); `make setup` installs them.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
languages=(de fr)
cd "$repo"

for tool in pylupdate5 lrelease; do
  command -v "$tool" >/dev/null || { echo "$tool not found: install pyqt5-dev-tools and qttools5-dev-tools" >&2; exit 1; }
done

# The files git tracks (git add a new module first), so the committed .ts always matches the committed code.
mapfile -t sources < <(git ls-files -- 'plugin/*.py' | LC_ALL=C sort)
targets=()
for language in "${languages[@]}"; do
  ts="i18n/geofuse_$language.ts"
  if [[ ! -f "$ts" ]]; then
    printf '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n<TS version="2.0" language="%s">\n</TS>\n' \
      "$language" >"$ts"
  fi
  targets+=("$ts")
done

PYTHONWARNINGS=ignore pylupdate5 -noobsolete "${sources[@]}" -ts "${targets[@]}"
for ts in "${targets[@]}"; do
  lrelease -silent "$ts" -qm "${ts%.ts}.qm"
done
grep -c 'type="unfinished"' "${targets[@]}" | sed 's/$/ unfinished/' || true
