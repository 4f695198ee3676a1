"""The estimator methods every model has: ``fit``, ``predict``, ``forecast``, ``score``, ``discover``, ``save``.

scikit-learn conventions: configuration in the constructor (the model) and in
``fit``'s keyword arguments, ``fit(data)`` returns the model itself, fitted
attributes end in ``_``.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..data.ingest import as_observations
from ..data.timeaxis import TimeMeta, to_model_time
from ..data.to_xarray import to_dataset
from ..discovery.search import discover as _discover
from ..engines.registry import engine_name, get_engine
from ..engines.requests import FitHooks
from ..errors import InputError
from ..events import DEFAULT_MAX_EVENTS
from ..io.atomic import check_target
from ..ivp import solve
from ..model_spec import ModelSpec, ParamView
from ..networks import MLP
from ..numerics import numpy_math
from ..params import ParamSpec
from ..progress import open_bar
from ..states import StateLayout
from ..status import Status
from ..training.strategies import Collocation, GrowingHorizon, MultipleShooting
from .checkpoint import Checkpointer, checkpoint_path, fit_fingerprint, load_checkpoint
from .pictures import fit_html, fit_picture, loss_picture
from .problem import build_fit_request
from .saved_model import save_model

__all__ = ["EstimatorMixin", "NotFittedError"]


class NotFittedError(InputError):
    """The model has not been fitted yet (call ``fit`` first)."""


class FitBar:
    """A fit's progress bar: the loss after each chunk of steps and, once told, an estimate of the
    whole run (memory, time) beside it."""

    def __init__(self, bar):
        self._bar = bar
        self.note = ""

    def update(self, n: int, loss: float) -> None:
        self._bar.update(n)
        self._bar.set_postfix_str(f"loss {loss:.4g}" + (f", {self.note}" if self.note else ""))

    def close(self) -> None:
        self._bar.close()


def progress_bar(total: int, verbose: int):
    """``(bar, update(n, loss))`` of a fit, ``(None, None)`` when silent (see :class:`FitBar`)."""
    bar = open_bar(total, verbose, desc="fit", unit="step")
    if bar is None:
        return None, None
    fit_bar = FitBar(bar)
    return fit_bar, fit_bar.update


def planned_steps(strategy, optimizers) -> int:

    n = sum(o.steps for o in optimizers)
    if isinstance(strategy, GrowingHorizon):
        return strategy.stages * strategy.steps + planned_steps(strategy.then, optimizers)
    if isinstance(strategy, Collocation):
        return strategy.steps + planned_steps(strategy.then, optimizers)
    if isinstance(strategy, MultipleShooting) and strategy.polish:
        return n + optimizers[-1].steps
    return n


class _GracefulInterrupt:
    """During a fit, the first Ctrl-C asks training to stop after the current chunk of steps
    (best parameters kept, checkpoint written); a second Ctrl-C aborts at once."""

    def __init__(self, verbose):
        self.verbose = verbose
        self.count = 0
        self._old = None

    def requested(self) -> bool:
        return self.count > 0

    def _handler(self, signum, frame):
        self.count += 1
        if self.count > 1:
            raise KeyboardInterrupt
        if self.verbose:
            import sys

            print(
                "\npysciml: stopping after the current chunk of steps (Ctrl-C again to abort)...",
                file=sys.stderr,
                flush=True,
            )

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        import signal

        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


class EstimatorMixin:
    """Fitting and prediction for :class:`pysciml.ODEModel` (and UDE / NeuralODE)."""

    if TYPE_CHECKING:
        # supplied by ModelSpec, the other base of every estimator (pysciml.ODEModel)
        physics: Callable
        layout: StateLayout
        param_specs: dict[str, ParamSpec]
        networks: dict[str, MLP]
        name: str
        time_units: str | None
        state_names: tuple[str, ...]

    # -- fitting -----------------------------------------------------------------------
    def fit(
        self,
        data: Any,
        *,
        strategy: Any = None,
        optimizers: Any = None,
        loss: Any = None,
        l2: float = 0.0,
        fit: Sequence[str] | None = None,
        fixed: Sequence[str] | None = None,
        params: Mapping[str, Any] | None = None,
        u0: Any = None,
        fit_u0: Any = "auto",
        solver: Any = "auto",
        adjoint: Any = None,
        rtol: float = 1e-6,
        atol: float = 1e-8,
        max_steps: int = 10_000,
        seed: int = 0,
        time_units: str | None = None,
        time_dim: str | None = None,
        trajectory_dim: str | None = None,
        engine: str | None = None,
        verbose: int = 1,
        callback: Callable[[dict], bool] | None = None,
        checkpoint: Any = None,
        checkpoint_every: int | None = 500,
        checkpoint_seconds: float | None = 60.0,
        resume: bool = False,
        events=None,
        max_events: int = DEFAULT_MAX_EVENTS,
    ):
        """Fit the model's parameters (physics, network weights, initial states) to data.

        Args:
            data: observations: an ``xarray.Dataset``/``DataArray``, a pandas
                ``DataFrame``, ``(t, y)`` arrays, or a list of those (several
                trajectories, each on its own irregular time grid; NaN = missing).
            strategy: ``ps.SingleShooting()``, ``ps.MultipleShooting(segments=5)``,
                ``ps.Collocation()``, ``ps.GrowingHorizon()``; default: a growing-horizon
                warm-up followed by single shooting.
            optimizers: optimisers run in turn, default
                ``[ps.Adam(1e-2, steps=1500, schedule="cosine"), ps.LBFGS(steps=300)]``.
            loss: ``ps.MSE()`` (default, states scaled by their spread in the data) or
                ``ps.GaussianNLL(sigma=... or "fit")``.
            l2: weight of the L2 penalty on network weights.
            fit, fixed: names of the parameters (and networks) to fit, or to keep
                fixed (default: fit everything not declared ``fixed``).
            params: starting values of physics parameters (default: declared defaults).
            u0: initial state(s) (one per trajectory, or one for all); default: the
                first observations, fitted.
            fit_u0: fit the initial states (``"auto"``: yes unless ``u0`` is given).
            solver: the solver used inside the loss (``"auto"``: Rodas5P if stiff at
                the start, else Tsit5).
            adjoint: ``ps.Direct()``, ``ps.Checkpointed()``, ``ps.Backsolve()``...
            rtol, atol, max_steps: solver settings inside the loss.
            seed: seed of the initial network weights.
            time_units: model time units for calendar time axes (``"days"``...).
            time_dim, trajectory_dim: names of those dimensions in xarray input.
            engine: ``"jax"`` (default) or ``"julia"``.
            verbose: 0 silences the progress bar.
            callback: ``callback(info) -> bool`` called every few steps with
                ``{"phase", "step", "loss", "params"}``; return True to stop.
            checkpoint: a file path: the training state is written there atomically every
                ``checkpoint_every`` steps or ``checkpoint_seconds`` seconds (whichever comes
                first), when Ctrl-C stops the fit, and at the end.
            resume: continue from the checkpoint (same model, data and options), giving the
                same result as an uninterrupted fit; starts fresh if there is no checkpoint yet.
            events: ``ps.Event`` / ``ps.At`` objects applied in every solve of the loss (doses,
                switches, bounces; jax engine; single shooting and the growing horizon), and by
                ``predict`` and ``forecast`` afterwards. Gradients flow through event times.
            max_events: how many events one solve may apply.

        Returns:
            ``self``, with ``params_``, ``network_params_``, ``u0_``, ``loss_history_``,
            ``status_``, ``message_``, ``events_``, ``phases_``, ``param_std_``...
        """

        if callback is not None and not callable(callback):
            raise InputError("must be a function callback(info) -> bool.", argument="callback")
        if not isinstance(verbose, (int, bool)):
            raise InputError(f"must be an integer (0 = silent), got {verbose!r}.", argument="verbose")
        obs = as_observations(
            data,
            states=self,
            time_units=time_units or getattr(self, "time_units", None),
            time_dim=time_dim,
            trajectory_dim=trajectory_dim,
        )
        problem = build_fit_request(
            self,
            obs,
            params=params,
            fit=fit,
            fixed=fixed,
            u0=u0,
            fit_u0=fit_u0,
            loss=loss,
            l2=l2,
            strategy=strategy,
            optimizers=optimizers,
            solver=solver,
            adjoint=adjoint,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
            seed=seed,
            events=events,
            max_events=max_events,
        )
        name = engine_name(engine)
        eng = get_engine(name, operation="fit")
        ckpt, resume_state = self._checkpointing(
            problem, name, checkpoint, checkpoint_every, checkpoint_seconds, resume
        )
        bar, update = progress_bar(planned_steps(problem.strategy, problem.optimizers), verbose)
        t0 = _time.perf_counter()
        with _GracefulInterrupt(verbose) as interrupt:
            try:
                result = eng.fit(
                    problem,
                    FitHooks(
                        progress=update,
                        callback=callback,
                        checkpoint=ckpt,
                        resume_state=resume_state,
                        should_stop=interrupt.requested,
                    ),
                )
            finally:
                if bar is not None:
                    bar.close()
        self._store_fit(result, obs, problem, name, _time.perf_counter() - t0)
        if verbose and result.status is not Status.SUCCESS:
            print(f"pysciml fit: {result.status.name}: {result.message}")
        return self

    @staticmethod
    def _checkpointing(problem, engine, checkpoint, every, seconds, resume):

        if not isinstance(resume, bool):
            raise InputError(f"must be True or False, got {resume!r}.", argument="resume")
        if checkpoint is None:
            if resume:
                raise InputError("resume=True needs checkpoint='path/to/file'.", argument="resume")
            return None, None
        if every is not None and (not isinstance(every, int) or every <= 0):
            raise InputError(f"must be a positive integer or None, got {every!r}.", argument="checkpoint_every")
        if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
            raise InputError(f"must be a positive number or None, got {seconds!r}.", argument="checkpoint_seconds")

        check_target(checkpoint_path(check_target(checkpoint, argument="checkpoint")), argument="checkpoint")
        fp = fit_fingerprint(problem, engine)
        ckpt = Checkpointer(checkpoint, fp, every_steps=every, every_seconds=seconds)
        state = load_checkpoint(checkpoint, fp) if resume else None
        return ckpt, state

    def _store_fit(self, result, obs, problem, engine: str, seconds: float):
        self.params_ = {k: (float(v) if np.ndim(v) == 0 else np.asarray(v)) for k, v in result.params.items()}
        self.network_params_ = dict(result.network_params)
        self.u0_ = result.u0[0] if result.u0.shape[0] == 1 else result.u0
        self.u0_all_ = result.u0
        self.loss_history_ = result.loss_history
        self.status_ = result.status
        self.message_ = result.message
        self.events_ = result.events
        self.phases_ = result.phases
        self.loss_ = result.final_loss
        self.n_iter_ = len(result.loss_history)
        self.param_cov_ = result.covariance
        self.param_std_ = {
            k: (
                float(np.sqrt(max(float(c), 0.0)))
                if np.ndim(c) == 0
                else np.sqrt(np.clip(np.diagonal(c.reshape(np.size(self.params_[k]), -1)), 0, None))
            )
            for k, c in result.covariance.items()
        }
        self.sigma_ = result.sigma
        self.observations_ = obs
        self.fit_seconds_ = seconds
        self.compile_seconds_ = result.compile_seconds
        self.engine_ = engine
        self.fitted_solver_ = result.solver if result.solver is not None else problem.solver
        self.fit_options_: dict[str, Any] = {"rtol": problem.rtol, "atol": problem.atol, "max_steps": problem.max_steps}
        # functions: used by predict/forecast in this session, not saved (pass events= after ps.load)
        self.fit_events_ = (tuple(problem.events), problem.max_events) if problem.events else None

    # -- using a fitted model ------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise NotFittedError(f"{self.name!r} has not been fitted; call model.fit(data) first.", argument="model")

    def _event_options(self, events) -> dict:
        """``events=`` / ``max_events=`` for a solve of the fitted model (default: the fit's events)."""
        if events is not None:
            return {"events": events}
        fitted = getattr(self, "fit_events_", None)
        return {} if fitted is None else {"events": list(fitted[0]), "max_events": fitted[1]}

    def _all_params(self, params=None) -> dict:
        out = dict(self.params_) if hasattr(self, "params_") else {}
        out.update(getattr(self, "network_params_", {}))
        out.update(params or {})
        return out

    def _model_times(self, t) -> np.ndarray:
        """Model times from numbers or the user's calendar values (using the fit's time axis)."""
        arr = np.asarray(t)
        if arr.dtype.kind in "fiu":
            return arr.astype(float).reshape(-1)
        obs = getattr(self, "observations_", None)
        if obs is None:
            raise InputError("calendar times need a fitted model (its time axis); pass model times.", argument="t")

        (tm,), _ = to_model_time([arr], time_units=obs.time.units, reference_time=obs.time.reference, argument="t")
        return np.asarray(tm, dtype=float)

    def _dataset(self, t_model, u, what: str):

        obs = getattr(self, "observations_", None)
        if obs is not None:
            return to_dataset(t_model, u, obs, name=self.name, what=what)

        meta = TimeMeta(kind="numeric", units=getattr(self, "time_units", None))
        return to_dataset(t_model, u, meta, state_names=list(self.state_names), name=self.name, what=what)

    def predict(
        self,
        t: Any = None,
        *,
        u0: Any = None,
        trajectory: int = 0,
        params=None,
        solver=None,
        engine: str | None = None,
        events=None,
    ):
        """The fitted model's trajectory at times ``t`` as an ``xarray.Dataset``.

        Args:
            t: output times (model time numbers, or calendar times like the data's);
                default: the observation times of ``trajectory``.
            u0: initial state at ``t[0]`` (default: the fitted initial state of
                ``trajectory``, which then starts at that trajectory's first time).
            trajectory: which fitted trajectory's initial state to use.
            params: parameter overrides.
            events: events of the solve (default: those the model was fitted with).
        """

        self._check_fitted()
        obs = self.observations_
        if not 0 <= trajectory < len(obs):
            raise InputError(f"must be in [0, {len(obs) - 1}], got {trajectory}.", argument="trajectory")
        t0 = float(obs[trajectory].t[0])
        tm = obs[trajectory].t if t is None else self._model_times(t)
        if u0 is None:
            u0 = self.u0_all_[trajectory]
            start = t0
        else:
            start = float(tm[0])
        span_t = np.concatenate([[start], tm[tm > start]]) if tm[0] > start else tm
        if span_t.size < 2:
            span_t = np.array([start, start + 1e-12])
        sol = solve(
            cast(ModelSpec, self),
            u0,
            (float(span_t[0]), float(span_t[-1])),
            saveat=span_t,
            params=self._all_params(params),
            solver=solver or self.fitted_solver_,
            engine=engine,
            **self.fit_options_ | {"max_steps": max(self.fit_options_["max_steps"], 100_000)},
            **self._event_options(events),
        )
        keep = np.searchsorted(span_t, tm)
        if tm[0] < start:
            raise InputError(f"times before the trajectory's start ({start}) need u0=...", argument="t")
        return self._dataset(tm, sol.u[keep], "predict")

    def forecast(self, horizon: float, *, n: int = 101, trajectory: int = 0, params=None, solver=None, events=None):
        """Extrapolate ``horizon`` model-time units past the last observation of ``trajectory``.

        The forecast starts from the fitted model's own state at the last observed time
        (not the noisy observation). Returns an ``xarray.Dataset`` of ``n`` points.
        """

        self._check_fitted()
        if not (isinstance(horizon, (int, float)) and horizon > 0):
            raise InputError(f"must be a positive number of model-time units, got {horizon!r}.", argument="horizon")
        obs = self.observations_
        tr = obs[trajectory]
        t_last = float(tr.t[-1])
        ds_now = self.predict([t_last], trajectory=trajectory, params=params, solver=solver, events=events)
        u_last = np.stack([ds_now[s].values[-1] for s in self.state_names])
        ts = np.linspace(t_last, t_last + float(horizon), int(n))
        sol = solve(
            cast(ModelSpec, self),
            u_last,
            ts,
            params=self._all_params(params),
            solver=solver or self.fitted_solver_,
            **{**self.fit_options_, "max_steps": 100_000},
            **self._event_options(events),
        )
        return self._dataset(ts, sol.u, "forecast")

    def score(self, data: Any = None) -> float:
        """Coefficient of determination R^2 of the fitted model on ``data`` (default: the training data),
        averaged over the observed states."""

        self._check_fitted()
        obs = self.observations_ if data is None else as_observations(data, states=self, time_units=self.time_units)
        r2 = []
        res = np.zeros(len(self.state_names))
        tot = np.zeros(len(self.state_names))
        for b, tr in enumerate(obs):
            tm = tr.t
            ds = (
                self.predict(tm, trajectory=min(b, len(self.observations_) - 1))
                if data is None
                else self.predict(tm, u0=np.where(np.isfinite(tr.y[0]), tr.y[0], self.u0_all_[0]))
            )
            pred = np.stack([ds[s].values for s in self.state_names], axis=1)
            m = np.isfinite(tr.y)
            res += np.where(m, (pred - np.where(m, tr.y, 0)) ** 2, 0).sum(0)
            mean = np.where(m, tr.y, 0).sum(0) / np.maximum(m.sum(0), 1)  # (a state never observed: 0)
            tot += np.where(m, (np.where(m, tr.y, 0) - mean) ** 2, 0).sum(0)
        for j in range(len(res)):
            if tot[j] > 0:
                r2.append(1.0 - res[j] / tot[j])
        return float(np.mean(r2)) if r2 else float("nan")

    def discover(self, network: str | None = None, *, library=None, threshold=0.05, n_points: int = 200, **options):
        """Read a fitted network back as sparse equations in its input names.

        Evaluates the network along the fitted trajectories (``n_points`` per
        trajectory) and runs sparse regression (:func:`pysciml.discovery.discover`) on
        ``library`` (default ``ps.Polynomial(degree=2)``).

        Returns:
            :class:`pysciml.discovery.Equations`; ``eqs.to_model()`` is a pure-physics
            model whose coefficients are parameters, ready to ``fit``.
        """

        self._check_fitted()
        nets = list(self.networks)
        if not nets:
            raise InputError("the model has no networks to discover.", argument="network")
        network = network or nets[0]
        if network not in self.networks:
            raise InputError(f"unknown network {network!r}; the model has {nets}.", argument="network")
        X, Y = self.network_samples(network, n_points=n_points)
        net = self.networks[network]
        names = getattr(self, "_network_input_names", {}).get(network) or net.input_names(self.state_names)
        return _discover(
            X,
            Y,
            input_names=names,
            output_name=network,
            library=library,
            threshold=threshold,
            model=self,
            network=network,
            **options,
        )

    def network_samples(self, network: str, *, n_points: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and outputs of a fitted network along the fitted trajectories: ``(X, Y)``."""

        self._check_fitted()
        net = self.networks[network]
        theta = self.network_params_[network]
        X, Y = [], []

        def recording(x):
            x = np.asarray(x, dtype=float).reshape(-1)
            y = net.apply_numpy(theta, x)
            X.append(x)
            Y.append(np.asarray(y, dtype=float).reshape(-1))
            return y

        values = {k: v for k, v in self.params_.items()}
        others = {
            k: (lambda x, _n=n, _w=self.network_params_[k]: _n.apply_numpy(_w, x))
            for k, n in self.networks.items()
            if k != network
        }
        p = ParamView(values, {**others, network: recording})
        for b, tr in enumerate(self.observations_):
            ts = np.linspace(tr.t[0], tr.t[-1], n_points)
            ds = self.predict(ts, trajectory=b)
            U = np.stack([ds[s].values for s in self.state_names], axis=1)
            for t, u in zip(ts, U):
                self.physics(self.layout.view(u), p, t, numpy_math)
        if not X:
            raise InputError(f"the physics never calls p.{network}(...).", argument="network")
        return np.array(X), np.array(Y)

    # -- pictures ----------------------------------------------------------------------------
    def plot(
        self,
        data: Any = None,
        *,
        horizon: float | None = None,
        bands: bool = True,
        n_draws: int = 30,
        trajectory: int = 0,
        n: int = 200,
        ax=None,
    ):
        """Draw data against the fitted model, one panel per state (matplotlib, the ``plot`` extra).

        Args:
            data: observations in any form ``fit`` accepts (default: the training data).
            horizon: also forecast this many model-time units past the data (shaded region).
            bands: shade the 5-95 % range of trajectories with the parameters drawn from
                their Laplace standard errors (where the fit has them).
            n_draws: trajectories drawn for the band.
            trajectory: which trajectory of ``data`` to draw.
            n: points on the fitted curve.
            ax: an Axes (or one per state) to draw into.

        Returns:
            ``(fig, axes)``.
        """
        return fit_picture(self, data, horizon=horizon, bands=bands, n_draws=n_draws, trajectory=trajectory, n=n, ax=ax)

    def plot_loss(self, *, ax=None):
        """Draw the loss history: stages (optimisers) and rejected steps marked; ``(fig, [ax])``."""
        return loss_picture(self, ax=ax)

    def _repr_html_(self) -> str:
        return fit_html(self)

    # -- persistence -----------------------------------------------------------------------
    def save(self, path) -> None:
        """Save the model declaration and fitted state as ``path.json`` + ``path.npz`` (no pickle)."""

        save_model(self, path)

    def get_params(self, deep: bool = False) -> dict:
        """Constructor arguments (scikit-learn convention)."""
        return {
            "physics": self.physics,
            "states": {s.name: s.shape for s in self.layout.specs},
            "params": dict(self.param_specs),
            "networks": dict(self.networks),
            "name": self.name,
            "time_units": self.time_units,
        }

    def summary(self) -> str:
        """A readable summary of the fit: status, loss, parameters with standard errors."""
        self._check_fitted()
        lines = [
            f"{type(self).__name__} {self.name!r}: {self.status_.name} - {self.message_}",
            f"  loss {self.loss_:.6g} after {self.n_iter_} steps ({self.fit_seconds_:.1f} s, "
            f"{self.compile_seconds_:.1f} s compiling)",
        ]
        for k, v in self.params_.items():
            std = self.param_std_.get(k)
            if np.ndim(v) == 0:
                pm = f" +/- {std:.3g}" if std is not None else " (fixed)" if k not in self.param_std_ else ""
                lines.append(f"  {k} = {v:.6g}{pm}")
        n_rej = sum(1 for e in self.events_ if e["kind"] == "rejected-step")
        if n_rej:
            lines.append(f"  {n_rej} rejected steps (non-finite loss), learning rate reduced each time")
        return "\n".join(lines)
