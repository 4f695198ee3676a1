"""The latent ODE's configuration (engine-free, frozen) and the checks on it."""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

from ..errors import InputError

__all__ = ["LatentConfig", "ENCODERS", "SOLVER_NAMES", "check_positive_int", "check_positive_float",
           "solver_name"]

ENCODERS = ("ode-rnn", "gru")
#: explicit diffrax methods usable for the latent flow (latent ODEs are non-stiff by construction)
SOLVER_NAMES = ("tsit5", "dopri5", "dopri8")


@dataclasses.dataclass(frozen=True)
class LatentConfig:
    """Everything the jax core needs to build and run the networks (hashable: a jit static argument).

    Attributes:
        n_latent: latent dimension K.
        encoder_hidden, ode_hidden, decoder_hidden: widths (decoder_hidden 0 = linear decoder).
        encoder: ``"ode-rnn"`` or ``"gru"``.
        encoder_steps: fixed Tsit5 steps of the encoder's ODE between two observations.
        solver: diffrax method of the latent flow (``"tsit5"``...), adaptive with rtol/atol.
        rtol, atol, max_steps: step control of the latent flow.
        noise_scaled: fixed observation noise std per state in scaled units, or None (learned).
        min_noise: floor of the learned noise std (scaled units).
    """

    n_latent: int = 4
    encoder_hidden: int = 32
    ode_hidden: int = 32
    decoder_hidden: int = 32
    encoder: str = "ode-rnn"
    encoder_steps: int = 2
    solver: str = "tsit5"
    rtol: float = 1e-5
    atol: float = 1e-7
    max_steps: int = 4096
    noise_scaled: tuple[float, ...] | None = None
    min_noise: float = 1e-3


def check_positive_int(value: Any, argument: str, *, minimum: int = 1) -> int:
    """``value`` as an int >= minimum, else an InputError naming ``argument``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InputError(f"must be an integer >= {minimum}, got {value!r}.", argument=argument)
    return int(value)


def check_positive_float(value: Any, argument: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with allow_zero), else an InputError naming ``argument``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value \
        and abs(value) != float("inf") and (value >= 0 if allow_zero else value > 0)
    if not ok:
        what = "a finite number >= 0" if allow_zero else "a finite positive number"
        raise InputError(f"must be {what}, got {value!r}.", argument=argument)
    return float(value)


def solver_name(solver: Any) -> str:
    """The configured latent-flow solver: a name or a pysciml explicit solver object."""
    from ..solvers.base import Solver

    if isinstance(solver, Solver) or (isinstance(solver, type) and issubclass(solver, Solver)):
        solver = solver.__name__ if isinstance(solver, type) else type(solver).__name__
    if isinstance(solver, str):
        key = "".join(ch for ch in solver.lower() if ch.isalnum())
        if key == "auto":
            key = "tsit5"
        if key in SOLVER_NAMES:
            return key
    raise InputError(
        f"unknown or unsuitable solver {solver!r} for a latent ODE; use one of {list(SOLVER_NAMES)} "
        "(names or objects such as ps.Tsit5()). Latent flows are learned and non-stiff: explicit methods fit.",
        argument="solver",
    )
