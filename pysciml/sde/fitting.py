"""``ps.fit_sde``: an SDE's drift and diffusion parameters (and networks) fitted to observed paths.

The objective is the **Euler-Maruyama transition likelihood**: between consecutive
observations ``x_i`` and ``x_{i+1}``, ``dt_i`` apart, the transition is taken as Gaussian,

``x_{i+1} | x_i ~ N(x_i + f(x_i, t_i) dt_i,  g g^T (x_i, t_i) dt_i)``

and the fit minimises the negative log of the product of these densities over every
transition of every path.  Why this and not a path-space loss: the paths' randomness
*is* the data; the likelihood reads the diffusion from the size of the increments
(their quadratic variation) and the drift from their mean, and its maximiser converges
to the true parameters as ``dt -> 0`` and the number of transitions grows.  A
mean-squared error between simulated and observed paths would instead be smallest for
the diffusion that makes simulated paths as smooth as possible (it collapses ``g``
towards zero), and it needs simulations with common noise the data do not share.

Its one approximation is the Euler step: the bias of the drift parameters is of order
``dt * |df/du|`` (on an Ornstein-Uhlenbeck process the fitted rate is about
``theta (1 - theta dt / 2)``).  :func:`fit_sde` measures the ``dt``-weighted mean of
``dt |df/du|`` over the data at the fitted values and warns when it exceeds ``max_drift_scale``.
"""

from __future__ import annotations

import time as _time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..engines.registry import engine_name, get_engine
from ..engines.requests import FitHooks, FreeParam, SDEFitRequest, SDEFitResult
from ..errors import InputError
from ..fitting.estimator import progress_bar
from ..fitting.problem import fit_optimizers, free_params
from ..ivp import solve
from ..params import Param
from ..status import Status
from ..training.losses import to_unconstrained
from ..training.optimizers import LBFGS, Adam
from .observed import observed_paths
from .saved_fit import save_sde_fit
from .solution import SDESolution
from .spec import SDEModel

__all__ = ["fit_sde", "SDEFit", "DEFAULT_SDE_OPTIMIZERS", "CoarseDataWarning"]

#: Adam to get near the optimum, L-BFGS to converge (the likelihood is smooth in the parameters)
DEFAULT_SDE_OPTIMIZERS = (Adam(2e-2, steps=200, schedule="cosine", final_fraction=0.1), LBFGS(steps=300))


class CoarseDataWarning(UserWarning):
    """The observations are too far apart for the Euler-Maruyama likelihood to be accurate."""


def _check_noise(model: SDEModel) -> None:
    n = model.n_states
    if model.noise == "scalar" and n > 1:
        raise InputError(
            f"has scalar noise (one Brownian motion) and {n} state values, so the transition covariance "
            "g g^T dt has rank 1 and the Gaussian transition likelihood does not exist; declare "
            "noise='diagonal' (one Brownian motion per state) or noise='general' with n_noise >= n_states.",
            argument="model",
        )
    if model.noise == "general" and (model.n_noise or 0) < n:
        raise InputError(
            f"has noise='general' with n_noise={model.n_noise} < n_states={n}, so the transition covariance "
            "g g^T dt is singular and the Gaussian transition likelihood does not exist; use at least "
            f"{n} Brownian motions.",
            argument="model",
        )


def _fitted_model(model: SDEModel, values: Mapping[str, np.ndarray]) -> SDEModel:
    params = {
        name: Param(
            np.asarray(values[name]),
            bounds=spec.bounds,
            units=spec.units,
            description=spec.description,
            fixed=spec.fixed,
        )
        for name, spec in model.param_specs.items()
    }
    return SDEModel(
        model.drift,
        model.diffusion,
        model.layout.specs,
        params,
        model.networks or None,
        noise=model.noise,
        n_noise=model.n_noise if model.noise == "general" else None,
        calculus=model.calculus,
        name=model.name,
        time_units=model.time_units,
        u0=model.u0,
    )


class SDEFit:
    """An SDE fitted to observed paths (what :func:`pysciml.fit_sde` returns).

    Attributes:
        model: an :class:`pysciml.SDEModel` like the one fitted, with the fitted values as
            its parameters' defaults (networks: pass ``network_params_`` to ``ps.solve``).
        params_: every physics parameter's value ``{name: float or array}`` (fixed ones included).
        fitted_: names of the parameters and networks the fit changed.
        network_params_: flat weights of every network.
        nll_: negative log-likelihood of all transitions at the fitted values.
        n_transitions_: number of transitions (paths x (times - 1)).
        drift_scale_: the ``dt``-weighted mean of ``dt |df/du|`` over the data at the fitted values
            (see the module doc).
        loss_history_: mean NLL per transition at each optimiser step.
        status, message: :class:`pysciml.Status` of the fit and what happened.
        events_, phases_, seconds_, compile_seconds_: the optimiser's record.
    """

    def __init__(
        self,
        model: SDEModel,
        result: SDEFitResult,
        fitted: Sequence[str],
        engine: str,
        *,
        dt_typical: float,
        n_transitions: int,
    ):
        self.model = _fitted_model(model, result.params)
        self.params_ = {k: (float(v) if np.ndim(v) == 0 else np.asarray(v)) for k, v in result.params.items()}
        self.fitted_ = tuple(fitted)
        self.network_params_ = dict(result.network_params)
        self.nll_ = float(result.nll)
        self.drift_scale_ = float(result.drift_scale)
        self.loss_history_ = np.asarray(result.loss_history)
        self.status = result.status
        self.message = result.message
        self.events_ = list(result.events)
        self.phases_ = list(result.phases)
        self.seconds_ = float(result.seconds)
        self.compile_seconds_ = float(result.compile_seconds)
        self.engine = engine
        #: the data's median time step (``simulate``'s default step is a tenth of it)
        self.dt_typical_ = float(dt_typical)
        self.n_transitions_ = int(n_transitions)

    @property
    def ok(self) -> bool:
        return self.status is Status.SUCCESS

    def simulate(
        self,
        u0: Any,
        t: Any,
        *,
        n_paths: int = 100,
        seed: int = 0,
        dt0: float | None = None,
        solver: Any = "auto",
        saveat: Any = None,
    ) -> SDESolution:
        """Sample paths of the fitted SDE (``ps.solve`` with the fitted parameters and networks).

        Args:
            u0, t, saveat, solver, seed, n_paths: as in :func:`pysciml.solve`.
            dt0: fixed step; default a tenth of the data's median time step.
        """
        params: dict[str, Any] = dict(self.network_params_)
        sol = solve(
            self.model,
            u0,
            t,
            saveat,
            params=params,
            solver=solver,
            dt0=self.dt_typical_ / 10 if dt0 is None else dt0,
            seed=seed,
            n_paths=n_paths,
            engine=self.engine,
        )
        assert isinstance(sol, SDESolution)
        return sol

    def save(self, path) -> None:
        """Write ``path.json`` and ``path.npz`` (declaration, fitted values, record; no code, no pickle).

        ``ps.load(path)`` reads it back; the drift and diffusion come from their (already
        imported) modules or from ``ps.load(path, physics=drift, diffusion=diffusion)``.
        """
        save_sde_fit(self, path)

    def __repr__(self):
        shown = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}=<{np.shape(v)}>"
            for k, v in self.params_.items()
            if k in self.fitted_
        )
        nets = [k for k in self.fitted_ if k in self.network_params_]
        if nets:
            shown += (", " if shown else "") + f"networks={nets}"
        return (
            f"SDEFit(model={self.model.name!r}, status={self.status.name}, {shown}, "
            f"nll={self.nll_:.6g}, transitions={self.n_transitions_})"
        )


def fit_sde(
    model: SDEModel,
    data: Any,
    t: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    fit: Sequence[str] | None = None,
    fixed: Sequence[str] | None = None,
    optimizers: Any = None,
    l2: float = 0.0,
    seed: int = 0,
    network_params: Mapping[str, Any] | None = None,
    max_drift_scale: float = 0.1,
    engine: str | None = None,
    verbose: int = 1,
    callback: Callable | None = None,
) -> SDEFit:
    """Fit an SDE's drift and diffusion parameters (and networks) to observed sample paths.

    Maximises the Euler-Maruyama transition likelihood (module doc): between consecutive
    observations the increment is Gaussian with mean ``f dt`` and covariance ``g g^T dt``
    (``diag(g^2) dt`` for diagonal, additive and one-state scalar noise; general noise
    by Cholesky, which needs ``n_noise >= n_states``).  It is exact as ``dt -> 0``; for
    coarser data the drift parameters are biased by about ``dt |df/du|``, and a
    :class:`CoarseDataWarning` says so when that exceeds ``max_drift_scale``.

    Positivity: the likelihood sees only ``g g^T``, so a diffusion parameter's sign is not
    identified; declare it ``ps.Param(0.5, bounds=(0, None))`` and it is fitted in a softplus
    space (bounds of any parameter are kept through smooth transforms, as in model fits).

    Args:
        model: an :class:`pysciml.SDEModel` (Ito or Stratonovich; the drift is converted to Ito).
        data: observed paths: an ``(n_paths, n_times, n_states)`` array with ``t``, an
            ``xarray.Dataset`` (one variable per state over ``(path, time)``, as
            ``SDESolution.to_xarray()`` writes), an ``xarray.DataArray`` over
            ``(path, time[, state])`` or an :class:`pysciml.SDESolution`.  Times are shared by
            the paths and may be unevenly spaced; no value may be missing.
        t: ``(n_times,)`` increasing observation times (plain arrays only).
        params: starting values (defaults: the model's).
        fit, fixed: names of the parameters (and networks) to fit, or to keep (not both);
            default: every parameter not declared ``fixed=True`` and every network.
        optimizers: an optimiser or a chain (default :data:`DEFAULT_SDE_OPTIMIZERS`).
        l2: weight decay on trained network weights (mean square).
        seed: initial network weights.
        network_params: starting flat weights ``{network: weights}``.
        max_drift_scale: warn when the ``dt``-weighted mean of ``dt |df/du|`` over the data exceeds this.
        engine: ``"jax"`` (the julia engine refuses SDE fits by name).
        verbose: 0 silences the progress bar.
        callback: ``callback(info) -> bool`` between chunks of steps; True stops.

    Returns:
        an :class:`SDEFit`.
    """
    if not isinstance(model, SDEModel):
        raise InputError(
            f"must be a ps.SDEModel, got {type(model).__name__}; ODE models are fitted with model.fit(data).",
            argument="model",
        )
    _check_noise(model)
    t_arr, x = observed_paths(model, data, t)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"must be an integer, got {seed!r}.", argument="seed")
    if not (isinstance(l2, (int, float)) and np.isfinite(l2) and l2 >= 0):
        raise InputError(f"must be a non-negative number, got {l2!r}.", argument="l2")
    if not (isinstance(max_drift_scale, (int, float)) and max_drift_scale > 0):
        raise InputError(f"must be a positive number, got {max_drift_scale!r}.", argument="max_drift_scale")
    if not isinstance(verbose, (int, bool)):
        raise InputError(f"must be an integer (0 = silent), got {verbose!r}.", argument="verbose")
    start = model.resolve_params(params)
    free_names, fixed_names, free_nets = free_params(model, fit, fixed)
    if not free_names and not free_nets:
        raise InputError("nothing to fit: every parameter is fixed.", argument="fit")
    nets = model.init_networks(int(seed))
    for k, v in (network_params or {}).items():
        if k not in nets:
            raise InputError(f"unknown network {k!r}; the model has {list(nets)}.", argument="network_params")
        w = np.asarray(v, dtype=float).reshape(-1)
        if w.size != nets[k].size:
            raise InputError(f"network {k!r} has {nets[k].size} weights, got {w.size}.", argument="network_params")
        nets[k] = w
    opts = DEFAULT_SDE_OPTIMIZERS if optimizers is None else fit_optimizers(optimizers)
    request = SDEFitRequest(
        model=model,
        t=t_arr,
        x=x,
        free=tuple(
            FreeParam(n, model.param_specs[n].bounds, to_unconstrained(start[n], model.param_specs[n].bounds))
            for n in free_names
        ),
        fixed={n: np.asarray(start[n], dtype=float) for n in fixed_names},
        networks_init=nets,
        free_networks=tuple(free_nets),
        optimizers=opts,
        l2=float(l2),
    )
    name = engine_name(engine)
    eng = get_engine(name, operation="fit_sde")
    bar, update = progress_bar(sum(o.steps for o in opts), verbose)
    t0 = _time.perf_counter()
    try:
        result = eng.fit_sde(request, FitHooks(progress=update, callback=callback))
    finally:
        if bar is not None:
            bar.close()
    out = SDEFit(
        model,
        result,
        [*free_names, *free_nets],
        name,
        dt_typical=float(np.median(np.diff(t_arr))),
        n_transitions=int(x.shape[0] * (x.shape[1] - 1)),
    )
    out.seconds_ = _time.perf_counter() - t0
    if out.ok and out.drift_scale_ > max_drift_scale:
        warnings.warn(
            f"the observations are coarse for the Euler-Maruyama likelihood: dt |df/du| = "
            f"{out.drift_scale_:.3g} > {max_drift_scale} at the fitted values, so the drift parameters may be "
            f"biased by about {out.drift_scale_ / 2:.0%} (towards slower dynamics). Observe more often, or "
            "treat the fitted drift as that of the discretised process.",
            CoarseDataWarning,
            stacklevel=2,
        )
    if verbose and not out.ok:
        print(f"pysciml fit_sde: {out.status.name}: {out.message}")
    return out
