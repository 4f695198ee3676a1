"""A fit runs its solver only inside compiled functions: after the training loop, the final loss,
the Laplace uncertainty and the multiple-shooting start are compiled and cached too.

Run op by op, diffrax costs ~0.5 s per solve of a small UDE (1.5 s for the Laplace Jacobian):
more than the whole training of the benchmark's warm ``model.fit`` (``benchmarks/results/ude.md``).
No timing is asserted: the test counts solver calls made outside tracing.
"""

import diffrax
import jax
import numpy as np
import pytest
from helpers.lv_data import lotka_volterra, noisy_samples

import pysciml as ps


@pytest.fixture
def eager_solves(monkeypatch):
    """Counts ``diffrax.diffeqsolve`` calls whose initial state is a concrete array (not traced)."""
    calls = []
    real = diffrax.diffeqsolve

    def spy(terms, solver, t0, t1, dt0, y0, *args, **kwargs):
        if not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(y0)):
            calls.append(type(solver).__name__)
        return real(terms, solver, t0, t1, dt0, y0, *args, **kwargs)

    monkeypatch.setattr(diffrax, "diffeqsolve", spy)
    return calls


def _model():
    return ps.ODEModel(lotka_volterra, ["prey", "predator"], {"alpha": 1.0, "beta": 0.8, "gamma": 0.6, "delta": 1.5})


@pytest.mark.parametrize("strategy", [ps.SingleShooting(), ps.MultipleShooting(segments=3)], ids=["single", "multiple"])
def test_a_fit_never_runs_the_solver_op_by_op(strategy, eager_solves, jax_engine):
    t, y = noisy_samples(n=25, noise=0.01, seed=1)
    model = _model()
    model.fit((t, y), u0=y[0], strategy=strategy, optimizers=[ps.Adam(1e-2, steps=20)], solver=ps.Tsit5(), verbose=0)
    assert np.isfinite(model.loss_) and model.param_std_ is not None  # final loss and Laplace uncertainty computed
    assert eager_solves == []
    # negative control: the spy sees a solve that runs op by op
    diffrax.diffeqsolve(diffrax.ODETerm(lambda t, u, a: -u), diffrax.Tsit5(), 0.0, 1.0, 0.1, jax.numpy.ones(2))
    assert eager_solves == ["Tsit5"]
