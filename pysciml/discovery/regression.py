"""Sequentially thresholded least squares (STLSQ), in numpy, with a threshold path.

What ``threshold`` means (``normalize=True``, the default).  Each library
column is scaled to unit root-mean-square over the samples, and so is each
target.  On that scaled problem a coefficient is the share of the target's
RMS that its term carries: ``0.05`` means "5 % of the output's size".  A term
is dropped when

1. its scaled coefficient is below ``threshold`` (classic STLSQ), or, with
   ``prune`` on (the default),
2. its *unique share* is below ``threshold`` (or below ``prune`` when that is
   a number): ``sqrt(RSS without the term - RSS with it)`` after refitting the
   other kept terms, over ``sqrt(n)`` times the RMS of the target, i.e. by how
   much (in quadrature) the RMS error would rise, as a share of the output,
   if the term were left out.  It equals the scaled coefficient when the
   columns are orthogonal and is smaller when they are correlated.

Why rule 2: library columns evaluated along one trajectory are strongly
correlated (prey and prey^2 move together), and the error of a slightly wrong
network is itself a smooth function of the inputs, which correlated terms fit
with large, partly cancelling coefficients that survive rule 1.  On the
Lotka-Volterra interaction with a network error of e% of the output's RMS
(plus 1 % noise, 40 draws), ``threshold=0.05`` returned exactly the
``prey*predator`` terms in 40/40 draws up to e = 5 with rule 2 and 7/40 at
e = 5 without it; ``0.1`` with rule 2 in 40/40 up to e = 10 (6/40 without).
The price: a true term that is strongly correlated with others can carry a
small unique share.  In the Lorenz system's ``y' = 28x - xz - y`` the ``-y``
term has a scaled coefficient of 0.14 but a unique share of 0.048 along the
attractor (x and y correlate at 0.86), so ``threshold=0.05`` drops it;
``threshold=0.04`` or ``prune=0.02`` keep it.  Terms are pruned one at a
time, smallest share first, re-thresholding after each.

The kept terms are then refit by ordinary least squares and returned in the
original (unscaled) units.  With ``normalize=False`` the threshold applies to
the raw coefficients (textbook STLSQ) and rule 2 is not used.

``threshold="auto"`` runs a path of thresholds and picks a support per target
by the knee of the error-versus-number-of-terms curve (``"knee"``) or an
information criterion (``"bic"``, ``"aic"``).  BIC and AIC assume independent
errors; the error of a network is smooth and correlated, and they then keep
spurious terms, so the knee is the default.
"""

from __future__ import annotations

import numbers
from typing import Literal, overload

import numpy as np

from ..errors import InputError

__all__ = ["stlsq", "CRITERIA", "DEFAULT_THRESHOLD"]

#: Criteria accepted by ``threshold="auto"``.
CRITERIA = ("bic", "aic", "knee")
#: Default threshold: a term must carry at least 5 % of the output's RMS on its own.
DEFAULT_THRESHOLD = 0.05
# relative RMS errors below this are treated as equal (round-off), so that on
# exact data the information criteria compare supports by size alone
_ERROR_FLOOR = 1e-9


def as_matrix(a, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"could not read as numbers ({type(a).__name__}); pass a numeric array.", argument=name
        ) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"must be 2-D (n_samples, n_columns), got shape {arr.shape}.", argument=name)
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"is empty (shape {arr.shape}); pass at least one sample and one column.", argument=name)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise InputError(
            f"has {bad.sum()} NaN or infinite entries (in {rows.size} samples, first at row {rows[0]}); "
            "drop those samples before discovery, e.g. keep = np.isfinite(X).all(1) & np.isfinite(Y).all(1).",
            argument=name,
        )
    return arr


def check_threshold(threshold, n_targets: int, argument: str = "threshold"):
    """Validate ``threshold``: ``"auto"``, a number >= 0, or one number per target."""
    if isinstance(threshold, str):
        if threshold != "auto":
            raise InputError(f"must be a number >= 0 or 'auto', got {threshold!r}.", argument=argument)
        return "auto"
    try:
        arr = np.asarray(threshold, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"must be a number >= 0 or 'auto', got {threshold!r}.", argument=argument) from None
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size != n_targets):
        raise InputError(
            f"has shape {arr.shape}; give one number, 'auto', or one number per output ({n_targets}).",
            argument=argument,
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError(
            f"must be finite and >= 0, got {threshold!r}; it is the smallest share of an output's RMS "
            f"that a term must carry (default {DEFAULT_THRESHOLD}).",
            argument=argument,
        )
    return np.broadcast_to(arr, (n_targets,)).copy()


def check_prune(prune: bool | float | None) -> bool | float | None:
    """``True`` (prune at the threshold), ``None`` (off) or a share >= 0."""
    if prune is None or isinstance(prune, (bool, np.bool_)):
        return True if prune else None
    if isinstance(prune, numbers.Real) and np.isfinite(prune) and prune >= 0:
        return float(prune)
    raise InputError(f"must be True, False or a share >= 0 (e.g. 0.02), got {prune!r}.", argument="prune")


def check_options(alpha: float, max_iter: int, criterion: str) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) or alpha < 0:
        raise InputError(
            f"must be a finite number >= 0 (ridge strength on the scaled problem), got {alpha!r}.", argument="alpha"
        )
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise InputError(f"must be a positive integer, got {max_iter!r}.", argument="max_iter")
    if criterion not in CRITERIA:
        raise InputError(f"must be one of {CRITERIA}, got {criterion!r}.", argument="criterion")


def _ridge(G, c, keep, alpha):
    idx = np.nonzero(keep)[0]
    xi = np.zeros(len(c))
    if idx.size:
        Gs = G[np.ix_(idx, idx)] + alpha * np.eye(idx.size)
        xi[idx] = np.linalg.lstsq(Gs, c[idx], rcond=None)[0]
    return xi


def _unique_shares(G, c, keep, alpha):
    """``sqrt((RSS without j - RSS) / n)`` for each kept j, on the scaled problem."""
    idx = np.nonzero(keep)[0]
    Gs = G[np.ix_(idx, idx)] + max(alpha, 1e-12) * np.eye(idx.size)
    inv = np.linalg.pinv(Gs, hermitian=True)
    xi = inv @ c[idx]
    share = np.full(len(c), np.inf)
    share[idx] = np.abs(xi) / np.sqrt(np.maximum(np.diag(inv), 1e-300))
    return share


def _select(G, c, active, thr, alpha, max_iter, prune) -> np.ndarray:
    """The support chosen by thresholding at ``thr`` and pruning at share ``prune`` (None: no pruning)."""
    keep = active.copy()
    for _ in range(max_iter + int(active.sum())):
        xi = _ridge(G, c, keep, alpha)
        new = keep & (np.abs(xi) >= thr)
        if prune is not None and new.any() and np.array_equal(new, keep):
            share = _unique_shares(G, c, new, alpha)
            j = int(np.argmin(share))
            if share[j] < (thr if prune is True else prune):
                new[j] = False
        if np.array_equal(new, keep):
            break
        keep = new
    return keep


def _refit(A, b, keep):
    """Ordinary least squares on the kept columns; coefficients and relative RMS error."""
    xi = np.zeros(A.shape[1])
    if keep.any():
        xi[keep] = np.linalg.lstsq(A[:, keep], b, rcond=None)[0]
    resid = b - A @ xi
    return xi, float(np.sqrt(np.mean(resid**2)))


def _score(err, k, n, criterion):
    e2 = max(err, _ERROR_FLOOR) ** 2
    return n * np.log(e2) + (k * np.log(n) if criterion == "bic" else 2 * k)


def _knee(points):
    """Index of the path entry at the knee of log-error versus number of terms."""
    ks = np.array([p["n_terms"] for p in points], dtype=float)
    le = np.log10(np.maximum([p["rmse"] for p in points], _ERROR_FLOOR))
    # best error for each size, and the curve's end points
    if ks.max() == ks.min() or le.max() == le.min():
        return int(np.argmin(ks))
    x = (ks - ks.min()) / (ks.max() - ks.min())
    y = (le - le.min()) / (le.max() - le.min())
    i0, i1 = int(np.argmin(ks)), int(np.argmax(ks))
    # distance below the chord from the sparsest to the densest entry
    dx, dy = x[i1] - x[i0], y[i1] - y[i0]
    dist = (dx * (y[i0] - y) - dy * (x[i0] - x)) / np.hypot(dx, dy)
    return int(np.argmax(dist))


@overload
def stlsq(
    Theta,
    Y,
    threshold=...,
    *,
    alpha: float = ...,
    max_iter: int = ...,
    normalize: bool = ...,
    prune: bool | float = ...,
    thresholds=...,
    criterion: str = ...,
    return_path: Literal[False] = ...,
) -> np.ndarray: ...
@overload
def stlsq(
    Theta,
    Y,
    threshold=...,
    *,
    alpha: float = ...,
    max_iter: int = ...,
    normalize: bool = ...,
    prune: bool | float = ...,
    thresholds=...,
    criterion: str = ...,
    return_path: Literal[True],
) -> tuple[np.ndarray, list[dict]]: ...
def stlsq(
    Theta,
    Y,
    threshold=DEFAULT_THRESHOLD,
    *,
    alpha: float = 1e-5,
    max_iter: int = 25,
    normalize: bool = True,
    prune: bool | float = True,
    thresholds=None,
    criterion: str = "knee",
    return_path: bool = False,
) -> np.ndarray | tuple[np.ndarray, list[dict]]:
    """Sparse coefficients ``Xi`` with ``Y ≈ Theta @ Xi``, by sequentially thresholded least squares.

    Args:
        Theta: library matrix, (n_samples, n_features).
        Y: targets, (n_samples,) or (n_samples, n_targets).
        threshold: smallest share of a target's RMS a term must carry (see the
            module doc), a number >= 0, one number per target, or ``"auto"``.
        alpha: ridge strength of the thresholding iterations, on the scaled
            problem (the final refit is plain least squares).
        max_iter: most thresholding iterations.
        normalize: scale columns and targets to unit RMS before thresholding.
        prune: rule 2 of the module doc: ``True`` drops terms whose unique
            share is below ``threshold``, a number drops those below that
            number instead, ``False`` turns it off (textbook STLSQ).  Only
            with ``normalize=True``.
        thresholds: the path tried by ``"auto"`` (default 41 values
            geometrically spaced from 1e-4 to 1, plus 0).
        criterion: how ``"auto"`` picks a support: ``"knee"``, ``"bic"`` or ``"aic"``.
        return_path: also return, per target, the dict
            ``{"threshold": float, "path": [...]}`` with one entry per distinct
            support tried (``threshold``, ``n_terms``, ``terms`` (column
            indices), ``rmse`` relative to the target's RMS, ``score``).

    Returns:
        ``Xi`` (n_features, n_targets) in the original units ((n_features,) for
        a 1-D ``Y``), or ``(Xi, info)``.
    """
    Theta = as_matrix(Theta, "Theta")
    vector = np.ndim(Y) == 1
    Y = as_matrix(Y, "Y")
    if Theta.shape[0] != Y.shape[0]:
        raise InputError(
            f"has {Y.shape[0]} samples but Theta has {Theta.shape[0]}; pass one row per sample in both.",
            argument="Y",
        )
    check_options(alpha, max_iter, criterion)
    pruning = check_prune(prune)
    thr = check_threshold(threshold, Y.shape[1])
    n, p = Theta.shape
    if normalize:
        col = np.sqrt(np.mean(Theta**2, axis=0))
        tgt = np.sqrt(np.mean(Y**2, axis=0))
    else:
        col, tgt = np.ones(p), np.ones(Y.shape[1])
        pruning = None
    active = col > 0
    col = np.where(active, col, 1.0)
    A = Theta / col
    G = A.T @ A / n
    if isinstance(thr, str):
        grid = (
            np.concatenate([[0.0], np.geomspace(1e-4, 1.0, 41)])
            if thresholds is None
            else np.sort(
                check_threshold(np.asarray(thresholds, dtype=float).ravel(), np.size(thresholds), "thresholds")
            )
        )
    Xi = np.zeros((p, Y.shape[1]))
    infos = []
    for k in range(Y.shape[1]):
        if tgt[k] == 0:
            infos.append({"threshold": 0.0 if isinstance(thr, str) else float(thr[k]), "path": []})
            continue
        b = Y[:, k] / tgt[k]
        c = A.T @ b / n
        if isinstance(thr, str):
            chosen, info = _auto(A, b, G, c, active, grid, alpha, max_iter, pruning, criterion)
        else:
            chosen = _select(G, c, active, thr[k], alpha, max_iter, pruning)
            info = {"threshold": float(thr[k]), "path": []}
        xi, _ = _refit(A, b, chosen)
        Xi[:, k] = xi * tgt[k] / col
        infos.append(info)
    if vector:
        Xi = Xi[:, 0]
    return (Xi, infos) if return_path else Xi


def _auto(A, b, G, c, active, grid, alpha, max_iter, prune, criterion):
    n = A.shape[0]
    path, seen = [], {}
    for t in grid:
        keep = _select(G, c, active, t, alpha, max_iter, prune)
        key = tuple(np.nonzero(keep)[0])
        if key in seen:
            continue
        _, err = _refit(A, b, keep)
        seen[key] = len(path)
        path.append({"threshold": float(t), "n_terms": len(key), "terms": list(map(int, key)), "rmse": err})
    if () not in seen:  # the empty model anchors the error curve
        path.append({"threshold": float("inf"), "n_terms": 0, "terms": [], "rmse": 1.0})
    for entry in path:
        entry["score"] = float(_score(entry["rmse"], entry["n_terms"], n, criterion)) if criterion != "knee" else None
    if criterion == "knee":
        best = _knee(path)
    else:
        scores = np.array([e["score"] for e in path])
        ties = np.nonzero(scores <= scores.min() + 1e-9 * abs(scores.min()))[0]
        best = int(min(ties, key=lambda i: path[i]["n_terms"]))
    chosen = np.zeros(A.shape[1], dtype=bool)
    chosen[path[best]["terms"]] = True
    return chosen, {"threshold": path[best]["threshold"], "criterion": criterion, "selected": best, "path": path}
