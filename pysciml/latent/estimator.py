"""``LatentODE``: a continuous-time VAE for irregular series (fit, encode, predict, forecast, sample, save).

z0 ~ q(z0 | series) from an encoder run backwards over the observations;
z(t) follows a learned autonomous ODE dz/dt = f(z) from the series' first
observed time; each observation is Gaussian around a decoder of z(t).
Training maximises the ELBO (Chen et al. 2018, Rubanova et al. 2019).
"""

from __future__ import annotations

import time as _time
from typing import Any

import numpy as np

from ..data.timeaxis import TimeMeta
from ..data.trajectory import Observations, Trajectory
from ..engines.registry import engine_name, get_engine
from ..engines.requests import FitHooks, LatentTrainRequest
from ..errors import InputError
from ..fitting.estimator import NotFittedError, progress_bar
from ..plotting.latent import plot_samples_vs_data
from ..status import Status
from .config import (
    ENCODERS,
    LatentConfig,
    check_positive_float,
    check_positive_int,
    latent_solver,
)
from .data import (
    Scaling,
    bucket,
    pad_rows,
    padded_arrays,
    query_series,
    query_times,
    read_series,
)
from .saved_model import read_latent, save_latent

__all__ = ["LatentODE"]


class LatentODE:
    """A latent ODE: model, sample and extrapolate irregularly sampled series.

    Args:
        n_latent: latent dimension K (>= 1).
        encoder_hidden: GRU hidden size (and width of the encoder's ODE net).
        ode_hidden: width of the latent vector field f (two hidden tanh layers).
        decoder_hidden: width of the decoder's hidden layer; 0 = a linear decoder.
        encoder: ``"ode-rnn"`` (hidden state evolves by a learned ODE between observations)
            or ``"gru"`` (time gaps fed as an input).
        solver: method of the latent flow: ``"tsit5"`` (default), ``"dopri5"``, ``"dopri8"``
            or ``ps.Tsit5()``...; adaptive with ``rtol``/``atol``, at most ``max_steps`` steps.
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
        encoder_steps: int = 2,
        noise_std: Any = "learn",
        time_scale: Any = "auto",
        states=None,
        seed: int = 0,
        verbose: int = 0,
        engine: str | None = None,
    ):
        self.n_latent = check_positive_int(n_latent, "n_latent")
        self.encoder_hidden = check_positive_int(encoder_hidden, "encoder_hidden")
        self.ode_hidden = check_positive_int(ode_hidden, "ode_hidden")
        self.decoder_hidden = check_positive_int(decoder_hidden, "decoder_hidden", minimum=0)
        if encoder not in ENCODERS:
            raise InputError(f"unknown encoder {encoder!r}; use one of {list(ENCODERS)}.", argument="encoder")
        self.encoder = encoder
        self.solver = latent_solver(solver).name.lower()
        self.rtol = check_positive_float(rtol, "rtol")
        self.atol = check_positive_float(atol, "atol")
        self.max_steps = check_positive_int(max_steps, "max_steps")
        self.encoder_steps = check_positive_int(encoder_steps, "encoder_steps")
        if isinstance(noise_std, str):
            if noise_std != "learn":
                raise InputError(
                    f"must be 'learn' or a positive std in data units, got {noise_std!r}.", argument="noise_std"
                )
        else:
            arr = np.asarray(noise_std, dtype=float) if np.asarray(noise_std).dtype.kind in "iuf" else None
            if arr is None or arr.ndim > 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise InputError(
                    f"must be 'learn' or a positive std in data units (one number or one per "
                    f"state), got {noise_std!r}.",
                    argument="noise_std",
                )
            noise_std = arr.tolist()
        self.noise_std = noise_std
        if not (isinstance(time_scale, str) and time_scale == "auto"):
            time_scale = check_positive_float(time_scale, "time_scale")
        self.time_scale = time_scale
        if states is not None and (isinstance(states, str) or not all(isinstance(s, str) for s in states)):
            raise InputError(f"must be a list of state names, got {states!r}.", argument="states")
        if states is not None and len(set(states)) != len(tuple(states)):
            raise InputError(f"names a state more than once: {list(states)}.", argument="states")
        self.states = None if states is None else tuple(states)
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise InputError(f"must be an integer, got {seed!r}.", argument="seed")
        self.seed = int(seed)
        if not isinstance(verbose, (int, bool)):
            raise InputError(f"must be an integer (0 = silent), got {verbose!r}.", argument="verbose")
        self.verbose = int(verbose)
        engine_name(engine)  # a clear error for an unknown name, now
        self.engine = engine

    def _engine(self, operation: str):
        return get_engine(self.engine, operation=operation)

    def get_params(self, deep: bool = False) -> dict:
        """Constructor arguments (scikit-learn convention)."""
        return {
            k: getattr(self, k)
            for k in (
                "n_latent",
                "encoder_hidden",
                "ode_hidden",
                "decoder_hidden",
                "encoder",
                "solver",
                "rtol",
                "atol",
                "max_steps",
                "encoder_steps",
                "noise_std",
                "time_scale",
                "states",
                "seed",
                "verbose",
                "engine",
            )
        }

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"LatentODE({args})"

    # -- fitting -------------------------------------------------------------------------
    def _make_config(self, scaling: Scaling, n_obs: int) -> LatentConfig:
        noise = None
        if self.noise_std != "learn":
            arr = (
                np.broadcast_to(np.asarray(self.noise_std, float), (n_obs,))
                if np.ndim(self.noise_std) == 0
                else np.asarray(self.noise_std, float)
            )
            if arr.shape != (n_obs,):
                raise InputError(f"has {arr.size} values but the data has {n_obs} states.", argument="noise_std")
            noise = tuple(float(v) for v in arr / scaling.scale)
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
            noise,
        )

    def fit(
        self,
        data: Any,
        *,
        steps: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        kl_anneal: float = 0.3,
        n_samples: int = 1,
        clip: float = 1.0,
        warm_start: bool = False,
        time_dim: str | None = None,
        series_dim: str | None = None,
        time_units: str | None = None,
    ):
        """Train by maximising the ELBO (KL weight annealed from 0 to 1).

        Args:
            data: a list of ``(t, y)`` series (t: (n_t,) model times, strictly increasing;
                y: (n_t,) or (n_t, D); NaN = missing), or an xarray Dataset / DataArray with a
                time dimension and a series dimension.
            steps: Adam steps (cosine-decayed learning rate).
            batch_size: series per step (padded and masked to one shape).
            learning_rate: peak learning rate.
            kl_anneal: fraction of ``steps`` over which the KL weight rises linearly to 1
                (0: full weight from the start).
            n_samples: posterior samples of z0 per series and step.
            clip: gradient-norm clip.
            warm_start: continue from the current weights (same data layout) instead of fresh ones.
            time_dim, series_dim: xarray dimension names (default: detected).
            time_units: model time units for calendar time axes ("days"...).

        Returns:
            ``self`` with ``weights_``, ``history_``, ``elbo_``, ``noise_std_``, ``scaling_``,
            ``observations_``, ``status_``, ``fit_seconds_``...
        """
        steps = check_positive_int(steps, "steps")
        batch_size = check_positive_int(batch_size, "batch_size")
        learning_rate = check_positive_float(learning_rate, "learning_rate")
        n_samples = check_positive_int(n_samples, "n_samples")
        clip = check_positive_float(clip, "clip")
        if not (isinstance(kl_anneal, (int, float)) and not isinstance(kl_anneal, bool) and 0 <= kl_anneal <= 1):
            raise InputError(f"must be a fraction of the steps in [0, 1], got {kl_anneal!r}.", argument="kl_anneal")
        if warm_start and not hasattr(self, "weights_"):
            raise NotFittedError("warm_start=True needs a fitted model; fit once without it.", argument="warm_start")
        obs = read_series(data, states=self.states, time_dim=time_dim, series_dim=series_dim, time_units=time_units)
        if warm_start:
            if obs.state_names != self.state_names_:
                raise InputError(
                    f"the data has states {list(obs.state_names)}, the fitted model {list(self.state_names_)}.",
                    argument="data",
                )
            scaling = self.scaling_
        else:
            scaling = self._scaling(obs)
        cfg = self.config_ if warm_start else self._make_config(scaling, obs.n_states)
        T, Y, M = padded_arrays(obs, scaling)
        eng = self._engine("train_latent")
        bar, update = progress_bar(steps, self.verbose)
        t0 = _time.perf_counter()
        try:
            res = eng.train_latent(
                LatentTrainRequest(
                    cfg,
                    T,
                    Y,
                    M,
                    steps=steps,
                    batch_size=batch_size,
                    learning_rate=learning_rate,
                    kl_anneal=float(kl_anneal),
                    n_samples=n_samples,
                    clip=clip,
                    seed=self.seed,
                    weights=tuple(self.weights_) if warm_start else None,
                ),
                FitHooks(progress=update),
            )
        finally:
            if bar is not None:
                bar.close()
        weights = list(res.weights)
        self.config_, self.scaling_, self.weights_ = cfg, scaling, weights
        self.state_names_ = obs.state_names
        self.n_states_ = obs.n_states
        self.observations_ = obs
        self.history_ = {k: np.asarray(v) for k, v in res.history.items()}
        self.n_iter_ = steps
        self.fit_seconds_ = _time.perf_counter() - t0
        self.compile_seconds_ = res.compile_seconds
        terms = self.elbo_terms(obs, seed=self.seed)
        self.elbo_ = float(np.mean(terms["elbo"]))
        self.loglik_ = float(np.mean(terms["loglik"]))
        self.kl_ = float(np.mean(terms["kl"]))
        self.noise_std_ = eng.latent_noise_std(cfg, weights, obs.n_states) * scaling.scale
        bad = res.rejected_steps
        if not np.isfinite(self.elbo_):
            self.status_, self.message_ = (
                Status.NONFINITE,
                ("the ELBO is not finite: lower learning_rate, loosen rtol/atol or raise max_steps."),
            )
        else:
            self.status_ = Status.SUCCESS
            self.message_ = f"trained {steps} steps" + (f" ({bad} non-finite steps skipped)" if bad else "")
        if self.verbose and self.status_ is not Status.SUCCESS:
            print(f"pysciml LatentODE fit: {self.status_.name}: {self.message_}")
        return self

    def _scaling(self, obs) -> Scaling:
        ys = np.concatenate([tr.y for tr in obs], axis=0)
        mean = np.array([np.nanmean(ys[:, j]) for j in range(ys.shape[1])])
        spans = obs.t_span[:, 1] - obs.t_span[:, 0]
        if self.time_scale == "auto":
            med = float(np.median(spans))
            ts = med / 10.0 if med > 0 else 1.0
        else:
            ts = float(self.time_scale)
        return Scaling(mean, np.asarray(obs.scales, float), float(obs.t_span[:, 0].min()), ts)

    # -- using a fitted model -------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise NotFittedError(
                "this LatentODE has not been fitted; call model.fit(data) first (or LatentODE.load(path)).",
                argument="model",
            )

    def _batch(self, t, y):
        """Query series -> (list of (t, y), single?)."""
        single = not (isinstance(t, (list, tuple)) and len(t) and np.ndim(t[0]) == 1)
        if single:
            return [query_series(t, y, self.n_states_, self.state_names_)], True
        if not isinstance(y, (list, tuple)) or len(y) != len(t):
            raise InputError(
                "with a list of time arrays t, give a list of value arrays y of the same length.", argument="y"
            )
        return [query_series(a, b, self.n_states_, self.state_names_) for a, b in zip(t, y)], False

    def _padded(self, series):

        meta = TimeMeta(kind="numeric", units=None)
        units = (None,) * self.n_states_
        trajs = [Trajectory(t, y, self.state_names_, units, str(i), meta) for i, (t, y) in enumerate(series)]
        obs = Observations.from_trajectories(trajs, scales=self.scaling_.scale)
        T, Y, M = padded_arrays(obs, self.scaling_, bucket(max(tr.n_times for tr in trajs), 32))
        return pad_rows(T, Y, M, rows=bucket(len(trajs), 16))

    def encode(self, t, y) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std of z0 (the latent state at the first observed time).

        Args:
            t: (n,) model times of one series, or a list of such arrays.
            y: (n, D) values (NaN = missing), or a list.

        Returns:
            ``(mean, std)``: (K,) each for one series, (n_series, K) for a list.
        """
        self._check_fitted()
        series, single = self._batch(t, y)
        mean, std, _ = self._engine("encode_latent").encode_latent(self.config_, self.weights_, *self._padded(series))
        mean, std = mean[: len(series)], std[: len(series)]
        return (mean[0], std[0]) if single else (mean, std)

    def predict(self, t, y, t_new, *, n_samples: int = 0, seed: int = 0, return_std: bool = False):
        """Reconstruct / interpolate / extrapolate a series at times ``t_new`` from its observations.

        Args:
            t, y: the observed series ((n,), (n, D); NaN = missing), or lists of series.
            t_new: (m,) output model times (one array, or a list with one per series); times
                before the series' first observation are reached by solving the latent ODE
                backwards from there (extrapolation into the past: less reliable).
            n_samples: 0: decode the posterior mean of z0; > 0: average that many posterior samples.
            seed: seed of the posterior samples.
            return_std: also return the spread over posterior samples (needs n_samples >= 2).

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
        eng = self._engine("decode_latent")
        mean, std, t0 = eng.encode_latent(self.config_, self.weights_, *self._padded(series))
        L = bucket(max(q.size for q in queries), 32)
        Q = np.stack([np.concatenate([q, np.full(L - q.size, q[-1])]) for q in queries])
        (Q,) = pad_rows(Q, rows=mean.shape[0])
        if n_samples == 0:
            z0 = mean[None]
        else:
            eps = np.random.default_rng(seed).standard_normal((n_samples,) + mean.shape)
            z0 = mean[None] + std[None] * eps
        x = eng.decode_latent(self.config_, self.weights_, self.n_states_, z0, t0, self.scaling_.times(Q))
        x = self.scaling_.unvalues(x)
        mu, sd = x.mean(axis=0), x.std(axis=0, ddof=1) if n_samples >= 2 else None
        out = [mu[i, : q.size] for i, q in enumerate(queries)]
        if not return_std:
            return out[0] if single else out
        assert sd is not None  # return_std needs n_samples >= 2 (checked above)
        sds = [sd[i, : q.size] for i, q in enumerate(queries)]
        return (out[0], sds[0]) if single else (out, sds)

    def forecast(self, t, y, horizon: float, *, n: int = 101, n_samples: int = 0, seed: int = 0):
        """Extrapolate ``horizon`` model-time units past a series' last observed time.

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
        pred = self.predict(ts_list, ys_list, grids, n_samples=n_samples, seed=seed)
        return (grids[0], pred[0]) if single else (grids, pred)

    def sample(self, t, n: int = 1, *, seed: int = 0, noise: bool = False) -> np.ndarray:
        """Trajectories drawn from the prior: z0 ~ N(0, I) at ``t[0]``, decoded at ``t``.

        Args:
            t: (m,) model times (strictly increasing).
            n: number of trajectories.
            seed: PRNG seed (different seeds give different draws).
            noise: add the observation noise (std ``noise_std_``).

        Returns:
            (n, m, D) array in data units.
        """
        self._check_fitted()
        t = query_times(t, "t")
        n = check_positive_int(n, "n")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise InputError(f"must be an integer, got {seed!r}.", argument="seed")
        eng = self._engine("sample_latent")
        m = bucket(t.size, 32)  # padded shapes: fewer compilations
        tp = np.concatenate([t, np.full(m - t.size, t[-1])])
        x = eng.sample_latent(
            self.config_, self.weights_, self.n_states_, self.scaling_.times(tp), bucket(n, 8), int(seed), bool(noise)
        )
        return self.scaling_.unvalues(x[:n, : t.size])

    def plot(self, t, y, t_new=None, *, n_samples: int = 16, n_prior: int = 5, seed: int = 0, ax=None):
        """Draw one series against the model: its posterior mean +/- 2 sd and prior samples.

        Args:
            t, y: one observed series, ``(n,)`` and ``(n, D)`` (NaN = missing).
            t_new: query times (default: 200 points over the series' range).
            n_samples: posterior samples for the spread (0: the mean only).
            n_prior: prior samples to draw (0: none).
            seed: seed of the samples.
            ax: an Axes (or one per state) to draw into.

        Returns:
            ``(fig, axes)`` (matplotlib, the ``plot`` extra).
        """
        self._check_fitted()
        t_arr = np.asarray(t, dtype=float)
        t_new = np.linspace(t_arr[0], t_arr[-1], 200) if t_new is None else np.asarray(t_new, dtype=float)
        if n_samples >= 2:
            mean, std = self.predict(t, y, t_new, n_samples=n_samples, seed=seed, return_std=True)
        else:
            mean, std = self.predict(t, y, t_new, n_samples=n_samples, seed=seed), None
        prior = self.sample(t_new, n_prior, seed=seed + 1) if n_prior else None
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

    def elbo_terms(self, data: Any, *, seed: int = 0, n_samples: int = 8, **read) -> dict[str, np.ndarray]:
        """Per-series ELBO terms on ``data`` (KL at full weight), in data units.

        Returns:
            dict of (n_series,) arrays ``elbo``, ``loglik`` (Monte-Carlo over ``n_samples`` posterior
            samples), ``kl`` (closed form), and ``mean``/``std`` (n_series, K) of q(z0).
        """
        self._check_fitted()
        obs = read_series(data, states=self.state_names_, **read)
        if obs.state_names != self.state_names_:
            raise InputError(
                f"the data has states {list(obs.state_names)}, the model {list(self.state_names_)}.", argument="data"
            )
        n = obs.n_trajectories
        T, Y, M = padded_arrays(obs, self.scaling_, bucket(max(tr.n_times for tr in obs), 32))
        T, Y, M = pad_rows(T, Y, M, rows=bucket(n, 16))
        out = self._engine("evaluate_latent").evaluate_latent(
            self.config_, self.weights_, T, Y, M, seed, check_positive_int(n_samples, "n_samples")
        )
        out = {k: v[:n] for k, v in out.items()}
        T, Y, M = T[:n], Y[:n], M[:n]
        # change of variables: scaled -> data units (each observed value divides by its state's scale)
        ll = out["loglik"] - (M * np.log(self.scaling_.scale)).sum(axis=(1, 2))
        return {"elbo": ll - out["kl"], "loglik": ll, "kl": out["kl"], "mean": out["mean"], "std": out["std"]}

    # -- persistence ---------------------------------------------------------------------
    def save(self, path) -> None:
        """Write ``path.json`` (configuration, scalars) and ``path.npz`` (weights, data); no pickle."""
        save_latent(self, path)

    @classmethod
    def load(cls, path) -> LatentODE:
        """A model saved with :meth:`save` (identical predictions)."""
        return read_latent(cls, path)

    def replace(self, **changes) -> LatentODE:
        """An unfitted copy with some constructor arguments changed."""
        return type(self)(**{**self.get_params(), **changes})
