#!/bin/sh
# Train the tiny family sequentially (one thread), then export and write the model cards.
# Run from the repository root:  nohup sh tools/train_family.sh > /tmp/knowable-train/family.out 2>&1 &
set -eu
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
CK=${CK:-/tmp/knowable-train}
mkdir -p "$CK" demo/models/tiny-small demo/models/tiny-large
/usr/bin/python3 tools/train.py --name tiny-small --layers 2 --hidden 64 --heads 2 \
  --steps ${SMALL_STEPS:-2400} --batch 8 --lr 3e-3 --warmup 100 --seed 1234 \
  --checkpoint "$CK/tiny-small.pt" --log demo/models/tiny-small/train.log
/usr/bin/python3 tools/train.py --name tiny-large --layers 4 --hidden 128 --heads 2 \
  --steps ${LARGE_STEPS:-2400} --batch 8 --lr 2e-3 --warmup 100 --seed 1234 \
  --checkpoint "$CK/tiny-large.pt" --log demo/models/tiny-large/train.log
/usr/bin/python3 tools/finish_family.py --small "$CK/tiny-small.pt" --large "$CK/tiny-large.pt"
