"""Fitting models to observations: optimisers, strategies, losses, the estimator methods."""
