"""Bootstrap STLSQ: how often each term is selected when the samples are resampled."""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import InputError
from .regression import DEFAULT_THRESHOLD, as_matrix, stlsq

__all__ = ["bootstrap"]


def bootstrap(Theta, Y, threshold=DEFAULT_THRESHOLD, *, n_models: int = 100, seed: int = 0, **options):
    """Inclusion probabilities of each term over STLSQ fits on bootstrap resamples.

    Each of ``n_models`` fits uses ``n_samples`` rows drawn with replacement.
    A term picked in (nearly) every resample is well supported; one picked in
    about half is a coin toss at this threshold.

    Args:
        Theta: library matrix, (n_samples, n_features).
        Y: targets, (n_samples,) or (n_samples, n_targets).
        threshold: as in :func:`stlsq` (a number or one per target; not ``"auto"``).
        n_models: number of resamples.
        seed: seed of the resampling.
        **options: passed on to :func:`stlsq` (``alpha``, ``normalize``, ``prune``...).

    Returns:
        ``(inclusion, median)``: both (n_features, n_targets); ``inclusion`` the
        fraction of resamples that kept each term, ``median`` its median
        coefficient over the resamples that kept it (0 where none did).
    """
    if isinstance(threshold, str):
        raise InputError("must be a number (or one per output) for bootstrap, not 'auto'.", argument="threshold")
    if isinstance(n_models, bool) or not isinstance(n_models, numbers.Integral) or n_models < 2:
        raise InputError(f"must be an integer >= 2, got {n_models!r}.", argument="n_models")
    Theta = as_matrix(Theta, "Theta")
    Y = as_matrix(Y, "Y")
    if Theta.shape[0] != Y.shape[0]:
        raise InputError(f"has {Y.shape[0]} samples but Theta has {Theta.shape[0]}.", argument="Y")
    rng = np.random.default_rng(seed)
    n = Theta.shape[0]
    coefs = np.empty((n_models, Theta.shape[1], Y.shape[1]))
    for r in range(n_models):
        rows = rng.integers(0, n, size=n)
        coefs[r] = stlsq(Theta[rows], Y[rows], threshold, **options).reshape(coefs.shape[1:])
    kept = coefs != 0
    inclusion = kept.mean(axis=0)
    median = np.zeros(inclusion.shape)
    for j, k in zip(*np.nonzero(kept.any(axis=0))):
        median[j, k] = np.median(coefs[kept[:, j, k], j, k])
    return inclusion, median
