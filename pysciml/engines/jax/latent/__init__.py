"""Latent ODE (continuous-time VAE) core on jax: networks, ELBO, training, decoding.

Only numpy arrays and :class:`pysciml.latent.config.LatentConfig` cross in from
:mod:`pysciml.latent`; weights cross back as a list of numpy arrays.
"""
