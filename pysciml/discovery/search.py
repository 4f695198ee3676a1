"""``discover``: sparse regression of a network's outputs on a candidate library."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from ..errors import InputError
from .equations import Equations
from .expressions import check_names
from .libraries import Library, Polynomial, default_names
from .regression import (
    DEFAULT_THRESHOLD,
    as_matrix,
    check_options,
    check_prune,
    check_threshold,
    stlsq,
)

__all__ = ["discover", "fit_quality"]


def fit_quality(Y: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column R² (nan for a constant target) and RMSE of ``pred`` against ``Y``."""
    resid = Y - pred
    rmse = np.sqrt(np.mean(resid**2, axis=0))
    ss_res = np.sum(resid**2, axis=0)
    ss_tot = np.sum((Y - Y.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)
    return r2, rmse


def discover(
    X,
    Y,
    *,
    input_names: Sequence[str] | None = None,
    output_name: str = "nn",
    library: Library | None = None,
    threshold=DEFAULT_THRESHOLD,
    alpha: float = 1e-5,
    max_iter: int = 25,
    normalize: bool = True,
    prune: bool | float = True,
    criterion: str = "knee",
    thresholds=None,
    model=None,
    network: str | None = None,
) -> Equations:
    """Sparse equations ``Y ≈ library(X) @ Xi`` for a network's outputs.

    Args:
        X: network inputs, (n_samples, n_inputs) (e.g. the states along the
            fitted trajectories).
        Y: network outputs at those inputs, (n_samples, n_outputs) or (n_samples,).
        input_names: names of the inputs, used in the equations (default ``x0, x1, ...``).
        output_name: name printed for the outputs (``nn[0] = ...``); usually the network's name.
        library: candidate features (default ``Polynomial(degree=2)``, bias included).
        threshold: smallest share of an output's RMS that a term must carry on
            its own to be kept (0.05 = 5 %; see :mod:`pysciml.discovery.regression`),
            one number per output, or ``"auto"`` to choose along a threshold path.
        alpha: ridge strength used while thresholding (scaled problem).
        max_iter: most thresholding iterations.
        normalize: threshold on the problem scaled to unit-RMS columns and outputs.
        prune: also drop terms whose *unique* share (how much the RMS error
            rises when the term is removed and the others refit) is below the
            threshold (``True``), below a given share (a number), or never (``False``).
        criterion: ``"knee"`` (default), ``"bic"`` or ``"aic"``: how ``"auto"`` picks.
        thresholds: the path tried by ``"auto"``.
        model, network: the ``ODEModel`` and network name the outputs came from,
            so that ``to_model()`` works without arguments.

    Returns:
        :class:`Equations`.
    """
    X = as_matrix(X, "X")
    Y = as_matrix(Y, "Y")
    if X.shape[0] != Y.shape[0]:
        raise InputError(
            f"has {Y.shape[0]} samples but X has {X.shape[0]}; pass the network's outputs at the same samples "
            "as its inputs (one row each).",
            argument="Y",
        )
    if input_names is None:
        input_names = default_names(X.shape[1])
    names = check_names(input_names)
    if len(names) != X.shape[1]:
        raise InputError(
            f"has {len(names)} names {list(names)} but X has {X.shape[1]} columns; give one name per input.",
            argument="input_names",
        )
    if library is None:
        library = Polynomial(2)
    if not isinstance(library, Library):
        raise InputError(
            f"must be a pysciml library (Polynomial, Fourier, Custom, or their sums/products), got "
            f"{type(library).__name__}.",
            argument="library",
        )
    if not isinstance(output_name, str) or not output_name:
        raise InputError(f"must be a non-empty string, got {output_name!r}.", argument="output_name")
    check_threshold(threshold, Y.shape[1])
    check_options(alpha, max_iter, criterion)
    check_prune(prune)
    feats = library.features(names)
    if not feats:
        raise InputError(f"{library!r} has no features for inputs {list(names)}; add terms.", argument="library")
    with np.errstate(all="ignore"):  # non-finite features are reported just below
        Theta = library.evaluate(X, names)
    bad = cast(np.ndarray, ~np.isfinite(Theta).all(axis=0))  # one flag per feature (Theta is 2-D)
    if bad.any():
        raise InputError(
            f"features {[f.name for f, b in zip(feats, bad) if b]} are NaN or infinite on the data "
            "(log of a negative number? division by zero?); remove them from the library.",
            argument="library",
        )
    Xi, infos = stlsq(
        Theta,
        Y,
        threshold,
        alpha=alpha,
        max_iter=max_iter,
        normalize=normalize,
        prune=prune,
        thresholds=thresholds,
        criterion=criterion,
        return_path=True,
    )
    r2, rmse = fit_quality(Y, Theta @ Xi)
    auto = isinstance(threshold, str)
    return Equations(
        feats,
        Xi,
        input_names=names,
        output_name=output_name,
        r2=r2,
        rmse=rmse,
        thresholds=[info["threshold"] for info in infos],
        path=[info for info in infos] if auto else None,
        n_samples=X.shape[0],
        library=repr(library),
        options={
            "alpha": alpha,
            "max_iter": max_iter,
            "normalize": normalize,
            "prune": prune,
            "threshold": threshold if auto else np.asarray(threshold, dtype=float).tolist(),
            "criterion": criterion,
        },
        model=model,
        network=network,
    )
