#!/usr/bin/env bash
# Creates the Python test environment .venv-py/ (git-ignored) from the pinned
# python/requirements-test.txt, once: a no-op while the requirements are unchanged.
# Prints the venv's python on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-py
req=python/requirements-test.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$venv/bin/python"; exit 0
fi
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "python-venv: $python not found; install python3 (3.10–3.12) and python3-venv" >&2; exit 1; }
echo "python-venv: creating $venv from $req (once; a few minutes)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
echo "$want" > "$stamp"
echo "$venv/bin/python"
