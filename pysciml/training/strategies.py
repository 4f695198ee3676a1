"""Training strategies: how the trajectory is split, warmed up and compared with the data.

* :class:`SingleShooting` — solve each trajectory from its initial state; the plain way.
* :class:`MultipleShooting` — split each trajectory into segments whose initial states
  are extra parameters, solved in parallel, tied together by a continuity penalty:
  a far smoother loss surface for oscillating or chaotic systems.
* :class:`Collocation` — warm start without solving: smooth the data, estimate its
  derivatives, fit the right-hand side to them, then refine by shooting.
* :class:`GrowingHorizon` — fit the first part of the series first and extend the
  horizon in stages; the default warm-up, because the full-horizon loss surface of an
  untrained UDE is very rough (it sends states far off and sticks in bad minima).

None of diffrax, torchdiffeq or scipy offers these; DiffEqFlux has them in Julia.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import InputError
from ..options import check_bool, check_int, check_number, options

__all__ = [
    "Strategy",
    "SingleShooting",
    "MultipleShooting",
    "Collocation",
    "GrowingHorizon",
    "resolve_strategy",
    "default_strategy",
    "OneStepAhead",
]


def _check_steps_and_rate(owner: str, steps, learning_rate) -> None:
    check_int(steps, f"{owner}.steps")
    check_number(learning_rate, f"{owner}.learning_rate", low=0)


@dataclasses.dataclass(frozen=True)
class Strategy:
    """Base of the strategy objects (abstract)."""

    @property
    def name(self) -> str:
        return type(self).__name__


@options
@dataclasses.dataclass(frozen=True)
class SingleShooting(Strategy):
    """Solve each trajectory from its initial state and compare at every observation."""


@options
@dataclasses.dataclass(frozen=True)
class MultipleShooting(Strategy):
    """Segments with their own initial states, solved in parallel, with a continuity penalty.

    Args:
        segments: number of segments per trajectory (each gets at least 2 observations).
        continuity: weight of the continuity penalty (mean squared scaled mismatch
            between a segment's end and the next segment's start).
        polish: after the segmented optimisers, run the last optimiser once more with
            single shooting on the whole trajectory, so the result is one continuous solution.
    """

    segments: int = 5
    continuity: float = 10.0
    polish: bool = True

    def __post_init__(self):
        check_int(self.segments, "MultipleShooting.segments")
        check_number(self.continuity, "MultipleShooting.continuity", low=0)
        check_bool(self.polish, "MultipleShooting.polish")


@options
@dataclasses.dataclass(frozen=True)
class Collocation(Strategy):
    """Warm start by derivative matching, then refine with ``then``.

    Args:
        smoothing: smoothing of the data before differentiation: ``"auto"``
            (cross-validated smoothing spline per state) or a non-negative number
            (the spline's smoothing factor per point, relative to the state's variance).
        steps: Adam steps of the derivative-matching warm start.
        learning_rate: its learning rate.
        then: the strategy used afterwards with the user's optimisers.
    """

    smoothing: Any = "auto"
    steps: int = 2000
    learning_rate: float = 1e-2
    then: Strategy = dataclasses.field(default_factory=SingleShooting)

    def __post_init__(self):
        if not isinstance(self.smoothing, str) or self.smoothing != "auto":
            try:
                check_number(self.smoothing, "Collocation.smoothing", low=0, low_open=False)
            except InputError:
                raise InputError(
                    f"must be 'auto' or a non-negative number, got {self.smoothing!r}.",
                    argument="Collocation.smoothing",
                ) from None
        _check_steps_and_rate("Collocation", self.steps, self.learning_rate)
        if not isinstance(self.then, Strategy) or isinstance(self.then, Collocation):
            raise InputError(
                "must be a shooting strategy (ps.SingleShooting() or ps.MultipleShooting()).",
                argument="Collocation.then",
            )


@options
@dataclasses.dataclass(frozen=True)
class GrowingHorizon(Strategy):
    """Warm up on growing fractions of the time span, then run ``then``.

    Args:
        stages: number of warm-up horizons (fractions 1/(stages+1), 2/(stages+1), ... of
            each trajectory's span).
        steps: Adam steps per stage.
        learning_rate: Adam learning rate of the warm-up.
        then: the strategy used afterwards, on the full horizon, with the user's optimisers.
    """

    stages: int = 4
    steps: int = 500
    learning_rate: float = 1e-2
    then: Strategy = dataclasses.field(default_factory=SingleShooting)

    def __post_init__(self):
        check_int(self.stages, "GrowingHorizon.stages")
        _check_steps_and_rate("GrowingHorizon", self.steps, self.learning_rate)
        if not isinstance(self.then, Strategy) or isinstance(self.then, GrowingHorizon):
            raise InputError("must be a non-warm-up strategy.", argument="GrowingHorizon.then")


def default_strategy() -> Strategy:
    """The default: a growing-horizon warm-up, then single shooting (robust for UDEs)."""
    return GrowingHorizon()


# -- one-step-ahead fitting (per-cell fits) -----------------------------------------------
# One-step-ahead fitting: each interval between observations solved from the observation at its start.
#
# For a noisy series (climate anomalies, a stochastic process), a deterministic
# model fitted over the whole span (single shooting) measures the slow decay of
# the initial state and the mean, not the persistence from one time to the next.
# Fitting each step from the observed state, ``y(t_k) -> model -> y(t_{k+1})``, is
# the conditional least-squares estimator of an autoregressive model in continuous
# time: for ``dT/dt = -lambda T + F`` it estimates ``exp(-lambda dt)`` as an AR(1)
# coefficient would.  Initial states are not fitted.
@options
@dataclasses.dataclass(frozen=True)
class OneStepAhead(Strategy):
    """Fit every step ``t_k -> t_{k+1}`` from the observed state at ``t_k`` (per-cell fits).

    A step counts when every state is observed at ``t_k`` and some state at ``t_{k+1}``.
    """


def resolve_strategy(value: Any) -> Strategy:
    """A strategy object from an object, a name or ``None``/``"auto"`` (the default)."""
    if value is None or (isinstance(value, str) and value.lower() == "auto"):
        return default_strategy()
    if isinstance(value, Strategy):
        return value
    names = {
        "single": SingleShooting,
        "singleshooting": SingleShooting,
        "multipleshooting": MultipleShooting,
        "multiple": MultipleShooting,
        "collocation": Collocation,
        "growinghorizon": GrowingHorizon,
    }
    if isinstance(value, str) and value.lower().replace("_", "") in names:
        return names[value.lower().replace("_", "")]()
    raise InputError(
        f"unknown strategy {value!r}; use ps.SingleShooting(), ps.MultipleShooting(segments=5), "
        "ps.Collocation() or ps.GrowingHorizon().",
        argument="strategy",
    )
