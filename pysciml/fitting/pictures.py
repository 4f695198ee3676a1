"""What a fitted model shows: data against the fit, the loss history, an HTML summary.

The estimator's ``plot``, ``plot_loss`` and ``_repr_html_`` call these; the drawing itself
is :mod:`pysciml.plotting.fit`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.ingest import as_observations
from ..display import html_card, html_table
from ..errors import InputError
from ..plotting.fit import plot_data_and_fit, plot_loss_history

__all__ = ["fit_picture", "loss_picture", "fit_html", "band_draws"]


def _time_label(model) -> str:
    units = getattr(model, "time_units", None)
    return f"time ({units})" if units else "time"


def band_draws(model, t: np.ndarray, n_draws: int, trajectory: int, seed: int = 0):
    """5 % and 95 % quantiles of trajectories with the scalar parameters drawn from their
    Laplace standard errors (independently), or None when the fit has no standard errors."""
    stds = {k: float(s) for k, s in model.param_std_.items() if np.ndim(s) == 0 and np.isfinite(s) and s > 0}
    if not stds or n_draws < 2:
        return None
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(n_draws):
        params = {k: model.params_[k] + s * rng.standard_normal() for k, s in stds.items()}
        ds = model.predict(t, trajectory=trajectory, params=params)
        runs.append(np.stack([ds[s].values for s in model.state_names], axis=1))
    runs = np.array(runs)
    ok = np.isfinite(runs).all(axis=(1, 2))
    if ok.sum() < 2:
        return None
    return np.quantile(runs[ok], 0.05, axis=0), np.quantile(runs[ok], 0.95, axis=0)


def fit_picture(
    model,
    data: Any = None,
    *,
    horizon: float | None = None,
    bands: bool = True,
    n_draws: int = 30,
    trajectory: int = 0,
    n: int = 200,
    ax=None,
):
    """Draw ``data`` (default: the training data) against the fitted model; ``(fig, axes)``.

    See ``model.plot`` for the arguments.
    """
    model._check_fitted()
    if horizon is not None and not (isinstance(horizon, (int, float)) and horizon > 0):
        raise InputError(f"must be a positive number of model-time units, got {horizon!r}.", argument="horizon")
    if not isinstance(n_draws, int) or n_draws < 0:
        raise InputError(f"must be a non-negative integer, got {n_draws!r}.", argument="n_draws")
    obs = model.observations_ if data is None else as_observations(data, states=model, time_units=model.time_units)
    if not 0 <= trajectory < len(obs):
        raise InputError(f"must be in [0, {len(obs) - 1}], got {trajectory}.", argument="trajectory")
    tr = obs[trajectory]
    fitted_tr = min(trajectory, len(model.observations_) - 1)
    start = float(model.observations_[fitted_tr].t[0])
    end = float(tr.t[-1]) + (float(horizon) if horizon else 0.0)
    t = np.linspace(start, end, int(n))
    ds = model.predict(t, trajectory=fitted_tr)
    y_fit = np.stack([ds[s].values for s in model.state_names], axis=1)
    band = band_draws(model, t, n_draws, fitted_tr) if bands else None
    return plot_data_and_fit(
        list(model.state_names),
        tr.t,
        tr.y,
        t,
        y_fit,
        band=band,
        forecast_from=float(tr.t[-1]) if horizon else None,
        time_label=_time_label(model),
        title=f"{model.name}: {model.status_.name.lower()}, loss {model.loss_:.3g}",
        ax=ax,
    )


def loss_picture(model, *, ax=None):
    """Draw the fitted model's loss history (stages, rejected steps); ``(fig, [ax])``."""
    model._check_fitted()
    return plot_loss_history(
        model.loss_history_, model.phases_, model.events_, title=f"{model.name}: {model.message_}", ax=ax
    )


def fit_html(model) -> str:
    """An HTML card: status, loss, and the parameters with their standard errors."""
    if not hasattr(model, "params_"):
        return html_card(f"{type(model).__name__} {model.name!r} (not fitted)", [f"states: {list(model.state_names)}"])
    rows = []
    for k, v in model.params_.items():
        std = model.param_std_.get(k)
        if np.ndim(v) == 0:
            rows.append((k, f"{v:.6g}", f"{std:.3g}" if std is not None else "fixed"))
        else:
            rows.append((k, f"array {np.shape(v)}", "" if std is None else f"mean {np.mean(std):.3g}"))
    n_rej = sum(1 for e in model.events_ if e["kind"] == "rejected-step")
    lines = [
        model.message_,
        f"loss {model.loss_:.6g} after {model.n_iter_} steps ({model.fit_seconds_:.1f} s); engine {model.engine_}"
        + (f"; {n_rej} rejected steps" if n_rej else ""),
    ]
    if model.networks:
        lines.append("networks: " + ", ".join(model.networks))
    return html_card(
        f"{type(model).__name__} {model.name!r}: {model.status_.name}",
        lines,
        [html_table(["parameter", "value", "standard error"], rows)],
    )
