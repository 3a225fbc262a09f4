#!/bin/bash
#SBATCH --job-name=socklab-merge
#SBATCH --time=00:10:00
set -euo pipefail
socklab merge shards/* --out grades
