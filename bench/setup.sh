#!/usr/bin/env bash
# Creates the Python environment of the PyTorch peer (bench/pytorch_peer.py) under bench/.venv.
# `pip install torch` resolves a current CPU build; nothing here is needed by the Java build or its tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q torch numpy peft   # peft: the train-lora-gpt2 peer
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "threads", torch.get_num_threads(), torch.__config__.show().splitlines()[2:4])'
