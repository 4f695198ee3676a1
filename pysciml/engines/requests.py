"""Everything that crosses the engine line: frozen requests in, frozen results out.

The public layer (``ps.solve``, estimators, gridded fits, latent models) validates
the user's arguments and builds one of these requests; an engine
(:class:`pysciml.engines.contract.Engine`) runs it and answers with the matching
result.  Only numpy arrays (or, under ``jax.grad``, the jax engine's own arrays
that the user passed in), engine-free option objects (solvers, optimisers,
strategies, losses) and these dataclasses cross the line.

=====================  ==========================  =====================
operation              request                     result
=====================  ==========================  =====================
``solve``              :class:`SolveRequest`       :class:`RawSolution`
``compile_solve``      :class:`SolveRequest`       :class:`SolveFunction`
``sensitivity``        :class:`SolveRequest`       :class:`Sensitivities`
``solve_cells``        :class:`CellSolveRequest`   :class:`CellSolveResult`
``fit``                :class:`FitRequest`         :class:`FitResult`
``fit_cells``          :class:`CellFitRequest`     :class:`CellFitResult`
``train_latent``       :class:`LatentTrainRequest` :class:`LatentTrainResult`
``*_latent``           :class:`LatentConfig` + arrays  numpy arrays
``solve_sde``          :class:`SDESolveRequest`    :class:`SDERawSolution`
``fit_sde``            :class:`SDEFitRequest`      :class:`SDEFitResult`
=====================  ==========================  =====================

The latent operations take a :class:`LatentSDEConfig` (a subclass) for a latent SDE;
``predict_latent_sde`` (posterior paths of a latent SDE) takes one and answers arrays.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..model_spec import ModelSpec
from ..sde.spec import SDEModel
from ..solvers.adjoints import Adjoint
from ..solvers.base import Solver
from ..solvers.runge_kutta import RungeKutta, Tsit5
from ..solvers.sde import BrownianGrid, BrownianTree, SDESolver
from ..status import Status
from ..training.losses import Loss
from ..training.optimizers import Optimizer
from ..training.strategies import Strategy

__all__ = [
    "SolveRequest",
    "RawSolution",
    "SolveFunction",
    "Sensitivities",
    "FreeParam",
    "FitRequest",
    "FitHooks",
    "FitResult",
    "CellFitRequest",
    "CellSolveRequest",
    "CellBlock",
    "Batching",
    "CellFitResult",
    "CellSolveResult",
    "LatentConfig",
    "LatentSDEConfig",
    "LatentTrainRequest",
    "LatentTrainResult",
    "new_token",
    "SDESolveRequest",
    "SDERawSolution",
    "SDEFitRequest",
    "SDEFitResult",
    "state_arrays",
    "arrays_list",
]


# -- solving ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class SolveRequest:
    """Everything an engine needs to solve one initial-value problem.

    Attributes:
        model: the model (physics, layout, declarations).
        u0: flat initial state, shape ``(n_states,)``.
        params: physics parameter values by name (validated, complete).
        network_params: flat weights by network name (complete).
        t0, t1: integration interval (``t1 > t0``).
        saveat: increasing times in ``[t0, t1]`` where the solution is returned.
        solver: a solver object (may be :class:`pysciml.solvers.auto.Auto`).
        rtol, atol: tolerances (positive).
        dt0: first step size, or ``None`` to let the solver choose.
        max_steps: step budget.
        adaptive: False for fixed steps of size ``dt0`` (convergence studies).
        differentiation: ``"reverse"`` (``jax.grad``-friendly) or ``"forward"``
            (``jax.jvp``/``jacfwd``-friendly) for engines where it matters.
        events: :class:`pysciml.Event` / :class:`pysciml.At` objects (validated), or ``()``.
        at_times: for each ``At`` in ``events`` (in order), its times inside ``[t0, t1]``.
        max_events: how many events the solve may apply.
    """

    model: ModelSpec
    u0: Any
    params: Mapping[str, Any]
    network_params: Mapping[str, Any]
    t0: float
    t1: float
    saveat: Any
    solver: Solver
    rtol: Any = 1e-6
    atol: Any = 1e-8
    dt0: float | None = None
    max_steps: int = 100_000
    adaptive: bool = True
    differentiation: str = "reverse"
    events: tuple = ()
    at_times: tuple = ()
    max_events: int = 0


@dataclasses.dataclass(frozen=True, eq=False)
class RawSolution:
    """An engine's answer to a :class:`SolveRequest`.

    Attributes:
        t: save times, shape ``(n_save,)``.
        u: states at the save times, shape ``(n_save, n_states)``; rows after a
            failure are NaN.
        status: integer status code (see :class:`pysciml.Status`), possibly an array.
        stats: counters (``steps``, ``rejected``, ``nfev``, ``njev``, ``nlu``...) and
            ``solver`` (the method that ran) and ``t_end`` (time reached).
    """

    t: Any
    u: Any
    status: Any
    stats: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, eq=False)
class SolveFunction:
    """An engine's compiled solve of one :class:`SolveRequest`, as a function of the initial state
    and the parameters (the answer to ``compile_solve``; what ``ps.compile`` calls).

    Attributes:
        run: ``run(u0, params, network_params) -> (ys, status, internal)``: ``u0`` flat
            ``(n_states,)``, ``params`` complete ``{name: value}``, ``network_params``
            ``{name: flat weights}``; every other field of the request (times, tolerances,
            solver) is fixed.  ``ys`` is ``(n_save, n_states)`` (rows after a failure are NaN).
            On the jax engine a pure jax function (``jax.grad``, ``jax.vmap``, ``jax.jit``).
        finish: ``finish(ys, status, internal) -> stats``: the host-side stats of one concrete
            run, as in :attr:`RawSolution.stats`.
        method_key: what the engine decided beyond the request's own fields (the solver plan
            of ``solver="auto"``, decided from the request's values): two functions of equal
            requests and equal ``method_key`` compute the same thing.
    """

    run: Callable
    finish: Callable
    method_key: Any = None


@dataclasses.dataclass(frozen=True, eq=False)
class Sensitivities:
    """Jacobians of the saved states (an engine's answer to ``sensitivity``), numpy arrays.

    Attributes:
        t: (n_save,) save times; u: (n_save, n) states.
        status: the solve's :class:`pysciml.Status`.
        u0: (n_save, n, n) with ``u0[i, j, k] = d u_j(t_i) / d u0_k``, if asked for.
        params: ``{name: (n_save, n, *shape)}`` for the parameters asked for.
    """

    t: np.ndarray
    u: np.ndarray
    status: Status
    u0: np.ndarray | None = None
    params: Mapping[str, np.ndarray] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The public form: ``{"t", "u", "status"}`` plus ``"u0"`` / ``"params"`` where computed."""
        out: dict[str, Any] = {"t": self.t, "u": self.u, "status": self.status}
        if self.u0 is not None:
            out["u0"] = self.u0
        if self.params is not None:
            out["params"] = dict(self.params)
        return out


# -- fitting -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FreeParam:
    """A physics parameter the fit changes: its name, bounds and unconstrained start."""

    name: str
    bounds: tuple[float | None, float | None] | None
    z0: np.ndarray  # unconstrained initial value, the parameter's shape


@dataclasses.dataclass(frozen=True, eq=False)
class FitRequest:
    """Everything an engine needs to fit a model to observations.

    Attributes:
        model: the model.
        t, y, mask, valid, lengths: padded observations (see :class:`pysciml.data.trajectory.Padded`).
        scales: (n_states,) per-state scale of the data.
        t0: (n_traj,) start time of each trajectory's integration.
        u0_init: (n_traj, n_states) initial states to start from.
        u0_free: (n_traj, n_states) bool, which initial-state entries are fitted.
        free: physics parameters that are fitted.
        fixed: values of the physics parameters that are not.
        networks_init: initial flat weights per network.
        free_networks: networks whose weights are fitted (the others stay at their initial weights).
        loss: data term; ``l2``: weight of the L2 penalty on network weights.
        strategy, optimizers: how to train.
        solver, adjoint, rtol, atol, max_steps: how to solve and differentiate.
        seed: integer seed (initial weights, any randomness in training).
        events, at_times, max_events: events applied in every solve of the loss (as in
            :class:`SolveRequest`; single shooting and the growing horizon only).
    """

    model: ModelSpec
    t: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    valid: np.ndarray
    lengths: np.ndarray
    scales: np.ndarray
    t0: np.ndarray
    u0_init: np.ndarray
    u0_free: np.ndarray
    free: tuple[FreeParam, ...]
    fixed: Mapping[str, np.ndarray]
    networks_init: Mapping[str, np.ndarray]
    free_networks: tuple[str, ...]
    loss: Loss
    l2: float
    strategy: Strategy
    optimizers: tuple[Optimizer, ...]
    solver: Solver
    adjoint: Adjoint | None
    rtol: float
    atol: float
    max_steps: int
    seed: int
    events: tuple = ()
    at_times: tuple[tuple[float, ...], ...] = ()
    max_events: int = 64

    @property
    def n_traj(self) -> int:
        return self.t.shape[0]

    @property
    def n_obs(self) -> int:
        return int(self.mask.sum())


@dataclasses.dataclass(frozen=True)
class FitHooks:
    """Host-side hooks a fit calls between chunks of steps.

    Attributes:
        progress: ``progress(steps_done, loss)``; None for silence.
        callback: the user's ``callback(info) -> bool`` (True stops training).
        checkpoint: an object with ``due(step) -> bool`` and ``save(meta, arrays, step)``
            (:class:`pysciml.fitting.checkpoint.Checkpointer`), or None.
        resume_state: ``(meta, arrays)`` of a checkpoint to resume from, or None.
        should_stop: polled between chunks of steps; True stops like Ctrl-C (checkpoint, best so far).
        estimate: ``estimate(info)`` called once early in a run, so the caller can tell the user
            the memory and time a large fit will take: after the first batch of a per-cell fit
            (``cells_per_batch``, ``batches``, ``predicted_batch_bytes``, ``first_batch_seconds``,
            ``estimated_seconds`` for the whole block); after the second step of a latent
            model's training (``compile_seconds``, ``step_seconds``, ``estimated_seconds``,
            ``peak_bytes``).
    """

    progress: Callable | None = None
    callback: Callable | None = None
    checkpoint: Any = None
    resume_state: Any = None
    should_stop: Callable[[], bool] | None = None
    estimate: Callable[[dict], None] | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class FitResult:
    """An engine's answer to a :class:`FitRequest` (numpy values).

    Attributes:
        params: fitted physics parameter values (all, fixed ones included).
        network_params: fitted flat weights per network.
        u0: (n_traj, n_states) fitted initial states.
        loss_history: loss after every optimiser step, all phases concatenated.
        phases: ``[{"name", "start", "stop", "optimizer", "strategy", "horizon"}]`` index ranges into the history.
        events: ``[{"step", "kind", "detail"}]``: rejected steps (NaN loss, solver
            failure), learning-rate cuts, early stops, interruptions.
        status: overall status (SUCCESS, INTERRUPTED, FAILED...).
        message: what happened.
        final_loss: the loss at the returned parameters.
        covariance: ``{name: covariance}`` of the physics parameters (Laplace/Gauss-Newton),
            or empty when not computed.
        sigma: fitted noise levels (GaussianNLL with sigma="fit"), else None.
        seconds: wall time of the fit; ``compile_seconds``: of which compiling.
        solver: the solver object used inside the loss (``auto`` resolved).
    """

    params: Mapping[str, np.ndarray]
    network_params: Mapping[str, np.ndarray]
    u0: np.ndarray
    loss_history: np.ndarray
    phases: list[dict]
    events: list[dict]
    status: Status
    message: str
    final_loss: float
    covariance: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    sigma: np.ndarray | None = None
    seconds: float = 0.0
    compile_seconds: float = 0.0
    solver: Solver | None = None


def state_arrays(prefix: str, leaves) -> dict[str, np.ndarray]:
    """A training state's list of arrays as ``{prefix/i: array}`` (the form checkpoints store)."""
    return {f"{prefix}/{i}": np.asarray(x) for i, x in enumerate(leaves)}


def arrays_list(arrays: Mapping[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    """Inverse of :func:`state_arrays`."""
    keys = sorted((k for k in arrays if k.startswith(prefix + "/")), key=lambda k: int(k.rsplit("/", 1)[1]))
    return [arrays[k] for k in keys]


# -- gridded cells ------------------------------------------------------------------------------
def new_token() -> str:
    """A fresh identifier for a cell request (kept through pickling)."""
    return uuid.uuid4().hex


@dataclasses.dataclass(frozen=True, eq=False)
class CellFitRequest:
    """A per-cell (or per-cell + shared) fit, without the cells' data.

    The engine receives the cells block by block (:class:`CellBlock`), so the same
    request serves an in-memory array, every chunk of a dask array and every worker
    of a dask cluster.

    Attributes:
        model: the model (scalar states only).
        t: (n_t,) model times shared by every cell; cells start at ``t[0]``.
        per_cell: physics parameters fitted in every cell (name, bounds, default unconstrained start).
        shared: physics parameters fitted jointly over all cells.
        shared_networks: networks fitted jointly over all cells.
        fixed: values of the physics parameters nobody fits.
        networks_init: flat weights of every network (start of the shared ones).
        fit_u0: fit each cell's initial state.
        loss, l2, strategy, optimizers: as in ``model.fit``.
        solver, adjoint, rtol, atol, max_steps: solver inside the loss (``solver`` already
            resolved from ``auto``: every cell uses one static method).
        differentiation: ``"auto"``, ``"forward"`` or ``"reverse"`` for the cell gradients.
        seed: seed of the network weights.
        token: identifies this request in every process (compiled functions are reused by it).
    """

    model: ModelSpec
    t: np.ndarray
    per_cell: tuple[FreeParam, ...]
    shared: tuple[FreeParam, ...]
    shared_networks: tuple[str, ...]
    fixed: Mapping[str, np.ndarray]
    networks_init: Mapping[str, np.ndarray]
    fit_u0: bool
    loss: Loss
    l2: float
    strategy: Strategy
    optimizers: tuple[Optimizer, ...]
    solver: Solver
    adjoint: Adjoint | None
    rtol: float
    atol: float
    max_steps: int
    differentiation: str = "auto"
    seed: int = 0
    token: str = dataclasses.field(default_factory=new_token)

    @property
    def n_states(self) -> int:
        return self.model.n_states

    @property
    def joint(self) -> bool:
        """True when some parameters are shared by all cells (one joint optimisation)."""
        return bool(self.shared or self.shared_networks)


@dataclasses.dataclass(frozen=True, eq=False)
class CellSolveRequest:
    """Solving the same model in many cells, each with its own parameters and initial state.

    Attributes:
        model: the model.
        t0: model time of the initial states.
        ts: (n_t,) increasing output times, ``ts[0] >= t0``.
        per_cell: names of the parameters given per cell.
        values: the other physics parameter values (same in every cell).
        networks: flat network weights.
        solver, rtol, atol, max_steps: solver settings (``solver`` resolved from ``auto``).
        token: identifies this request in every process.
    """

    model: ModelSpec
    t0: float
    ts: np.ndarray
    per_cell: tuple[str, ...]
    values: Mapping[str, np.ndarray]
    networks: Mapping[str, np.ndarray]
    solver: Solver
    rtol: float = 1e-6
    atol: float = 1e-8
    max_steps: int = 100_000
    token: str = dataclasses.field(default_factory=new_token)


@dataclasses.dataclass(frozen=True, eq=False)
class CellBlock:
    """The data of one block of cells to fit.

    Attributes:
        y: (n_block, n_t, n_states) observations (NaN = missing) of every cell of the block.
        cells: indices into ``y`` of the cells to fit (the others are not touched).
        z0: per-cell unconstrained starts ``{name: (n_cells, *shape)}`` (missing: the declared default).
        u0: (n_cells, n_states) given initial states (NaN: from the data), or None.
    """

    y: np.ndarray
    cells: np.ndarray
    z0: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    u0: np.ndarray | None = None


@dataclasses.dataclass(frozen=True)
class Batching:
    """How cells are grouped into compiled batches.

    Attributes:
        cells_per_batch: a fixed batch size, or None to choose it from ``max_memory``.
        max_memory: memory budget of one batch in bytes, or None.
        workers: batches run at once in threads.
    """

    cells_per_batch: int | None = None
    max_memory: int | None = None
    workers: int = 1


@dataclasses.dataclass(frozen=True, eq=False)
class CellFitResult:
    """An engine's answer to ``fit_cells`` for one block (rows in the order of ``CellBlock.cells``).

    Attributes:
        params: fitted per-cell values ``{name: (n_cells, *shape)}``.
        u0: (n_cells, n_states) fitted initial states.
        loss, status, rejected: (n_cells,) final loss, :class:`pysciml.Status` code, rejected steps.
        rmse: (n_cells, n_states) root mean square error of each state.
        history: per-cell fits: (n_cells, n_hist) loss at ``history_steps``; joint fits: (n_hist,).
        history_steps: the optimiser steps of the history columns.
        solver: name of the method that ran; batch, predicted_bytes: batch size and its predicted memory.
        sigma: (n_cells, n_states) fitted noise levels (``GaussianNLL(sigma="fit")``), else None.
        shared_params, networks: joint fits only: the shared physics values and network weights.
        fit_status, events: joint fits only: overall status and the training events.
    """

    params: Mapping[str, np.ndarray]
    u0: np.ndarray
    loss: np.ndarray
    status: np.ndarray
    rejected: np.ndarray
    rmse: np.ndarray
    history: np.ndarray
    history_steps: np.ndarray
    solver: str
    batch: int
    predicted_bytes: int
    sigma: np.ndarray | None = None
    shared_params: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    networks: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    fit_status: Status | None = None
    events: tuple = ()


@dataclasses.dataclass(frozen=True, eq=False)
class CellSolveResult:
    """An engine's answer to ``solve_cells``.

    Attributes:
        u: (n_cells, n_t, n_states) solutions (NaN after a failure).
        status: (n_cells,) :class:`pysciml.Status` codes.
        solver: name of the method that ran.
    """

    u: np.ndarray
    status: np.ndarray
    solver: str


# -- latent ODEs ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LatentConfig:
    """Everything an engine needs to build and run a latent ODE's networks (hashable: a jit static argument).

    Attributes:
        n_latent: latent dimension K.
        encoder_hidden, ode_hidden, decoder_hidden: widths (decoder_hidden 0 = linear decoder).
        encoder: ``"ode-rnn"`` or ``"gru"``.
        encoder_steps: fixed Tsit5 steps of the encoder's ODE between two observations.
        solver: explicit Runge-Kutta method of the latent flow (``ps.Tsit5()``..., or ``Euler()``), adaptive
            with rtol/atol unless ``dt`` is set.
        rtol, atol, max_steps: step control of the latent flow.
        dt: fixed step of the latent flow in scaled (network) time, or None: adaptive steps.
        n_condition: size of the condition vector each series carries (0: unconditional); the
            condition is appended to the encoder's inputs, the latent vector field's and the decoder's.
        noise_scaled: fixed observation noise std per state in scaled units, or None (learned).
        min_noise: floor of the learned noise std (scaled units).
    """

    n_latent: int = 4
    encoder_hidden: int = 32
    ode_hidden: int = 32
    decoder_hidden: int = 32
    encoder: str = "ode-rnn"
    encoder_steps: int = 2
    solver: RungeKutta = Tsit5()
    rtol: float = 1e-5
    atol: float = 1e-7
    max_steps: int = 4096
    noise_scaled: tuple[float, ...] | None = None
    min_noise: float = 1e-3
    dt: float | None = None
    n_condition: int = 0


@dataclasses.dataclass(frozen=True)
class LatentSDEConfig(LatentConfig):
    """A latent SDE's networks and its fixed-step Euler-Maruyama solve (a :class:`LatentConfig` whose
    ``ode_hidden`` is the width of the posterior and prior drifts; ``solver``, ``rtol``, ``atol``
    and ``max_steps`` are not used).

    Attributes:
        context_size: width of the encoder's context read by the posterior drift.
        diffusion_hidden: width of the diagonal diffusion net (0: one learned constant per latent dim).
        dt: Euler-Maruyama step (scaled time; the step used divides each solve's span evenly, <= dt).
        span: scaled time every solve covers from its start (set from the data or the query times).
    """

    context_size: int = 8
    diffusion_hidden: int = 16
    dt: float = 0.1
    span: float = 1.0


@dataclasses.dataclass(frozen=True, eq=False)
class LatentTrainRequest:
    """Training a latent ODE on padded, scaled series (``T, Y, M``: (n_series, L), (n_series, L, D), mask).

    Attributes:
        config: the networks and the latent flow.
        T, Y, M: padded model times (scaled), values (scaled, NaN replaced) and observation mask.
        steps, batch_size, learning_rate, kl_anneal, n_samples, clip, seed: as in ``LatentODE.fit``.
        weights: weights to continue from (``warm_start``), or None for fresh ones.
        C: (n_series, config.n_condition) scaled condition of each series, or None (unconditional).
    """

    config: LatentConfig
    T: np.ndarray
    Y: np.ndarray
    M: np.ndarray
    steps: int
    batch_size: int
    learning_rate: float
    kl_anneal: float
    n_samples: int
    clip: float
    seed: int
    weights: tuple[np.ndarray, ...] | None = None
    C: np.ndarray | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class LatentTrainResult:
    """An engine's answer to ``train_latent``.

    Attributes:
        weights: the trained weights (float64 arrays, in the engine's fixed order).
        history: ``{"loss", "loglik", "kl", "beta"}`` per step.
        rejected_steps: steps skipped because the loss or gradient was not finite.
        compile_seconds: of the training's wall time, compiling.
    """

    weights: tuple[np.ndarray, ...]
    history: Mapping[str, np.ndarray]
    rejected_steps: int
    compile_seconds: float


# -- stochastic differential equations -----------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class SDESolveRequest:
    """Everything an engine needs to solve an SDE for many sample paths.

    Attributes:
        model: the :class:`pysciml.SDEModel`.
        u0: flat initial state ``(n_states,)`` (the same for every path).
        params, network_params: as in :class:`SolveRequest`.
        t0, t1, saveat: interval and save times.
        solver: an :class:`pysciml.solvers.sde.SDESolver`.
        dt0: (first) step size; ``adaptive``: error-controlled steps (``rtol``, ``atol``).
        max_steps: step budget per path.
        seed: the paths' seed; path ``i`` depends only on ``seed`` and ``i``.
        n_paths: number of sample paths (vmapped).
        brownian: :class:`BrownianTree` or :class:`BrownianGrid` (resolved, never None).
        differentiation: ``"reverse"`` or ``"forward"``.
    """

    model: SDEModel
    u0: Any
    params: Mapping[str, Any]
    network_params: Mapping[str, Any]
    t0: float
    t1: float
    saveat: Any
    solver: SDESolver
    dt0: float
    adaptive: bool
    rtol: Any
    atol: Any
    max_steps: int
    seed: int
    n_paths: int
    brownian: BrownianTree | BrownianGrid
    differentiation: str = "reverse"


@dataclasses.dataclass(frozen=True, eq=False)
class SDERawSolution:
    """An engine's answer to an :class:`SDESolveRequest`.

    Attributes:
        t: ``(n_save,)`` save times; u: ``(n_paths, n_save, n_states)``.
        status: ``(n_paths,)`` status codes; stats: ``steps`` and ``rejected`` per path, ``solver``.
    """

    t: Any
    u: Any
    status: Any
    stats: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, eq=False)
class SDEFitRequest:
    """Everything an engine needs to fit an SDE's drift and diffusion to observed paths.

    The objective is the Euler-Maruyama transition likelihood between consecutive
    observations (see :func:`pysciml.fit_sde`), averaged over the transitions.

    Attributes:
        model: the :class:`pysciml.SDEModel` (its noise admits a non-singular covariance).
        t: ``(n_times,)`` increasing observation times, shared by the paths.
        x: ``(n_paths, n_times, n_states)`` observed states (finite, flat layout).
        free: the physics parameters the fit changes (unconstrained starts, bounds).
        fixed: values of the parameters it keeps.
        networks_init: flat weights of every network at the start.
        free_networks: names of the networks it trains.
        optimizers: the chain of :class:`pysciml.Adam` / :class:`pysciml.LBFGS` phases.
        l2: weight of the mean squared network weights added to the loss.
    """

    model: SDEModel
    t: np.ndarray
    x: np.ndarray
    free: tuple[FreeParam, ...]
    fixed: Mapping[str, np.ndarray]
    networks_init: Mapping[str, np.ndarray]
    free_networks: tuple[str, ...]
    optimizers: tuple[Optimizer, ...]
    l2: float = 0.0


@dataclasses.dataclass(frozen=True, eq=False)
class SDEFitResult:
    """An engine's answer to an :class:`SDEFitRequest` (numpy values).

    Attributes:
        params: every physics parameter's value (fitted and fixed).
        network_params: flat weights of every network.
        nll: total negative log-likelihood of the transitions at the fitted values.
        loss_history: the loss (mean NLL per transition, plus the l2 term) per step.
        phases, events: as in :class:`FitResult`.
        status, message: :class:`pysciml.Status` and what happened.
        drift_scale: the ``dt``-weighted mean of ``dt_i * |df/du (x_i)|`` over the observed
            transitions at the fitted values (the Euler-Maruyama bias grows with it).
        seconds, compile_seconds: wall time of the fit and of its compilation.
    """

    params: Mapping[str, np.ndarray]
    network_params: Mapping[str, np.ndarray]
    nll: float
    loss_history: np.ndarray
    phases: list
    events: list
    status: Status
    message: str
    drift_scale: float
    seconds: float
    compile_seconds: float
