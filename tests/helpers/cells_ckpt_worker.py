"""A checkpointed per-cell gridded fit for tests: ``python cells_ckpt_worker.py CHECKPOINT OUT [PAUSE]``.

Fits the relaxation model on the shared synthetic grid with ``checkpoint=CHECKPOINT``,
``resume=True`` (a fresh folder starts a new checkpoint) and writes the per-cell results to OUT
(.npz).  PAUSE (seconds, default 0) sleeps after every saved group, so a test can kill the
process between groups.
"""

import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run as a script: make tests/helpers importable as `helpers`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from helpers.gridded_data import gridded, shared_model
from pysciml.cells.checkpoint import CellCheckpoint

#: the results compared between runs
FIELDS = ("lam", "forcing", "u0_sst", "loss", "rmse_sst", "status", "rejected_steps")
GROUP = 6


def fit(checkpoint, resume=True):
    da, ocean, _ = gridded()
    return da.sciml.fit(
        shared_model(), mask=ocean, verbose=0, checkpoint=checkpoint, resume=resume, checkpoint_cells=GROUP
    )


def main(checkpoint, out, pause=0.0):
    if pause:
        save = CellCheckpoint.save

        def slow_save(self, ids, outputs):
            save(self, ids, outputs)
            time.sleep(pause)

        CellCheckpoint.save = slow_save
    ds = fit(checkpoint)
    np.savez(out, **{k: ds[k].values for k in FIELDS})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
