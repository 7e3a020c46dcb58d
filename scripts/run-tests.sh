#!/usr/bin/env bash
# The whole suite, with the Playwright browser pointed at Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -ra "$@"
