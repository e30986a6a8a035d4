#!/usr/bin/env bash
# Link the working tree into a QGIS profile as the plugin `geofuse` (development install), or remove that link.
#   bash scripts/install_plugin.sh install|uninstall
# QGIS_PROFILE_DIR overrides the profile (default: ~/.local/share/QGIS/QGIS3/profiles/default).
# Never touches a real folder or file of that name: only a symbolic link this script could have made.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
profile="${QGIS_PROFILE_DIR:-$HOME/.local/share/QGIS/QGIS3/profiles/default}"
target="$profile/python/plugins/geofuse"

case "${1:-}" in
  install)
    if [[ -L "$target" ]]; then
      if [[ "$(readlink "$target")" == "$repo" ]]; then
        echo "already linked: $target -> $repo"
        exit 0
      fi
      echo "replacing the link $target -> $(readlink "$target")"
      rm "$target"
    elif [[ -e "$target" ]]; then
      echo "refusing: $target exists and is not a symbolic link (an installed GeoFuse?)." >&2
      echo "Uninstall it in QGIS's Plugin Manager or move it away, then run this again." >&2
      exit 1
    fi
    mkdir -p "$(dirname "$target")"
    ln -s "$repo" "$target"
    echo "linked $target -> $repo"
    echo "Restart QGIS and enable GeoFuse in Plugins > Manage and Install Plugins (Installed)."
    ;;
  uninstall)
    if [[ -L "$target" ]]; then
      rm "$target"
      echo "removed the link $target"
    elif [[ -e "$target" ]]; then
      echo "refusing: $target is not a symbolic link; remove it with QGIS's Plugin Manager." >&2
      exit 1
    else
      echo "nothing to remove: $target does not exist"
    fi
    ;;
  *)
    echo "usage: $0 install|uninstall" >&2
    exit 2
    ;;
esac
