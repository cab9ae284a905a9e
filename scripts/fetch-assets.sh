#!/usr/bin/env sh
# Fetch the browser assets from npm, at build time: Apache ECharts (the reports inline it,
# the console serves it) and HTMX (the console serves it). Run by `make assets`; the
# results (src/shequn/reports/vendor/, src/shequn/web/static/vendor/) are not committed.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
PREFIX="$ROOT/build/assets"
VENDOR="$ROOT/src/shequn/reports/vendor"
WEB_VENDOR="$ROOT/src/shequn/web/static/vendor"
mkdir -p "$PREFIX" "$VENDOR" "$WEB_VENDOR"
npm install --no-save --no-audit --no-fund --prefix "$PREFIX" echarts@5 htmx.org@2
cp "$PREFIX/node_modules/echarts/dist/echarts.min.js" "$VENDOR/echarts.min.js"
cp "$PREFIX/node_modules/htmx.org/dist/htmx.min.js" "$WEB_VENDOR/htmx.min.js"
echo "copied echarts to $VENDOR/echarts.min.js and htmx to $WEB_VENDOR/htmx.min.js"
