"""The SDE model: ``du = f(u, p, t, m) dt + g(u, p, t, m) dW`` with named states and parameters.

A :class:`SDEModel` is a :class:`pysciml.model_spec.ModelSpec` whose physics is the
drift ``f``; it adds the diffusion ``g``, the noise structure and the calculus
(Ito or Stratonovich) in which the equation is meant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ModelError
from ..model_spec import ModelSpec
from ..networks import MLP

__all__ = ["SDEModel", "NOISE_KINDS", "CALCULI"]

#: ``diagonal``: one Brownian motion per state value, ``g`` returns one value per state value
#: (like the drift); ``additive``: the same with ``g`` independent of ``u``; ``scalar``: one
#: Brownian motion shared by all states, ``g`` returns one value per state value; ``general``:
#: ``n_noise`` Brownian motions, ``g`` returns an ``(n_states, n_noise)`` matrix.
NOISE_KINDS = ("diagonal", "additive", "scalar", "general")
CALCULI = ("ito", "stratonovich")


class SDEModel(ModelSpec):
    """A stochastic differential equation ``du = f(u, p, t, m) dt + g(u, p, t, m) dW``.

    Args:
        drift: ``f(u, p, t, m)``, written like an ODE model's physics.
        diffusion: ``g(u, p, t, m)``: one value per state value (``noise`` diagonal, additive,
            scalar; same structure as the drift's return) or an ``(n_states, n_noise)`` array
            (``noise="general"``).
        states, params, networks, name, time_units, u0, state_units: as in :class:`pysciml.ODEModel`.
        noise: one of :data:`NOISE_KINDS`.
        n_noise: number of Brownian motions for ``noise="general"``.
        calculus: ``"ito"`` (default) or ``"stratonovich"``: how the equation is meant.
            ``ps.solve`` converts the drift for solvers of the other calculus.
    """

    def __init__(
        self,
        drift: Callable,
        diffusion: Callable,
        states: Any,
        params: Mapping[str, Any] | None = None,
        networks: Mapping[str, MLP] | None = None,
        *,
        noise: str = "diagonal",
        n_noise: int | None = None,
        calculus: str = "ito",
        name: str | None = None,
        time_units: str | None = None,
        u0: Any = None,
        state_units: Mapping[str, str] | None = None,
    ):
        super().__init__(
            drift, states, params, networks, name=name, time_units=time_units, u0=u0, state_units=state_units
        )
        if not callable(diffusion):
            raise ModelError(f"must be a function g(u, p, t, m), got {type(diffusion).__name__}.", argument="diffusion")
        self._check_signature(diffusion)
        self.diffusion = diffusion
        if noise not in NOISE_KINDS:
            raise ModelError(f"must be one of {list(NOISE_KINDS)}, got {noise!r}.", argument="noise")
        self.noise = noise
        if noise == "general":
            if isinstance(n_noise, bool) or not isinstance(n_noise, int) or n_noise <= 0:
                raise ModelError(
                    f"noise='general' needs the number of Brownian motions, a positive integer; got {n_noise!r}.",
                    argument="n_noise",
                )
        elif n_noise is not None:
            expect = 1 if noise == "scalar" else self.n_states
            if n_noise != expect:
                raise ModelError(
                    f"is {n_noise!r} but {noise!r} noise has {expect} Brownian motion(s); leave it out.",
                    argument="n_noise",
                )
        self.n_noise = n_noise if noise == "general" else (1 if noise == "scalar" else self.n_states)
        if calculus not in CALCULI:
            raise ModelError(f"must be 'ito' or 'stratonovich', got {calculus!r}.", argument="calculus")
        self.calculus = calculus

    @property
    def drift(self) -> Callable:
        """The drift ``f`` (the model's physics)."""
        return self.physics

    def __repr__(self):
        return (
            f"SDEModel({self.name!r}, states={list(self.state_names)}, params={list(self.param_names)}, "
            f"noise={self.noise!r}, calculus={self.calculus!r})"
        )
