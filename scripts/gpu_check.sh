#!/usr/bin/env bash
# The CUDA paths on a GPU host, with the Python that already holds torch (no install): the CUDA tests, the demo's
# quick suite on the GPU in fp32 and with --amp, and a one-rank NCCL run through torchrun. Reports land in $OUT
# (or ./gpu-check). Usage: bash scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check}; mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 CHARBENCH_DATA=${CHARBENCH_DATA:-/tmp/charbench-gpu}
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
$PY -c "import torch, numba, h5py; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'numba', numba.__version__, 'h5py', h5py.__version__)"
$PY -m pytest -q -p no:cacheprovider tests/bench/test_cuda.py tests/bench/test_data.py 2>&1 | tail -5
demo=/tmp/charbench-demo
time $PY -m charbench demo --out "$demo" --quiet 2>&1 | tail -25
for amp in "" "--amp"; do
  $PY -m charbench run --suite quick --data "$demo/prepared" --out "$demo/runs-cuda$amp" --device cuda $amp --quiet \
    && cp "$demo"/runs-cuda$amp/*/report.md "$OUT/report-cuda${amp:+-amp}.md" \
    && cp "$demo"/runs-cuda$amp/*/results.csv "$OUT/results-cuda${amp:+-amp}.csv"
done
$PY -m torch.distributed.run --nproc_per_node 1 -m charbench run --suite quick --data "$demo/prepared" \
  --out "$demo/runs-nccl" --device cuda --datasets demo-mnist --quiet \
  && cp "$demo"/runs-nccl/*/report.json "$OUT/report-nccl.json"
# full-size MNIST layout (70,000 synthetic images): every reference model of suite `all`, fp32 and --amp
mn=/tmp/charbench-mnist
$PY -c "from pathlib import Path; from charbench.synth.idx import write_mnist_layout as w; w(Path('$mn/raw'), train_per_class=6000, test_per_class=1000)"
$PY -m charbench prepare mnist --source "$mn/raw" --out "$mn/prepared" --quiet
for amp in "" "--amp"; do
  $PY -m charbench run --suite all --data "$mn/prepared" --out "$mn/runs$amp" --device cuda --epochs 2 $amp --quiet \
    && cp "$mn"/runs$amp/*/results.csv "$OUT/mnist-all${amp:+-amp}.csv" \
    && cp "$mn"/runs$amp/*/report.md "$OUT/mnist-all${amp:+-amp}.md"
done
ls -R "$OUT"
