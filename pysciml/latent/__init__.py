"""Latent ODEs (continuous-time VAEs) for irregularly sampled series.

``LatentODE`` encodes a series (an ODE-RNN or GRU run backwards over its
observations) into a posterior over an initial latent state, evolves it with a
learned ODE and decodes it at any time: reconstruct, interpolate, forecast and
sample.  Engine-free here; the networks run on the jax engine
(:mod:`pysciml.engines.jax.latent`), loaded on first use.
"""

from .config import LatentConfig
from .estimator import LatentODE

__all__ = ["LatentODE", "LatentConfig"]
