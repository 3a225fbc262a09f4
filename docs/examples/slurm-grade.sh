#!/bin/bash
#SBATCH --job-name=socklab-grade
#SBATCH --array=1-3
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
socklab grade submissions/ --out "shards/$SLURM_ARRAY_TASK_ID" --jobs "$SLURM_CPUS_PER_TASK" --resume
