#!/bin/bash
# One crmsim shard per Slurm array task (docs/cluster.md).
#   sbatch --array=0-99 scenarios/cluster/slurm-array.sh
# then, once every task has finished (e.g. with --dependency=afterok:JOBID):
#   crmsim merge parts/part-*-of-100.crmpart --out output/baseline-1e9
#SBATCH --job-name=crmsim-shard
#SBATCH --cpus-per-task=2
#SBATCH --time=00:30:00
set -euo pipefail
CRMSIM=${CRMSIM:-crmsim}
SCENARIO=${SCENARIO:-scenarios/baseline.toml}
TRIALS=${TRIALS:-1000000000}
PARTS=${PARTS:-parts}
# SHARDS: the array's size; give it when re-running a single task
SHARDS=${SHARDS:-${SLURM_ARRAY_TASK_COUNT:?run this as a Slurm array job}}
"$CRMSIM" run "$SCENARIO" --trials "$TRIALS" --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet \
    --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" --out "$PARTS"
