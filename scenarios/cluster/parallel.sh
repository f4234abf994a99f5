#!/bin/bash
# Every shard of a crmsim run on this machine or, with GNU parallel and
# SSHLOGINFILE, on several (docs/cluster.md); then the merge.
#   SHARDS=16 JOBS=4 scenarios/cluster/parallel.sh
# Over ssh, PARTS must be a folder every machine can write (a shared file
# system) and crmsim and the scenario must be at the same paths everywhere.
# Without GNU parallel, the shards run on this machine with xargs -P.
set -euo pipefail
CRMSIM=${CRMSIM:-crmsim}
SCENARIO=${SCENARIO:-scenarios/baseline.toml}
TRIALS=${TRIALS:-10000000}
SHARDS=${SHARDS:-16}
JOBS=${JOBS:-4}
PARTS=${PARTS:-parts}
OUT=${OUT:-output/merged}
if command -v parallel >/dev/null; then
    seq 0 $((SHARDS - 1)) | parallel -j "$JOBS" ${SSHLOGINFILE:+--sshloginfile "$SSHLOGINFILE"} \
        "$CRMSIM" run "$SCENARIO" --trials "$TRIALS" --threads 1 --quiet --shard "{}/$SHARDS" --out "$PARTS"
else
    seq 0 $((SHARDS - 1)) | xargs -P "$JOBS" -I{} \
        "$CRMSIM" run "$SCENARIO" --trials "$TRIALS" --threads 1 --quiet --shard "{}/$SHARDS" --out "$PARTS"
fi
"$CRMSIM" merge "$PARTS"/part-*-of-"$SHARDS".crmpart --out "$OUT" --quiet
