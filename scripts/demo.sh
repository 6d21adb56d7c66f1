#!/usr/bin/env bash
# Set everything up (.venv, charbench) and run the embedded demo: synthetic raw data in every format ->
# prepare -> quick benchmark suite -> report. Extra arguments go to `charbench demo`.
CHARBENCH_EXTRAS=${CHARBENCH_EXTRAS:-gpu} source "$(dirname "$0")/_venv.sh"
exec .venv/bin/charbench demo "$@"
