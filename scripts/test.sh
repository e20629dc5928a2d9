#!/usr/bin/env bash
# The whole test suite: real components, lint and types, then every test (unit, integration, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d node_modules ] || npm install
npm run build
npm run lint
# shellcheck disable=SC2046
node --import tsx --test --test-concurrency=2 --test-timeout=300000 $(find src test -name '*.test.ts' | sort)
