"""The engine contract: every operation the public layer asks of an engine.

An engine (:mod:`pysciml.engines.jax`, :mod:`pysciml.engines.julia`) implements
each method below.  One it cannot do raises :class:`EngineUnavailableError`
through :meth:`Engine.unavailable`, naming the operation, the engine and what to
use instead; :meth:`Engine.capabilities` lists the operations it can do, so the
public layer refuses early (:func:`pysciml.engines.get_engine` with
``operation=``) instead of failing half-way.  Requests and results are the
frozen dataclasses of :mod:`pysciml.engines.requests`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import EngineUnavailableError
from .requests import (
    Batching,
    CellBlock,
    CellFitRequest,
    CellFitResult,
    CellSolveRequest,
    CellSolveResult,
    FitHooks,
    FitRequest,
    FitResult,
    LatentConfig,
    LatentTrainRequest,
    LatentTrainResult,
    RawSolution,
    SDEFitRequest,
    SDEFitResult,
    SDERawSolution,
    SDESolveRequest,
    Sensitivities,
    SolveFunction,
    SolveRequest,
)

__all__ = ["Engine", "OPERATIONS"]

#: every operation of the contract, in the order of the methods below
OPERATIONS = (
    "solve",
    "compile_solve",
    "sensitivity",
    "solve_cells",
    "solve_ensemble",
    "fit",
    "fit_cells",
    "cell_history_steps",
    "train_latent",
    "encode_latent",
    "decode_latent",
    "sample_latent",
    "evaluate_latent",
    "latent_noise_std",
    "predict_latent_sde",
    "solve_sde",
    "fit_sde",
)


class Engine(abc.ABC):
    """The interface every engine implements (abstract)."""

    #: engine name as used in ``engine=`` and ``PYSCIML_ENGINE``
    name: ClassVar[str] = ""

    # -- about the engine --------------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def availability(cls) -> tuple[bool, str]:
        """``(True, "")`` if the engine can run here, else ``(False, reason and fix)``."""

    @abc.abstractmethod
    def capabilities(self) -> frozenset[str]:
        """The operations of :data:`OPERATIONS` this engine can run."""

    @abc.abstractmethod
    def info(self) -> dict[str, Any]:
        """Versions, devices, paths and settings, for ``ps.info()``."""

    def unavailable(self, operation: str, instead: str = "engine='jax'") -> EngineUnavailableError:
        """The error for an operation this engine cannot run (raise it)."""
        return EngineUnavailableError(
            f"the {self.name} engine cannot run {operation!r}; use {instead}.", argument="engine"
        )

    def require(self, operation: str, instead: str = "engine='jax'") -> None:
        """Raise :meth:`unavailable` unless ``operation`` is among :meth:`capabilities`."""
        if operation not in OPERATIONS:  # pragma: no cover - a programming error in pysciml
            raise ValueError(f"unknown engine operation {operation!r}")
        if operation not in self.capabilities():
            raise self.unavailable(operation, instead)

    # -- solving ------------------------------------------------------------------------------
    @abc.abstractmethod
    def solve(self, request: SolveRequest) -> RawSolution:
        """Solve one initial-value problem."""

    @abc.abstractmethod
    def compile_solve(self, request: SolveRequest) -> SolveFunction:
        """The solve of ``request`` as a function of ``(u0, params, network_params)``, everything
        else fixed and compiled once (``ps.compile``)."""

    @abc.abstractmethod
    def sensitivity(self, request: SolveRequest, wrt: tuple[str, ...]) -> Sensitivities:
        """Jacobians of the saved states with respect to ``u0`` (if ``"u0" in wrt``) and the
        parameters named in ``wrt`` (all with ``"params"``)."""

    @abc.abstractmethod
    def solve_cells(
        self, request: CellSolveRequest, u0: np.ndarray, params: Mapping[str, np.ndarray], batching: Batching
    ) -> CellSolveResult:
        """Solve every cell: ``u0`` (n_cells, n_states), ``params`` {name: (n_cells, *shape)}."""

    @abc.abstractmethod
    def solve_ensemble(
        self,
        request: SolveRequest,
        u0: np.ndarray,
        params: Mapping[str, np.ndarray],
        batching: Batching,
        estimate: Callable[[dict], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RawSolution:
        """Solve ``request`` once per member: ``u0`` (n, n_states) and the varied parameters
        ``params`` {name: (n, *shape)} per member, the request's other parameters shared.

        ``u`` (n, n_save, n_states), ``status`` (n,) codes; ``batching.max_memory`` bounds one
        batch of members where the engine batches.  ``estimate(info)`` is called once after
        the first batch (``batch_size``, ``batches``, ``predicted_batch_bytes``,
        ``first_batch_seconds``, ``estimated_seconds``); ``progress(k)`` after each batch of
        ``k`` members.
        """

    # -- fitting ------------------------------------------------------------------------------
    @abc.abstractmethod
    def fit(self, request: FitRequest, hooks: FitHooks) -> FitResult:
        """Fit a model to observations (numerical failure is a status, never an exception)."""

    @abc.abstractmethod
    def fit_cells(
        self, request: CellFitRequest, block: CellBlock, batching: Batching, hooks: FitHooks
    ) -> CellFitResult:
        """Fit the cells of one block (independently, or jointly with shared parameters)."""

    @abc.abstractmethod
    def cell_history_steps(self, request: CellFitRequest) -> Sequence[int]:
        """The optimiser steps at which a per-cell fit records each cell's loss (sizes outputs up front)."""

    # -- latent ODEs --------------------------------------------------------------------------
    @abc.abstractmethod
    def train_latent(self, request: LatentTrainRequest, hooks: FitHooks) -> LatentTrainResult:
        """Train a latent ODE (maximise the annealed ELBO)."""

    @abc.abstractmethod
    def encode_latent(
        self,
        config: LatentConfig,
        weights: Sequence[np.ndarray],
        T: np.ndarray,
        Y: np.ndarray,
        M: np.ndarray,
        condition: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, std, t0)`` of the posterior of z0 for padded series ((n, K), (n, K), (n,)).

        ``condition``: (n, n_condition) scaled conditions of a conditional model, else None (likewise below).
        """

    @abc.abstractmethod
    def decode_latent(
        self,
        config: LatentConfig,
        weights: Sequence[np.ndarray],
        n_states: int,
        z0: np.ndarray,
        t0: np.ndarray,
        ts: np.ndarray,
        condition: np.ndarray | None = None,
    ) -> np.ndarray:
        """Decoded means (n_samples, n, m, D) of latent paths from ``z0`` (n_samples, n, K) at ``t0`` (n,)."""

    @abc.abstractmethod
    def sample_latent(
        self,
        config: LatentConfig,
        weights: Sequence[np.ndarray],
        n_states: int,
        ts: np.ndarray,
        n: int,
        seed: int,
        noise: bool,
        condition: np.ndarray | None = None,
    ) -> np.ndarray:
        """``n`` prior samples decoded at ``ts`` (n, m, D) (scaled units); ``condition``: (n, n_condition)."""

    @abc.abstractmethod
    def evaluate_latent(
        self,
        config: LatentConfig,
        weights: Sequence[np.ndarray],
        T: np.ndarray,
        Y: np.ndarray,
        M: np.ndarray,
        seed: int,
        n_samples: int,
        condition: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Per-series ``loglik``, ``kl``, ``mean``, ``std`` (scaled units, KL at full weight)."""

    @abc.abstractmethod
    def latent_noise_std(self, config: LatentConfig, weights: Sequence[np.ndarray], n_states: int) -> np.ndarray:
        """(D,) observation noise std in scaled units."""

    @abc.abstractmethod
    def predict_latent_sde(
        self,
        config: LatentConfig,
        weights: Sequence[np.ndarray],
        n_states: int,
        T: np.ndarray,
        Y: np.ndarray,
        M: np.ndarray,
        ts: np.ndarray,
        n_samples: int,
        seed: int,
        condition: np.ndarray | None = None,
    ) -> np.ndarray:
        """Decoded posterior paths (n_samples, n, m, D) of a latent SDE at scaled times ``ts`` (n, m)
        after each padded series' first observation (scaled units)."""

    # -- stochastic differential equations ------------------------------------------------------
    @abc.abstractmethod
    def solve_sde(self, request: SDESolveRequest) -> SDERawSolution:
        """Solve an SDE for ``request.n_paths`` sample paths (``u``: (n_paths, n_save, n_states))."""

    @abc.abstractmethod
    def fit_sde(self, request: SDEFitRequest, hooks: FitHooks) -> SDEFitResult:
        """Fit an SDE's parameters (and networks) to observed paths by the Euler-Maruyama
        transition likelihood (numerical failure is a status, never an exception)."""
