# Sourced by scripts/demo.sh and scripts/test.sh: create .venv (Python >= 3.11) and install charbench into it.
# CHARBENCH_TORCH picks the torch requirement when torch is not installed yet (default: "torch", which on
# Linux is PyPI's CUDA build; CI uses the small CPU build "torch==2.13.0").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "charbench needs Python >= 3.11 ($PY is older)"; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -c 'import torch' 2>/dev/null || .venv/bin/python -m pip install --quiet "${CHARBENCH_TORCH:-torch}"
.venv/bin/python -m pip install --quiet -e ".[${CHARBENCH_EXTRAS:-test}]"
