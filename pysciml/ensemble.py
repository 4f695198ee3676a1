"""``ps.solve_ensemble``: one model solved for many initial states and parameter sets.

What a systems biologist's parameter scan, a planetary-system study over initial
conditions or a robot's workspace sweep needs: the same solve (model, times, solver,
tolerances, events) for ``n`` members that differ in their initial state and in some
parameters.  The engine runs the members in compiled, vectorised batches whose size is
chosen from ``max_memory`` (XLA's own account of a compiled batch), tells the memory and
time the whole ensemble will take after its first batch (progress bar postfix and the
``pysciml.ensemble`` logger), and answers one :class:`EnsembleSolution` over
``(member, time, ...)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from .engines.registry import get_engine
from .engines.requests import Batching
from .errors import InputError
from .events import DEFAULT_MAX_EVENTS
from .ivp import build_request, check_model, check_ode_solver
from .memory import parse_memory, peak_bytes
from .model_spec import ModelSpec
from .options import check_int
from .progress import open_bar
from .sde.spec import SDEModel
from .stacked import StackedSolution

__all__ = ["solve_ensemble", "EnsembleSolution", "estimate_text"]

log = logging.getLogger("pysciml.ensemble")


class EnsembleSolution(StackedSolution):
    """The members of an ensemble solve.

    Attributes:
        t: save times ``(n_save,)``.
        u: states ``(n_members, n_save, n_states)`` (flat layout; ``sol["name"]`` gives one
            state ``(n_members, n_save, *shape)``); rows of a failed member are NaN after its failure.
        status: the worst member's :class:`pysciml.Status`; ``member_status``: ``(n_members,)`` codes.
        vary: the parameters that differ between members, ``{name: (n_members, *shape)}``.
        u0: the members' initial states ``(n_members, n_states)``.
        params: the parameters every member shares (complete, defaults included).
        stats: the solver's names and settings, ``steps``/``rejected`` per member where the
            solver counts them, ``batch_size``, ``batches``, ``predicted_batch_bytes``,
            ``estimated_seconds`` (told after the first batch), ``seconds``, ``engine``.
        model: the model.
    """

    axis = "member"
    noun = "members"

    def __init__(self, model, t, u, status, stats, *, params, u0, vary):
        super().__init__(model, t, u, status, stats, params=params, u0=u0)
        self.vary = dict(vary)

    @property
    def member_status(self) -> np.ndarray:
        """``(n_members,)`` status codes, one per member."""
        return self._codes

    @property
    def n_members(self) -> int:
        return len(self)

    def to_xarray(self, *, time_units: str | None = None, attrs: Mapping[str, Any] | None = None):
        """An ``xarray.Dataset``: one variable per state over ``(member, time, ...)``; the varied
        parameters, the initial states and the status as coordinates along ``member``."""
        coords: dict[str, Any] = {"member": ("member", np.arange(len(self)), {"long_name": "ensemble member index"})}
        for name, values in self.vary.items():
            spec = self.model.param_specs[name]
            dims = ("member",) + tuple(f"{name}_dim{i}" for i in range(values.ndim - 1))
            c_attrs = {"long_name": spec.description or f"parameter {name} (varied)"}
            if getattr(spec, "units", None):
                c_attrs["units"] = spec.units
            coords[name] = (dims, values, c_attrs)
        coords["u0"] = (("member", "state_value"), np.asarray(self.u0), {"long_name": "initial state (flat layout)"})
        coords["state_value"] = ("state_value", list(self.model.layout.flat_names()))
        coords["status"] = ("member", self._codes, {"long_name": "solver status per member (pysciml.Status code)"})
        return self._dataset(
            coords,
            {
                "title": f"pysciml ensemble of {self.model.name} ({len(self)} members)",
                "source": f"pysciml ensemble solve ({self.stats.get('engine', 'jax')} engine, {self.stats.get('solver')})",
                "varied_parameters": ", ".join(self.vary) or "(initial states only)",
            },
            time_units,
            attrs,
        )

    def __repr__(self):
        varied = f", vary={list(self.vary)}" if self.vary else ""
        return self._describe("EnsembleSolution", varied)


def estimate_text(info: dict) -> str:
    """What an ensemble tells after its first batch: batch size, predicted memory per batch, this
    process's peak memory so far, and the time the whole ensemble will take at that pace."""
    return (
        f"{info['batch_size']} members/batch x {info['batches']}, "
        f"~{info['predicted_batch_bytes'] / 2**20:.0f} MiB/batch predicted, "
        f"peak RSS {peak_bytes() / 2**20:.0f} MiB, ~{info['estimated_seconds']:.1f} s in all"
    )


def _members(model: ModelSpec, u0, vary, params) -> tuple[np.ndarray | None, dict[str, np.ndarray], int]:
    """``(U0 or None, varied values, n_members)`` from the per-member arguments, checked."""
    n_states = model.n_states
    U0 = None
    sizes: dict[str, int] = {}
    if u0 is not None and not isinstance(u0, Mapping) and np.ndim(u0) == 2 and np.shape(u0)[1] == n_states:
        try:
            U0 = np.asarray(u0, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("must hold numbers (one row of initial values per member).", argument="u0") from None
        bad = np.argwhere(~np.isfinite(U0).all(axis=1)).ravel()
        if bad.size:
            raise InputError(
                f"has NaN or infinite values in member rows {bad[:5].tolist()}; pass finite initial values.",
                argument="u0",
            )
        sizes["u0"] = U0.shape[0]
    if vary is None:
        vary = {}
    if not isinstance(vary, Mapping):
        raise InputError(
            f"must be a mapping {{parameter: values per member}}, got {type(vary).__name__}.", argument="vary"
        )
    varied: dict[str, np.ndarray] = {}
    for name, values in vary.items():
        arg = f"vary.{name}"
        if name in model.networks:
            raise InputError(
                "varies network weights; vary takes physics parameters (give fixed weights in params).", argument=arg
            )
        if name not in model.param_specs:
            raise InputError(
                f"is not a parameter of model {model.name!r}; its parameters are {list(model.param_names)}.",
                argument=arg,
            )
        if params is not None and isinstance(params, Mapping) and name in params:
            raise InputError(
                "is given both in params (shared by every member) and in vary (one value per member); give it "
                "in one of them.",
                argument=arg,
            )
        shape = model.param_specs[name].shape
        try:
            a = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"must hold numbers, one value of shape {shape} per member.", argument=arg) from None
        if a.ndim != 1 + len(shape) or a.shape[1:] != shape:
            want = "(n_members,)" if not shape else f"(n_members, {', '.join(str(s) for s in shape)})"
            raise InputError(
                f"has shape {a.shape}; it must be {want}: one value of the parameter's shape {shape} per member.",
                argument=arg,
            )
        if a.shape[0] == 0:
            raise InputError("has no members (a leading length of 0).", argument=arg)
        bad = np.argwhere(~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1)).ravel()
        if bad.size:
            raise InputError(f"has NaN or infinite values in members {bad[:5].tolist()}.", argument=arg)
        varied[name] = a
        sizes[arg] = a.shape[0]
    if not sizes:
        raise InputError(
            f"nothing varies between members: give u0 as an (n_members, {n_states}) array (one initial state "
            "per member) and/or vary={parameter: (n_members, ...) values}.",
            argument="vary",
        )
    counts = set(sizes.values())
    if len(counts) > 1:
        raise InputError(
            f"the per-member arguments disagree on the number of members: {sizes}; give every one the same "
            "leading length.",
            argument=next(iter(sizes)),
        )
    n = counts.pop()
    if n < 1:  # an empty u0 (an empty vary entry is refused above)
        raise InputError("has no members (a leading length of 0).", argument="u0")
    return U0, varied, n


def solve_ensemble(
    model: ModelSpec,
    u0: Any = None,
    t: Any = None,
    saveat: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    vary: Mapping[str, Any] | None = None,
    solver: Any = "auto",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    dt0: float | None = None,
    max_steps: int = 100_000,
    adaptive: bool = True,
    events: Any = None,
    max_events: int = DEFAULT_MAX_EVENTS,
    max_memory: Any = "4GiB",
    batch_size: int | None = None,
    verbose: int = 0,
    engine: str | None = None,
) -> EnsembleSolution:
    """Solve ``model`` once per member of an ensemble: members differ in ``u0`` and/or ``vary``.

    ::

        rep = ps.bio.repressilator()
        alphas = rng.uniform(100, 300, size=10_000)
        ens = ps.solve_ensemble(rep, t=(0, 100), saveat=np.linspace(0, 100, 201), vary={"alpha": alphas},
                                max_memory="1GiB", verbose=1)
        ens["p1"]                 # (10000, 201); ens.member_status, ens.to_xarray() over (member, time)

    Args:
        model: a :class:`pysciml.ODEModel` (or UDE).
        u0: one initial state shared by every member (as in :func:`pysciml.solve`; default the
            model's), or an ``(n_members, n_states)`` array, one flat initial state per member.
        t, saveat: time span and save times, as in :func:`pysciml.solve`.
        params: parameter overrides shared by every member (network weights by network name).
        vary: ``{parameter: values}`` with one value per member, shape ``(n_members, *shape)``
            (``(n_members,)`` for a scalar parameter).
        solver, rtol, atol, dt0, max_steps, adaptive, events, max_events: as in
            :func:`pysciml.solve`, the same for every member (``solver="auto"`` is decided once,
            at the first member).
        max_memory: memory budget of one compiled batch of members (bytes or ``"1GiB"``); the
            batch size is chosen from it (XLA's prediction of the batch's peak, plus its
            output), and a warning is given if even one member is predicted to exceed it.
            ``None``: no limit.
        batch_size: members per batch, fixed (then ``max_memory`` only warns).
        verbose: 0 silent (the estimate still goes to the ``pysciml.ensemble`` logger at INFO);
            1 a progress bar whose postfix tells, after the first batch, the batch size, the
            predicted memory of a batch, the peak memory so far and the time for the whole ensemble.
        engine: ``"jax"`` (default) or ``"julia"`` (one threaded EnsembleProblem; no batching).

    Returns:
        An :class:`EnsembleSolution`; a member that fails has its status in ``member_status``
        and NaN rows after the failure, the others are unaffected.
    """
    if isinstance(model, SDEModel):
        raise InputError(
            "ps.solve_ensemble is for ODE models; an SDE's sample paths come from ps.solve(model, ..., "
            "n_paths=...), and its parameter scans from a loop over ps.solve.",
            argument="model",
        )
    model = check_model(model)
    check_int(batch_size, "batch_size", allow_none=True)
    check_int(verbose, "verbose", minimum=0)
    budget = parse_memory(max_memory)
    U0, varied, n = _members(model, u0, vary, params)
    # the first member's values decide solver="auto"; params that are not a mapping go on as they
    # are, for build_request's error
    first = {k: v[0] for k, v in varied.items()}
    if params is not None:
        first = {**params, **first} if isinstance(params, Mapping) else params
    request, name = build_request(
        model,
        U0[0] if U0 is not None else u0,
        t,
        saveat,
        params=first,
        solver=solver,
        rtol=rtol,
        atol=atol,
        dt0=dt0,
        max_steps=max_steps,
        engine=engine,
        differentiation="forward",
        adaptive=adaptive,
        events=events,
        max_events=max_events,
    )
    check_ode_solver(request)
    if U0 is None:
        U0 = np.repeat(np.asarray(request.u0, dtype=np.float64)[None, :], n, axis=0)
    eng = get_engine(name, operation="solve_ensemble")
    bar = open_bar(n, verbose, desc="ensemble", unit="member")
    told: dict[str, Any] = {}

    def estimate(info):
        told.update(info)
        text = estimate_text(info)
        log.info("ensemble of %d members of %s: %s", n, model.name, text)
        if bar is not None:
            bar.set_postfix_str(text)

    tick = time.perf_counter()
    try:
        raw = eng.solve_ensemble(
            request,
            U0,
            varied,
            Batching(cells_per_batch=batch_size, max_memory=budget),
            estimate,
            None if bar is None else bar.update,
        )
    finally:
        if bar is not None:
            bar.close()
    stats = dict(raw.stats)
    stats.update(engine=name, n_members=n, seconds=time.perf_counter() - tick)
    if "estimated_seconds" in told:
        stats["estimated_seconds"] = told["estimated_seconds"]
    shared = {k: v for k, v in request.params.items() if k not in varied}
    return EnsembleSolution(model, raw.t, raw.u, raw.status, stats, params=shared, u0=U0, vary=varied)
