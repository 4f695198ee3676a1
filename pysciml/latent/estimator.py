"""``LatentODE``: a continuous-time VAE for irregular series (fit, encode, predict, forecast, sample, save).

z0 ~ q(z0 | series) from an encoder run backwards over the observations;
z(t) follows a learned autonomous ODE dz/dt = f(z) from the series' first
observed time; each observation is Gaussian around a decoder of z(t).
Training maximises the ELBO (Chen et al. 2018, Rubanova et al. 2019).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from ..errors import InputError
from ..plotting.latent import plot_samples_vs_data
from .base import LatentModel
from .config import LatentConfig, check_positive_float, check_positive_int, latent_solver, latent_step
from .data import Scaling, bucket, pad_rows, query_times

__all__ = ["LatentODE"]


class LatentODE(LatentModel):
    """A latent ODE: model, sample and extrapolate irregularly sampled series.

    Args:
        n_latent: latent dimension K (>= 1).
        encoder_hidden: GRU hidden size (and width of the encoder's ODE net).
        ode_hidden: width of the latent vector field f (two hidden tanh layers).
        decoder_hidden: width of the decoder's hidden layer; 0 = a linear decoder.
        encoder: ``"ode-rnn"`` (hidden state evolves by a learned ODE between observations)
            or ``"gru"`` (time gaps fed as an input).
        solver: method of the latent flow: ``"tsit5"`` (default), ``"dopri5"``, ``"dopri8"``
            or ``ps.Tsit5()``...; adaptive with ``rtol``/``atol``, at most ``max_steps`` steps;
            ``"euler"``: forward Euler with fixed steps ``dt`` (first order: a cheap solver whose
            error shows, see :meth:`with_solver`).
        dt: fixed step of the latent flow in model time units (the units of the series' times);
            None (default): adaptive steps. Needed by ``"euler"``; with another method it runs
            that method with fixed steps (``rtol``/``atol`` unused).
        encoder_steps: fixed steps of the encoder's ODE between two observations.
        noise_std: ``"learn"`` (default: one std per state, learned) or a fixed std in data
            units (a number, or one per state).
        time_scale: model-time units per network time unit; ``"auto"``: the median series
            span / 10.
        states: names of the observed states (default: from the data).
        seed: seed of the initial weights, minibatches and posterior samples.
        verbose: 0 silent, 1 a progress bar.
        engine: the engine that trains and runs it (default ``PYSCIML_ENGINE``, else jax).
    """

    PARAMS = (
        "n_latent",
        "encoder_hidden",
        "ode_hidden",
        "decoder_hidden",
        "encoder",
        "solver",
        "rtol",
        "atol",
        "max_steps",
        "dt",
        "encoder_steps",
        "noise_std",
        "time_scale",
        "states",
        "seed",
        "verbose",
        "engine",
    )

    def __init__(
        self,
        n_latent: int = 4,
        *,
        encoder_hidden: int = 32,
        ode_hidden: int = 32,
        decoder_hidden: int = 32,
        encoder: str = "ode-rnn",
        solver: Any = "tsit5",
        rtol: float = 1e-5,
        atol: float = 1e-7,
        max_steps: int = 4096,
        dt: float | None = None,
        encoder_steps: int = 2,
        noise_std: Any = "learn",
        time_scale: Any = "auto",
        states=None,
        seed: int = 0,
        verbose: int = 0,
        engine: str | None = None,
    ):
        self._check_common(
            n_latent,
            encoder_hidden,
            decoder_hidden,
            encoder,
            encoder_steps,
            noise_std,
            time_scale,
            states,
            seed,
            verbose,
            engine,
        )
        self.ode_hidden = check_positive_int(ode_hidden, "ode_hidden")
        method = latent_solver(solver)
        self.solver = method.name.lower()
        self.dt = latent_step(dt, method)
        self.rtol = check_positive_float(rtol, "rtol")
        self.atol = check_positive_float(atol, "atol")
        self.max_steps = check_positive_int(max_steps, "max_steps")

    def _make_config(self, scaling: Scaling, n_obs: int) -> LatentConfig:
        return LatentConfig(
            self.n_latent,
            self.encoder_hidden,
            self.ode_hidden,
            self.decoder_hidden,
            self.encoder,
            self.encoder_steps,
            latent_solver(self.solver),
            self.rtol,
            self.atol,
            self.max_steps,
            self._noise_scaled(scaling, n_obs),
            dt=None if self.dt is None else self.dt / scaling.time_scale,
        )

    def with_solver(self, solver: Any, *, dt: float | None = None, rtol=None, atol=None, max_steps=None):
        """A copy whose latent flow runs with another method; a fitted model keeps its weights (no retraining).

        Decode the same posterior with a cheap fixed-step solver and compare it with the adaptive one::

            exact = model.predict(t, y, t_new)
            coarse = model.with_solver("euler", dt=0.05).predict(t, y, t_new)

        Args:
            solver: as in the constructor (``"euler"``, ``"tsit5"``, ``ps.Dopri8()``...).
            dt: fixed step in model time units (needed by ``"euler"``; None: adaptive).
            rtol, atol, max_steps: the new step control (default: this model's).

        Returns:
            a new :class:`LatentODE` (fitted if this one is) with ``solver``, ``dt``... replaced.
        """
        other = copy.copy(self)
        method = latent_solver(solver)
        other.solver, other.dt = method.name.lower(), latent_step(dt, method)
        other.rtol = self.rtol if rtol is None else check_positive_float(rtol, "rtol")
        other.atol = self.atol if atol is None else check_positive_float(atol, "atol")
        other.max_steps = self.max_steps if max_steps is None else check_positive_int(max_steps, "max_steps")
        if hasattr(self, "config_"):
            other.config_ = dataclasses.replace(
                self.config_,
                solver=method,
                dt=None if other.dt is None else other.dt / self.scaling_.time_scale,
                rtol=other.rtol,
                atol=other.atol,
                max_steps=other.max_steps,
            )
            other.weights_ = list(self.weights_)
        return other

    def _check_steps(self, span: float) -> None:
        """A fixed-step flow must cover ``span`` model time units within ``max_steps`` steps."""
        if self.dt is not None and span / self.dt > self.max_steps:
            raise InputError(
                f"dt={self.dt:g} needs {int(np.ceil(span / self.dt))} steps to cover {span:g} model time units, "
                f"more than max_steps={self.max_steps}; raise max_steps (or dt).",
                argument="max_steps",
            )

    def predict(self, t, y, t_new, *, n_samples: int = 0, seed: int = 0, return_std: bool = False, condition=None):
        """Reconstruct / interpolate / extrapolate a series at times ``t_new`` from its observations.

        Args:
            t, y: the observed series ((n,), (n, D); NaN = missing), or lists of series.
            t_new: (m,) output model times (one array, or a list with one per series); times
                before the series' first observation are reached by solving the latent ODE
                backwards from there (extrapolation into the past: less reliable).
            n_samples: 0: decode the posterior mean of z0; > 0: average that many posterior samples.
            seed: seed of the posterior samples.
            return_std: also return the spread over posterior samples (needs n_samples >= 2).
            condition: a conditional model's condition: (n_condition,) for every series, or
                (n_series, n_condition) one per series.

        Returns:
            (m, D) predicted means in data units (a list for a list of series); with
            ``return_std``, ``(mean, std)``.
        """
        self._check_fitted()
        series, single = self._batch(t, y)
        n_samples = check_positive_int(n_samples, "n_samples", minimum=0)
        if return_std and n_samples < 2:
            raise InputError("return_std=True needs n_samples >= 2 posterior samples.", argument="n_samples")
        if single or not isinstance(t_new, (list, tuple)) or (len(t_new) and np.ndim(t_new[0]) == 0):
            queries = [query_times(t_new, "t_new")] * len(series)
        else:
            if len(t_new) != len(series):
                raise InputError(f"has {len(t_new)} time arrays for {len(series)} series.", argument="t_new")
            queries = [query_times(q, "t_new") for q in t_new]
        firsts = [ts[np.flatnonzero(~np.isnan(ys).all(axis=1))[0]] for ts, ys in series]
        self._check_steps(max(max(q[-1] - a, a - q[0]) for q, a in zip(queries, firsts)))
        eng = self._engine("decode_latent")
        T, Y, M = self._padded(series)
        C = self._conditions(condition, len(series), T.shape[0], "series")
        mean, std, t0 = eng.encode_latent(self.config_, self.weights_, T, Y, M, C)
        L = bucket(max(q.size for q in queries), 32)
        Q = np.stack([np.concatenate([q, np.full(L - q.size, q[-1])]) for q in queries])
        (Q,) = pad_rows(Q, rows=mean.shape[0])
        if n_samples == 0:
            z0 = mean[None]
        else:
            eps = np.random.default_rng(seed).standard_normal((n_samples,) + mean.shape)
            z0 = mean[None] + std[None] * eps
        x = eng.decode_latent(self.config_, self.weights_, self.n_states_, z0, t0, self.scaling_.times(Q), C)
        x = self.scaling_.unvalues(x)
        mu, sd = x.mean(axis=0), x.std(axis=0, ddof=1) if n_samples >= 2 else None
        out = [mu[i, : q.size] for i, q in enumerate(queries)]
        if not return_std:
            return out[0] if single else out
        assert sd is not None  # return_std needs n_samples >= 2 (checked above)
        sds = [sd[i, : q.size] for i, q in enumerate(queries)]
        return (out[0], sds[0]) if single else (out, sds)

    def forecast(self, t, y, horizon: float, *, n: int = 101, n_samples: int = 0, seed: int = 0, condition=None):
        """Extrapolate ``horizon`` model-time units past a series' last observed time (``condition`` as in
        :meth:`predict`).

        Returns:
            ``(t_new (n,), y_new (n, D))`` for one series (lists of them for a list of series).
        """
        self._check_fitted()
        horizon = check_positive_float(horizon, "horizon")
        n = check_positive_int(n, "n", minimum=2)
        series, single = self._batch(t, y)
        grids = [np.linspace(ts[-1], ts[-1] + horizon, n) for ts, _ in series]
        ts_list = [s[0] for s in series]
        ys_list = [s[1] for s in series]
        pred = self.predict(ts_list, ys_list, grids, n_samples=n_samples, seed=seed, condition=condition)
        return (grids[0], pred[0]) if single else (grids, pred)

    def plot(self, t, y, t_new=None, *, n_samples: int = 16, n_prior: int = 5, seed: int = 0, ax=None, condition=None):
        """Draw one series against the model: its posterior mean +/- 2 sd and prior samples.

        Args:
            t, y: one observed series, ``(n,)`` and ``(n, D)`` (NaN = missing).
            t_new: query times (default: 200 points over the series' range).
            n_samples: posterior samples for the spread (0: the mean only).
            n_prior: prior samples to draw (0: none).
            seed: seed of the samples.
            ax: an Axes (or one per state) to draw into.
            condition: a conditional model's condition of the series (and of the prior samples).

        Returns:
            ``(fig, axes)`` (matplotlib, the ``plot`` extra).
        """
        self._check_fitted()
        t_arr = np.asarray(t, dtype=float)
        t_new = np.linspace(t_arr[0], t_arr[-1], 200) if t_new is None else np.asarray(t_new, dtype=float)
        if n_samples >= 2:
            mean, std = self.predict(t, y, t_new, n_samples=n_samples, seed=seed, return_std=True, condition=condition)
        else:
            mean, std = self.predict(t, y, t_new, n_samples=n_samples, seed=seed, condition=condition), None
        prior = self.sample(t_new, n_prior, seed=seed + 1, condition=condition) if n_prior else None
        y_arr = np.asarray(y, dtype=float).reshape(len(t_arr), -1)
        return plot_samples_vs_data(
            list(self.state_names_),
            t_arr,
            y_arr,
            t_new,
            np.asarray(mean),
            std=None if std is None else np.asarray(std),
            prior=prior,
            ax=ax,
        )
