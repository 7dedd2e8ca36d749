#!/usr/bin/env bash
# GPU check (issue 16): XLS-R-300M training throughput, MFU, peak memory, the effect of each speed feature
# (SDPA vs eager attention, frozen-output cache, torch.compile) and the same figures for the Trainer baseline
# (`hf-ser bench` at the same shape). One command, under 8 minutes on one H100/H200:
#
#   benchmarks/gpu_check.sh                 # on the GPU machine, from the repository root
#   benchmarks/gpu_check.sh --cpu           # tiny shape, few clips: the CPU smoke mode tests/test_gpu_check.py runs
#
# Synthetic audio only (no download). Prints the figures and writes <out>/gpu_check_<stamp>.{txt,json,log} into
# $GPU_CHECK_OUT (default runs/gpu_check). Extra arguments go to benchmarks/gpu_check.py (see its docstring).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${GPU_CHECK_OUT:-runs/gpu_check}"
mkdir -p "$out"
stamp="gpu_check_$(date -u +%Y%m%dT%H%M%SZ)"
python="${PYTHON:-python}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/$stamp.txt"
fi
# 470 s: the check's own limit, so a run under an 8-minute allowance still ends with its log written.
timeout "${GPU_CHECK_TIMEOUT:-470}" "$python" benchmarks/gpu_check.py --json "$out/$stamp.json" "$@" \
    2> "$out/$stamp.log" | tee -a "$out/$stamp.txt"
