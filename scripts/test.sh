#!/usr/bin/env bash
# Set everything up (.venv, charbench with test extras) and run the test suite. Extra arguments go to pytest.
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python -m pytest -q "$@"
