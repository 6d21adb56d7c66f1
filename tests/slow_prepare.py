"""``python -m tests.slow_prepare SECONDS ARGS...``: the charbench command, pausing SECONDS after each shard's receipt.

Interruption and locking tests use it to kill or race a run between shards (the pause is only in this test entry
point, never in the library).
"""

import sys
import time

from charbench import render
from charbench.cli.main import main

if __name__ == "__main__":
    delay, recorded = float(sys.argv[1]), render.record_shard

    def record_then_pause(folder, info):
        recorded(folder, info)
        time.sleep(delay)

    render.record_shard = record_then_pause
    sys.exit(main(sys.argv[2:]))
