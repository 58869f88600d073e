#!/bin/sh
# The BPE pair: learn the tokenizer, train bpe-small and bpe-large at once (one thread
# each), export both, write the model cards and the Java parity fixture.
# Run from the repository root:  nohup sh tools/train_bpe_pair.sh > /tmp/bpe/pair.out 2>&1 &
# Step counts are what fitted a 2-core machine shared with five other builds (see the cards).
set -eu
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
CK=${CK:-/tmp/bpe}
mkdir -p "$CK" demo/models/bpe-small demo/models/bpe-large
/usr/bin/python3 tools/knowable_lm/bpe.py --merges 2000 --out "$CK/tokenizer.json"
cp "$CK/tokenizer.json" demo/models/bpe-small/tokenizer.json
cp "$CK/tokenizer.json" demo/models/bpe-large/tokenizer.json
/usr/bin/python3 tools/make_bpe_fixture.py demo/models/bpe-small/tokenizer.json \
  common/src/test/resources/tokenizers/bpe-parity.json
/usr/bin/python3 tools/train.py --name bpe-small --tokenizer "$CK/tokenizer.json" \
  --layers 2 --hidden 64 --heads 2 --context 288 --steps ${SMALL_STEPS:-1000} --batch 8 \
  --lr 3e-3 --warmup 100 --seed 1234 --save-every 100 --log-every 50 --checkpoint "$CK/bpe-small.pt" \
  --log demo/models/bpe-small/train.log &
SMALL=$!
/usr/bin/python3 tools/train.py --name bpe-large --tokenizer "$CK/tokenizer.json" \
  --layers 4 --hidden 128 --heads 2 --context 288 --steps ${LARGE_STEPS:-1400} --batch 8 \
  --lr 2e-3 --warmup 100 --seed 1234 --save-every 100 --log-every 50 \
  --checkpoint "$CK/bpe-large.pt" --log demo/models/bpe-large/train.log
wait $SMALL
/usr/bin/python3 tools/finish_family.py --small "$CK/bpe-small.pt" --large "$CK/bpe-large.pt"
