#!/bin/bash
# Retrain the BPE large model (issue 21 item 5) and a copy-capable BPE small model
# (item 8) as parallel candidates, then write the selection report on the probe passages.
#
# GPU (one call, about 7 minutes; every candidate stops cleanly after TRAIN_SECONDS):
#   OUT=/some/dir bash tools/train_bpe_large_gpu.sh
# CPU smoke test (about 3 minutes on 2 cores; EXTRA is appended to every candidate's train.py
# options, LIMIT_DOCS cuts the report to the first N probe documents per domain):
#   DEVICE=cpu TRAIN_SECONDS=20 EXTRA="--batch 2 --eval-every 10 --val-windows 4" LIMIT_DOCS=5 \
#     OUT=/tmp/bpe-gpu WORK=/tmp/bpe-gpu-work bash tools/train_bpe_large_gpu.sh
# CPU for real (hours): see tools/README.md (same tools/train.py flags, --steps instead of time).
#
# What comes back under $OUT:
#   selection.txt / selection.json  the report (tools/select_bpe_large.py): held-out bits/byte
#                                   per domain, copy check, H_S/H_L position counts per pair
#   ckpt/<candidate>.pkl            portable checkpoints (tools/knowable_lm/ckpt.py): smalls and
#                                   the default large choice in float32, other larges float16
#                                   (written right after training, larges in fp16, then the
#                                   report rewrites the chosen one in fp32)
#   logs/<candidate>.log            training logs (train.py --log), logs/*.out stdout/stderr
#   env.txt                         torch / device / timing, each candidate's last log line
#   gpu-util.txt                    nvidia-smi utilization and memory every 20 s while training
# Then, with Debian torch 1.13 on the workstation (see tools/README.md):
#   /usr/bin/python3 tools/finish_family.py --small demo/models/bpe-small --large OUT/ckpt/<cand>.pkl
#
# Candidates (all: tokenizer demo/models/bpe-small/tokenizer.json, context 288, bf16 autocast on
# the GPU, SDPA attention where torch has it (train.py --attention auto), model-train
# only with every 20th document held out for early stopping, best-val checkpoint kept):
#   large-6x256       6 layers x 256, 4 heads, dropout 0.1, copy-prob 0.2       5.90M params
#   large-6x256-r1    the same with 100% rotary dims and dropout 0.2            5.90M
#   large-8x192       8 layers x 192, 4 heads, dropout 0.1, copy-prob 0.2       4.43M
#   small-copy        bpe-small's shape (2x64, 2 heads), copy-prob 0.3          0.39M
#   small-copy-r1     the same with 100% rotary dims (copying starts sooner)    0.39M
set -u
OUT=${OUT:?set OUT to the output directory}
DEVICE=${DEVICE:-cuda}
TRAIN_SECONDS=${TRAIN_SECONDS:-330}
LIMIT_DOCS=${LIMIT_DOCS:-0}
THREADS=${THREADS:-$([ "$DEVICE" = cpu ] && echo 1 || echo 2)}
WORK=${WORK:-/tmp/knowable-bpe-gpu}
if [ -z "${PY:-}" ]; then
  for p in python3 /usr/bin/python3; do
    if "$p" -c 'import torch' 2>/dev/null; then PY=$p; break; fi
  done
fi
PY=${PY:?no python with torch found; set PY}
TOK=demo/models/bpe-small/tokenizer.json
BF16=$([ "$DEVICE" = cpu ] || echo --bf16)
mkdir -p "$OUT/logs" "$OUT/ckpt" "$WORK"
rm -f "$WORK"/large-*.pt "$WORK"/small-*.pt  # no stale candidate from an earlier run
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
START=$(date +%s)
{
  echo "start $(date -u +%FT%TZ) device=$DEVICE train_seconds=$TRAIN_SECONDS threads=$THREADS py=$PY"
  "$PY" -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__,
  "cuda", torch.cuda.is_available() and torch.cuda.get_device_name(0))'
  git rev-parse HEAD 2>/dev/null || true
} > "$OUT/env.txt" 2>&1

COMMON="--tokenizer $TOK --context 288 --steps 0 --max-seconds $TRAIN_SECONDS --device $DEVICE $BF16
  --attention auto --val-every 20 --eval-every 250 --log-every 100 --seed 1234 --copy-min 8 --copy-max 144"
LARGE="--name bpe-large --heads 4 --batch 64 --lr 1e-3 --warmup 200 --weight-decay 0.1"
SMALL="--name bpe-small --layers 2 --hidden 64 --heads 2 --batch 64 --lr 3e-3 --warmup 100"
declare -A CAND=(
  [large-6x256]="$LARGE --layers 6 --hidden 256 --dropout 0.1 --copy-prob 0.2"
  [large-6x256-r1]="$LARGE --layers 6 --hidden 256 --dropout 0.2 --copy-prob 0.2 --rotary-pct 1.0"
  [large-8x192]="$LARGE --layers 8 --hidden 192 --dropout 0.1 --copy-prob 0.2"
  [small-copy]="$SMALL --copy-prob 0.3"
  [small-copy-r1]="$SMALL --copy-prob 0.3 --rotary-pct 1.0"
)
SAMPLER=
if [ "$DEVICE" != cpu ] && command -v nvidia-smi > /dev/null; then
  # GPU load while training, for sizing the next run
  (while sleep 20; do nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader; done) \
    > "$OUT/gpu-util.txt" 2>&1 &
  SAMPLER=$!
fi
PIDS=()
for c in "${!CAND[@]}"; do
  # shellcheck disable=SC2086  # word splitting of the option strings is intended
  timeout -k 20 $((TRAIN_SECONDS + 150)) "$PY" tools/train.py $COMMON ${CAND[$c]} ${EXTRA:-} \
    --checkpoint "$WORK/$c.pt" --log "$OUT/logs/$c.log" > "$OUT/logs/$c.out" 2>&1 &
  PIDS+=($!)
done
for p in "${PIDS[@]}"; do wait "$p" || echo "a trainer (pid $p) exited with $?" >> "$OUT/env.txt"; done
[ -n "$SAMPLER" ] && kill "$SAMPLER"
echo "training done after $(( $(date +%s) - START )) s" >> "$OUT/env.txt"
for c in "${!CAND[@]}"; do echo "$c: $(grep -h '^done' "$OUT/logs/$c.log" 2>/dev/null | tail -n 1)"; done >> "$OUT/env.txt"

# safety net before the report: every candidate under $OUT now (smalls fp32, larges fp16),
# in case the call's time runs out during the report (which rewrites the chosen large in fp32)
"$PY" - "$WORK" "$OUT/ckpt" >> "$OUT/env.txt" 2>&1 <<'PYEOF'
import glob, os, sys
sys.path.insert(0, "tools")
import torch
from knowable_lm import ckpt
for p in sorted(glob.glob(os.path.join(sys.argv[1], "*.pt"))):
    name = os.path.splitext(os.path.basename(p))[0]
    ckpt.save_portable(ckpt.load(p), os.path.join(sys.argv[2], name + ".pkl"),
                       torch.float32 if name.startswith("small") else torch.float16)
    print("safety copy", name)
PYEOF
SEL=()
for c in small-copy small-copy-r1; do [ -f "$WORK/$c.pt" ] && SEL+=(--small "$WORK/$c.pt"); done
for c in large-6x256 large-6x256-r1 large-8x192; do [ -f "$WORK/$c.pt" ] && SEL+=(--large "$WORK/$c.pt"); done
timeout 240 "$PY" tools/select_bpe_large.py --small demo/models/bpe-small --large demo/models/bpe-large \
  "${SEL[@]}" --device "$DEVICE" --limit-docs "$LIMIT_DOCS" --json "$OUT/selection.json" \
  --pack "$OUT/ckpt" > "$OUT/selection.txt" 2>&1
echo "select rc=$? after $(( $(date +%s) - START )) s" >> "$OUT/env.txt"
cat "$OUT/env.txt"
tail -n 80 "$OUT/selection.txt"
du -sh "$OUT"
