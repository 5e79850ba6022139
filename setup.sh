#!/usr/bin/env bash
# Set up everything on a fresh machine and start chatting on the embedded defaults.
#   ./setup.sh            install, fetch the local model, index the bundled guide, start the server, chat
#   ./setup.sh --no-chat  the same without the chat (used by CI)
#   ./setup.sh --native   also build the model server for this CPU (AVX-512 where it has it; minutes,
#                         kept only if it passes a one-completion self-test); combines with --no-chat
set -euo pipefail
cd "$(dirname "$0")"

chat=1 native=()
for arg in "$@"; do
  case "$arg" in
    --no-chat) chat=0 ;;
    --native) native=(--native) ;;
    *) echo "Unknown option: $arg (known: --no-chat, --native)" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3}"
step_started=$SECONDS
step() {  # print how long the step before took, then name the next one
  if [ -n "${step_name:-}" ]; then echo "    (${step_name}: $(( SECONDS - step_started )) s)"; fi
  step_name="$1"; step_started=$SECONDS
  echo "==> $1"
}

if [ ! -x .venv/bin/python ]; then
  step "Creating .venv"
  "$PYTHON" -m venv .venv
fi
step "Installing the project (prebuilt wheels only: the model server is llama.cpp's own, from xllamacpp)"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --progress-bar on --only-binary xllamacpp -e ".[local,test]"

step "Local model, index and model server"
.venv/bin/rag setup ${native[@]+"${native[@]}"}  # an empty array under `set -u` needs this form
step "done"

if [ "$chat" = 1 ] && [ -t 0 ]; then
  echo "==> Chat (an empty line quits; later: .venv/bin/rag chat)"
  exec .venv/bin/rag chat
fi
