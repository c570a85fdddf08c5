#!/usr/bin/env bash
# Copies the pinned front-end packages (package-lock.json) into the places the service and the
# browser tests read them from. Run after changing a version: `cd web && npm ci && ./vendor.sh`.
# With --check, compares instead of copying (.ci/run uses it, so a vendored file never drifts
# from the package it claims to be).
set -euo pipefail
cd "$(dirname "$0")"
nm=node_modules
css=../crates/handover-web/assets/vendor/designsystemet
axe=../tests/assets/vendor/axe-core
pairs=(
  "$nm/@digdir/designsystemet-css/dist/src/index.css:$css/designsystemet.css"
  "$nm/@digdir/designsystemet-css/LICENSE:$css/LICENSE-designsystemet-css"
  "$nm/@digdir/designsystemet-theme/brand/digdir.css:$css/theme-digdir.css"
  "$nm/@digdir/designsystemet-theme/LICENSE:$css/LICENSE-designsystemet-theme"
  "$nm/axe-core/axe.min.js:$axe/axe.min.js"
  "$nm/axe-core/LICENSE:$axe/LICENSE"
)
status=0
for p in "${pairs[@]}"; do
  src=${p%%:*} dst=${p#*:}
  if [ "${1:-}" = --check ]; then
    cmp -s "$src" "$dst" || { echo "vendored $dst differs from $src"; status=1; }
  else
    mkdir -p "$(dirname "$dst")" && cp "$src" "$dst"
  fi
done
exit $status
