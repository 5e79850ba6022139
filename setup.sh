#!/usr/bin/env bash
# Set up everything on a fresh machine and start chatting on the embedded defaults.
#   ./setup.sh            install, fetch the local model, index the bundled guide, start the server, chat
#   ./setup.sh --no-chat  the same without the chat (used by CI)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "==> Installing the project (the first time builds llama.cpp from source: about 6 minutes on 2 cores)"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --progress-bar on -e ".[local,test]"

echo "==> Local model, index and model server"
.venv/bin/rag setup

if [ "${1:-}" != "--no-chat" ] && [ -t 0 ]; then
  echo "==> Chat (an empty line quits; later: .venv/bin/rag chat)"
  exec .venv/bin/rag chat
fi
