"""One-step-ahead fitting: each interval between observations solved from the observation at its start.

For a noisy series (climate anomalies, a stochastic process), a deterministic
model fitted over the whole span (single shooting) measures the slow decay of
the initial state and the mean, not the persistence from one time to the next.
Fitting each step from the observed state, ``y(t_k) -> model -> y(t_{k+1})``, is
the conditional least-squares estimator of an autoregressive model in continuous
time: for ``dT/dt = -lambda T + F`` it estimates ``exp(-lambda dt)`` as an AR(1)
coefficient would.  Initial states are not fitted.
"""

from __future__ import annotations

import dataclasses

from ..options import options
from ..fitting.strategies import Strategy

__all__ = ["OneStepAhead"]


@options
@dataclasses.dataclass(frozen=True)
class OneStepAhead(Strategy):
    """Fit every step ``t_k -> t_{k+1}`` from the observed state at ``t_k`` (per-cell fits).

    A step counts when every state is observed at ``t_k`` and some state at ``t_{k+1}``.
    """
