#!/usr/bin/env sh
# Fetch the browser assets the reports inline (Apache ECharts), from npm, at build time.
# Run by `make assets`; the result (src/shequn/reports/vendor/) is not committed.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
PREFIX="$ROOT/build/assets"
VENDOR="$ROOT/src/shequn/reports/vendor"
mkdir -p "$PREFIX" "$VENDOR"
npm install --no-save --no-audit --no-fund --prefix "$PREFIX" echarts@5
cp "$PREFIX/node_modules/echarts/dist/echarts.min.js" "$VENDOR/echarts.min.js"
echo "copied echarts $(node -p "require('$PREFIX/node_modules/echarts/package.json').version" 2>/dev/null || echo 5) to $VENDOR/echarts.min.js"
