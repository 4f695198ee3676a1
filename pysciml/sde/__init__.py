"""Stochastic differential equations: the model (:mod:`.spec`), solving (:mod:`.solving`),
the many-path solution (:mod:`.solution`) and fitting to observed paths (:mod:`.fitting`)."""
