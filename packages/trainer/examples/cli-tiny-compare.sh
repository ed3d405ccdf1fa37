#!/bin/sh
# The CLI end to end on the committed two-domain fixture, in about a minute:
# prepare -> train two methods -> compare (2 seeds) -> eval -> report.
# Run from packages/trainer after building (npx tsc -b): sh examples/cli-tiny-compare.sh [out]
set -e
OUT=${1:-/tmp/lrw-cli-example}
LRW="node dist/cli/main.js"
BUDGET="--steps 20 --seq-len 32 --batch-size 4 --lr 2e-3 --eval-interval 10 --eval-batches 2"

$LRW prepare --source test/cli/fixtures/tiny-corpus --out "$OUT/data" --tokenizer byte --validation-documents 2
$LRW train --data "$OUT/data" --out "$OUT/runs/uniform" --method uniform $BUDGET
$LRW train --data "$OUT/data" --out "$OUT/runs/linupper" --method linupper $BUDGET
$LRW compare --data "$OUT/data" --out "$OUT/compare" --methods uniform,linupper --seeds 0,1 $BUDGET
$LRW eval "$OUT/runs/linupper" --data "$OUT/data" --tasks sciq --task-file sciq:test=test/cli/fixtures/sciq/test.json --limit 6
$LRW report "$OUT/runs/uniform" "$OUT/runs/linupper" --out "$OUT/report.html"
$LRW bounds convex --L 1 --eta 0.4 --distance0 2 --steps 100 --mean-rho 0.01
