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
command -v "$python" >/dev/null || { echo "python-venv: $python not found; install Python 3.9–3.12 with venv (or set PYTHON)" >&2; exit 1; }
# jax/jaxlib 0.4.25 (pinned by neural-tangents 0.6.5) has wheels for CPython 3.9–3.12 only.
"$python" -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 12) else 1)' || {
  echo "python-venv: $("$python" --version 2>&1) found; the test environment needs Python 3.9–3.12 (jaxlib 0.4.25); set PYTHON=python3.12" >&2; exit 1; }
echo "python-venv: creating $venv from $req (once; a few minutes)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
echo "$want" > "$stamp"
echo "$venv/bin/python"
