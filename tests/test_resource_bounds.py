"""Memory budget, end to end: a batch predicted to exceed ``max_memory`` warns before any step runs.

(Budget parsing, batch sizing from the budget and the measured peak RSS at a small budget
are in ``test_gridded_memory.py``.)
"""

from __future__ import annotations

import warnings

import numpy as np
from helpers.gridded_data import gridded, shared_model

import pysciml as ps


def test_a_batch_over_budget_warns_before_training_and_the_fit_still_completes(monkeypatch, jax_engine):
    from pysciml.engines.jax.cells import independent as cells
    from pysciml.engines.jax.cells.batch import MemoryBudgetWarning

    da, _, _ = gridded(ny=2, nx=3, nt=8, land=False)
    real = cells._run_batch
    warned_first = []

    def run_batch(*args, **kwargs):
        warned_first.append(any(issubclass(w.category, MemoryBudgetWarning) for w in caught))
        return real(*args, **kwargs)

    monkeypatch.setattr(cells, "_run_batch", run_batch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = da.sciml.fit(shared_model(), max_memory=1000, cells_per_batch=4, verbose=0,
                           optimizers=[ps.LBFGS(steps=20)])
    budget = [w for w in caught if issubclass(w.category, MemoryBudgetWarning)]
    assert len(budget) == 1 and "more than max_memory" in str(budget[0].message)
    assert "lower cells_per_batch" in str(budget[0].message)
    assert warned_first and all(warned_first)  # the warning came before the first batch trained
    assert np.all(res["status"].values == int(ps.Status.SUCCESS)) and res.attrs["cells_per_batch"] == 4
