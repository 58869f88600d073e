#!/usr/bin/env bash
# Spark GPU discovery script (spark.{driver,executor}.resource.gpu.discoveryScript): prints
# the GPUs this node has as the JSON Spark expects, e.g. {"name": "gpu", "addresses": ["0","1"]}.
# Spark then assigns each task its own address, and knowable runs the model on exactly that
# GPU (never a hard-coded device 0).
set -euo pipefail
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ' | grep -E '^[0-9]+$' || true)
addresses=$(printf '%s\n' "$ids" | sed -n '/./s/.*/"&"/p' | paste -sd, -)
printf '{"name": "gpu", "addresses": [%s]}\n' "$addresses"
