"""Fitting on the jax engine: objectives, optimiser loops, Laplace covariance."""
