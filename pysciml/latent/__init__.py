"""Latent ODEs (continuous-time VAEs) for irregularly sampled series.

``LatentODE`` encodes a series (an ODE-RNN or GRU run backwards over its
observations) into a posterior over an initial latent state, evolves it with a
learned ODE and decodes it at any time: reconstruct, interpolate, forecast and
sample.  ``LatentSDE`` shares the encoder and decoder and makes the latent
dynamics stochastic (posterior and prior SDEs, a path-space KL).  Engine-free here; the networks run on the jax engine
(:mod:`pysciml.engines.jax.latent`), loaded on first use.
"""

from .config import LatentConfig
from .estimator import LatentODE
from .sde_estimator import LatentSDE

__all__ = ["LatentODE", "LatentSDE", "LatentConfig"]
