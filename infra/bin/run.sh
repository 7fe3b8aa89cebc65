#!/usr/bin/env bash
# Behind `npm run demo`, `npm start` and `npm test`: checks Node, installs dependencies when they are
# missing or stale, builds, then runs the demo, starts the engine or runs the whole test suite. Kafka and PostgreSQL are started by the
# TypeScript side (infra/src), which reuses running ones and stops only what it started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

say() { printf '[runhooks] %s\n' "$*"; }
die() { printf '[runhooks] error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "Node.js was not found. Install Node.js 20 (https://nodejs.org, or: nvm install 20)."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "runhooks needs Node.js 20.19 or newer; this is $(node -v). Upgrade (nvm install 20) and retry."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing dependencies (npm ci)…"
  npm ci --no-audit --no-fund
fi

step() { say "── $* ──"; }

case "${1:-}" in
  start)
    shift
    step "build (tsc -b)"
    npx tsc -b
    exec node infra/dist/cli.js start "$@"
    ;;
  demo)
    shift
    step "build (tsc -b)"
    npx tsc -b
    exec node cli/dist/main.js demo "$@"
    ;;
  test)
    shift
    step "type-check (tsc -b)"
    npx tsc -b
    step "lint (eslint)"
    npx eslint --max-warnings 0 .
    step "format (prettier --check; npm run format fixes it)"
    npx prettier --check --log-level warn "**/*.{ts,js,mjs,cjs}"
    step "tests: unit and integration (starts Kafka and PostgreSQL if they are not running)"
    exec npx vitest run "$@"
    ;;
  *)
    die "usage: infra/bin/run.sh demo|start|test [args]"
    ;;
esac
