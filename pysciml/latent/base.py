"""What every latent model shares: checked settings, data scaling, training, encoding, sampling, the ELBO, files.

:class:`LatentModel` holds it; :class:`~pysciml.latent.estimator.LatentODE` and
:class:`~pysciml.latent.sde_estimator.LatentSDE` add their dynamics' settings
(:meth:`LatentModel._make_config`) and their predictions.  The engine picks the
networks from the configuration's type.
"""

from __future__ import annotations

import dataclasses
import logging
import time as _time
from typing import Any, ClassVar

import numpy as np

from ..data.timeaxis import TimeMeta
from ..data.trajectory import Observations, Trajectory
from ..engines.registry import engine_name, get_engine
from ..engines.requests import FitHooks, LatentConfig, LatentTrainRequest
from ..errors import InputError
from ..fitting.estimator import NotFittedError, progress_bar
from ..status import Status
from .config import ENCODERS, check_positive_float, check_positive_int
from .data import (
    Scaling,
    bucket,
    condition_names,
    pad_rows,
    padded_arrays,
    query_condition,
    query_series,
    query_times,
    read_condition,
    read_series,
)
from .saved_model import read_latent, save_latent

__all__ = ["LatentModel"]


log = logging.getLogger("pysciml.latent")


def _tell(info: dict, bar, steps: int) -> None:
    """The estimate a latent fit tells after its second step: on the progress bar (beside the
    loss) and at INFO level on the ``pysciml.latent`` logger."""
    text = (
        f"~{info['step_seconds'] * 1e3:.0f} ms/step after {info['compile_seconds']:.0f} s compile, "
        f"~{info['estimated_seconds']:.0f} s for {steps} steps, peak RSS {info['peak_bytes'] / 2**20:.0f} MiB"
    )
    log.info("latent fit: %s", text)
    if bar is not None:
        bar.note = text


def _for_all(info: dict, restarts: int) -> dict:
    """A first training's estimate stretched over ``restarts`` trainings of the same length."""
    one = info["estimated_seconds"] - info["compile_seconds"]
    return {**info, "estimated_seconds": info["estimated_seconds"] + (restarts - 1) * one}


class LatentModel:
    """The shared part of the latent models (not used directly).

    Subclasses set :attr:`PARAMS` (constructor arguments, in order), call
    :meth:`_check_common` from ``__init__`` and implement :meth:`_make_config`.
    """

    PARAMS: ClassVar[tuple[str, ...]] = ()
    #: trainings per ``fit`` when ``restarts`` is not given (the best training-data ELBO is kept)
    DEFAULT_RESTARTS: ClassVar[int] = 1

    def _check_common(
        self,
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
    ) -> None:
        self.n_latent = check_positive_int(n_latent, "n_latent")
        self.encoder_hidden = check_positive_int(encoder_hidden, "encoder_hidden")
        self.decoder_hidden = check_positive_int(decoder_hidden, "decoder_hidden", minimum=0)
        if encoder not in ENCODERS:
            raise InputError(f"unknown encoder {encoder!r}; use one of {list(ENCODERS)}.", argument="encoder")
        self.encoder = encoder
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
        return {k: getattr(self, k) for k in self.PARAMS}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitting -------------------------------------------------------------------------
    def _make_config(self, scaling: Scaling, n_obs: int) -> LatentConfig:
        raise NotImplementedError

    def _check_steps(self, span: float) -> None:
        """Refuse a solve over ``span`` model time units that a fixed-step latent flow cannot finish
        within its step budget (a LatentODE with ``dt``; nothing to check otherwise)."""

    def _noise_scaled(self, scaling: Scaling, n_obs: int) -> tuple[float, ...] | None:
        """The fixed observation noise std per state in scaled units (None: learned)."""
        if self.noise_std == "learn":
            return None
        arr = (
            np.broadcast_to(np.asarray(self.noise_std, float), (n_obs,))
            if np.ndim(self.noise_std) == 0
            else np.asarray(self.noise_std, float)
        )
        if arr.shape != (n_obs,):
            raise InputError(f"has {arr.size} values but the data has {n_obs} states.", argument="noise_std")
        return tuple(float(v) for v in arr / scaling.scale)

    def fit(
        self,
        data: Any,
        *,
        condition: Any = None,
        steps: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        kl_anneal: float = 0.3,
        n_samples: int = 1,
        clip: float = 1.0,
        warm_start: bool = False,
        restarts: int | None = None,
        time_dim: str | None = None,
        series_dim: str | None = None,
        time_units: str | None = None,
    ):
        """Train by maximising the ELBO (KL weight annealed from 0 to 1).

        Args:
            data: a list of ``(t, y)`` series (t: (n_t,) model times, strictly increasing;
                y: (n_t,) or (n_t, D); NaN = missing), or an xarray Dataset / DataArray with a
                time dimension and a series dimension.
            condition: one vector per series that the model is conditioned on (appended to the
                encoder's inputs, the latent dynamics' and the decoder's): an array (n_series,
                n_condition) (or (n_series,)), an xarray DataArray over the series dimension, or the
                name(s) of per-series variables of an xarray Dataset ``data``. The model then needs a
                condition in ``sample``, ``predict``, ``encode`` and ``elbo_terms``. None: unconditional.
            steps: Adam steps (cosine-decayed learning rate).
            batch_size: series per step (padded and masked to one shape).
            learning_rate: peak learning rate.
            kl_anneal: fraction of ``steps`` over which the KL weight rises linearly to 1
                (0: full weight from the start).
            n_samples: posterior samples of z0 per series and step.
            clip: gradient-norm clip.
            warm_start: continue from the current weights (same data layout) instead of fresh ones.
            restarts: independent trainings from the seeds ``seed``, ``seed + 1``, ...; the one with
                the highest ELBO on the training data is kept (``restart_elbos_`` lists them all).
                A guard against fits that collapse onto the observation noise (see docs/latent.md).
                Default :attr:`DEFAULT_RESTARTS` of the model (1 with ``warm_start``).
            time_dim, series_dim: xarray dimension names (default: detected).
            time_units: model time units for calendar time axes ("days"...).

        Returns:
            ``self`` with ``weights_``, ``history_``, ``elbo_``, ``noise_std_``, ``scaling_``,
            ``observations_``, ``conditions_`` (the training conditions, or None), ``status_``,
            ``fit_seconds_``...
        """
        steps = check_positive_int(steps, "steps")
        batch_size = check_positive_int(batch_size, "batch_size")
        learning_rate = check_positive_float(learning_rate, "learning_rate")
        n_samples = check_positive_int(n_samples, "n_samples")
        clip = check_positive_float(clip, "clip")
        if restarts is None:
            restarts = 1 if warm_start else self.DEFAULT_RESTARTS
        restarts = check_positive_int(restarts, "restarts")
        if warm_start and restarts > 1:
            raise InputError(
                "restarts start fresh networks from other seeds; warm_start continues the fitted ones. Use one.",
                argument="restarts",
            )
        if not (isinstance(kl_anneal, (int, float)) and not isinstance(kl_anneal, bool) and 0 <= kl_anneal <= 1):
            raise InputError(f"must be a fraction of the steps in [0, 1], got {kl_anneal!r}.", argument="kl_anneal")
        if warm_start and not hasattr(self, "weights_"):
            raise NotFittedError("warm_start=True needs a fitted model; fit once without it.", argument="warm_start")
        names = condition_names(condition, data)
        states = self.states
        if names and states is None:
            states = [str(v) for v in data.data_vars if str(v) not in names]
        obs = read_series(data, states=states, time_dim=time_dim, series_dim=series_dim, time_units=time_units)
        conditions = read_condition(
            condition,
            data,
            obs,
            self.config_.n_condition if warm_start else None,
            time_dim=time_dim,
            series_dim=series_dim,
        )
        if warm_start:
            if obs.state_names != self.state_names_:
                raise InputError(
                    f"the data has states {list(obs.state_names)}, the fitted model {list(self.state_names_)}.",
                    argument="data",
                )
            scaling = self.scaling_
        else:
            scaling = self._scaling(obs, conditions)
        cfg = self.config_ if warm_start else self._make_config(scaling, obs.n_states)
        if conditions is not None and not warm_start:
            cfg = dataclasses.replace(cfg, n_condition=conditions.shape[1])
        self._check_steps(float(np.max(obs.t_span[:, 1] - obs.t_span[:, 0])))
        T, Y, M = padded_arrays(obs, scaling)
        eng = self._engine("train_latent")
        bar, update = progress_bar(steps * restarts, self.verbose)
        t0 = _time.perf_counter()
        runs = []  # (training, its scores) per restart
        try:
            for r in range(restarts):
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
                        seed=self.seed + r,
                        weights=tuple(self.weights_) if warm_start else None,
                        C=scaling.conditions(conditions),
                    ),
                    FitHooks(
                        progress=update,
                        estimate=None if r else lambda info: _tell(_for_all(info, restarts), bar, steps * restarts),
                    ),
                )
                self._adopt(res, cfg, scaling, obs, conditions, steps)
                runs.append((res, (self.elbo_, self.loglik_, self.kl_)))
        finally:
            if bar is not None:
                bar.close()
        elbos = np.array([scores[0] for _, scores in runs])
        best = int(np.argmax(np.where(np.isfinite(elbos), elbos, -np.inf)))  # the first of equals
        res, scores = runs[best]
        if best != restarts - 1:
            self._adopt(res, cfg, scaling, obs, conditions, steps, scores)
        weights = self.weights_
        self.restart_elbos_ = elbos
        self.fit_seconds_ = _time.perf_counter() - t0
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
            print(f"pysciml {type(self).__name__} fit: {self.status_.name}: {self.message_}")
        return self

    def _adopt(self, res, cfg, scaling, obs, conditions, steps, scores=None) -> None:
        """Take a training's weights and history, and its scores ``(elbo, loglik, kl)`` on the training
        data (computed here when not given)."""
        self.config_, self.scaling_, self.weights_ = cfg, scaling, list(res.weights)
        self.state_names_ = obs.state_names
        self.n_states_ = obs.n_states
        self.observations_ = obs
        self.conditions_ = conditions
        self.history_ = {k: np.asarray(v) for k, v in res.history.items()}
        self.n_iter_ = steps
        self.compile_seconds_ = res.compile_seconds
        if scores is None:
            terms = self.elbo_terms(obs, seed=self.seed, condition=conditions)
            scores = tuple(float(np.mean(terms[k])) for k in ("elbo", "loglik", "kl"))
        self.elbo_, self.loglik_, self.kl_ = scores

    def _scaling(self, obs, conditions=None) -> Scaling:
        ys = np.concatenate([tr.y for tr in obs], axis=0)
        mean = np.array([np.nanmean(ys[:, j]) for j in range(ys.shape[1])])
        spans = obs.t_span[:, 1] - obs.t_span[:, 0]
        if self.time_scale == "auto":
            med = float(np.median(spans))
            ts = med / 10.0 if med > 0 else 1.0
        else:
            ts = float(self.time_scale)
        if conditions is None:
            return Scaling(mean, np.asarray(obs.scales, float), float(obs.t_span[:, 0].min()), ts)
        c_scale = conditions.std(axis=0)
        c_scale = np.where(c_scale > 0, c_scale, 1.0)
        return Scaling(
            mean, np.asarray(obs.scales, float), float(obs.t_span[:, 0].min()), ts, conditions.mean(axis=0), c_scale
        )

    @property
    def n_condition_(self) -> int:
        """The size of the condition vector the fitted model takes (0: unconditional)."""
        self._check_fitted()
        return int(self.config_.n_condition)

    def _conditions(self, condition, n: int, rows: int, what: str):
        """Query conditions in network units, padded to ``rows`` rows (None for an unconditional model)."""
        c = query_condition(condition, n, self.n_condition_, what)
        if c is None:
            return None
        (c,) = pad_rows(self.scaling_.conditions(c), rows=rows)
        return c

    # -- using a fitted model -------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise NotFittedError(
                f"this {type(self).__name__} has not been fitted; call model.fit(data) first (or "
                f"{type(self).__name__}.load(path)).",
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

    def encode(self, t, y, *, condition=None) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std of z0 (the latent state at the first observed time).

        Args:
            t: (n,) model times of one series, or a list of such arrays.
            y: (n, D) values (NaN = missing), or a list.
            condition: a conditional model's condition: (n_condition,) for every series, or
                (n_series, n_condition) one per series.

        Returns:
            ``(mean, std)``: (K,) each for one series, (n_series, K) for a list.
        """
        self._check_fitted()
        series, single = self._batch(t, y)
        T, Y, M = self._padded(series)
        C = self._conditions(condition, len(series), T.shape[0], "series")
        mean, std, _ = self._engine("encode_latent").encode_latent(self.config_, self.weights_, T, Y, M, C)
        mean, std = mean[: len(series)], std[: len(series)]
        return (mean[0], std[0]) if single else (mean, std)

    def sample(self, t, n: int = 1, *, seed: int = 0, noise: bool = False, condition=None) -> np.ndarray:
        """Trajectories drawn from the prior, decoded at ``t``: z0 from its prior at ``t[0]`` (N(0, I) for a
        LatentODE, a learned Gaussian for a LatentSDE), then the latent ODE or the prior SDE.

        Args:
            t: (m,) model times (strictly increasing).
            n: number of trajectories.
            seed: PRNG seed (different seeds give different draws).
            noise: add the observation noise (std ``noise_std_``).
            condition: a conditional model's condition: (n_condition,) for every sample, or
                (n, n_condition) one per sample.

        Returns:
            (n, m, D) array in data units.
        """
        self._check_fitted()
        t = query_times(t, "t")
        n = check_positive_int(n, "n")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise InputError(f"must be an integer, got {seed!r}.", argument="seed")
        self._check_steps(float(t[-1] - t[0]))
        C = self._conditions(condition, n, bucket(n, 8), "samples")
        eng = self._engine("sample_latent")
        m = bucket(t.size, 32)  # padded shapes: fewer compilations
        tp = np.concatenate([t, np.full(m - t.size, t[-1])])
        x = eng.sample_latent(
            self.config_,
            self.weights_,
            self.n_states_,
            self.scaling_.times(tp),
            bucket(n, 8),
            int(seed),
            bool(noise),
            C,
        )
        return self.scaling_.unvalues(x[:n, : t.size])

    def elbo_terms(
        self, data: Any, *, condition: Any = None, seed: int = 0, n_samples: int = 8, **read
    ) -> dict[str, np.ndarray]:
        """Per-series ELBO terms on ``data`` (KL at full weight), in data units.

        ``condition``: a conditional model's condition of each series, read as in :meth:`fit`.

        Returns:
            dict of (n_series,) arrays ``elbo``, ``loglik`` (Monte-Carlo over ``n_samples`` posterior
            samples), ``kl`` (closed form), and ``mean``/``std`` (n_series, K) of q(z0).
        """
        self._check_fitted()
        obs = read_series(data, states=self.state_names_, **read)
        conditions = read_condition(
            condition, data, obs, self.n_condition_, time_dim=read.get("time_dim"), series_dim=read.get("series_dim")
        )
        if obs.state_names != self.state_names_:
            raise InputError(
                f"the data has states {list(obs.state_names)}, the model {list(self.state_names_)}.", argument="data"
            )
        n = obs.n_trajectories
        T, Y, M = padded_arrays(obs, self.scaling_, bucket(max(tr.n_times for tr in obs), 32))
        T, Y, M = pad_rows(T, Y, M, rows=bucket(n, 16))
        C = None if conditions is None else pad_rows(self.scaling_.conditions(conditions), rows=T.shape[0])[0]
        out = self._engine("evaluate_latent").evaluate_latent(
            self.config_, self.weights_, T, Y, M, seed, check_positive_int(n_samples, "n_samples"), C
        )
        out = {k: v[:n] for k, v in out.items()}
        T, Y, M = T[:n], Y[:n], M[:n]
        # change of variables: scaled -> data units (each observed value divides by its state's scale)
        ll = out["loglik"] - (M * np.log(self.scaling_.scale)).sum(axis=(1, 2))
        extra = {k: v for k, v in out.items() if k not in ("loglik", "kl", "mean", "std")}  # a latent SDE's kl_path
        return {"elbo": ll - out["kl"], "loglik": ll, "kl": out["kl"], "mean": out["mean"], "std": out["std"], **extra}

    # -- persistence ---------------------------------------------------------------------
    def save(self, path) -> None:
        """Write ``path.json`` (configuration, scalars) and ``path.npz`` (weights, data); no pickle."""
        save_latent(self, path)

    @classmethod
    def load(cls, path):
        """A model saved with :meth:`save` (identical predictions)."""
        return read_latent(cls, path)

    def replace(self, **changes):
        """An unfitted copy with some constructor arguments changed."""
        return type(self)(**{**self.get_params(), **changes})
