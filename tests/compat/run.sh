#!/usr/bin/env bash
# Runs the official Python SDK (pinecone==10.2.0) against the emulator, configured
# only by the environment the emulator program prints.
#
#   tests/compat/run.sh            # from the repository root
#
# Needs python3 with venv and network access to PyPI. A fresh venv is made in a
# temporary directory each run; set COMPAT_VENV=DIR to keep and reuse one there.
# Exits non-zero if any SDK call fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../support/emulator.sh
. "$root/tests/support/emulator.sh"
venv="${COMPAT_VENV:-$tmp/venv}"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pinecone, sys; sys.exit(pinecone.__version__ != "10.2.0")' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pinecone==10.2.0
fi

# No processing delays: the SDK polls every 5 s, so any delay costs 5 s a call.
# Streams are paced with a heartbeat comment between events, as the real service
# sends them on a slow answer, so the SDK's stream parsing meets them too.
start_emulator "$tmp/emulator.out" --processing-delay-ms 0 --delete-delay-ms 0 --ready-delay-ms 0 \
    --stream-delay-ms 5 --heartbeat-ms 2
# No arguments: the SDK takes its host and key from the environment set above.
"$venv/bin/python" "$root/tests/compat/python_sdk_compat.py"
