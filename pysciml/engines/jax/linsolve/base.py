"""The interface between stiff steppers and linear-solve strategies (jax engine).

A Rosenbrock (or other linearly implicit) step needs solutions of

    W x = b,    W = I - c * J(t, y),    c = h * gamma,

where ``J`` is the Jacobian of ``fun(t, y, args)`` with respect to the flat
state ``y``.  A strategy decides how ``J`` is obtained (dense forward-mode AD,
coloured sparse products, matrix-free JVPs) and how ``W`` is solved (LU,
sparse direct, preconditioned Krylov).

Contract (every strategy is immutable: a frozen dataclass, or an
``equinox.Module`` that also derives from :class:`AbstractLinearSolver`, whose
fields are static configuration or constant arrays, so it can be closed over
under ``jit``).  This base class and the dense strategy do not import equinox:
a cached dense solve in a new process then never loads it (~0.25 s):

* ``prepare(fun, t0, y0, args)`` runs *outside* ``jit`` with concrete example
  values (sparsity detection, colouring, ...) and returns a ready strategy
  (possibly ``self``).  It must not be called inside traced code.
* ``factor(fun, t, y, args, c)`` runs inside traced code once per step and
  returns a pytree ``state`` (factors, preconditioner, the JVP closure data).
* ``solve(state, b)`` returns ``(x, ok)`` with ``ok`` a scalar bool: False when
  the factorisation was singular or an iterative solve did not converge (the
  stepper rejects the step and shrinks ``h``).
* ``counts`` (class attribute) says what one ``factor`` call costs, for
  ``sol.stats``: ``{"njev": 1, "nlu": 1}`` for a dense LU.
* ``loop_stages`` (class attribute): True when the stepper should run its stages
  in a ``lax.fori_loop`` (the solve is then compiled once, not once per stage;
  right for sparse and iterative solves), None to decide by the state size.

Optional, for strategies that keep state between steps (``carries = True``,
e.g. :class:`.lagged.LaggedSparseLU`, a lagged factorisation used as the
preconditioner of an exact matrix-free solve):

* ``init(fun, t0, y0, args, c) -> carry``: the initial carried state (a pytree
  of fixed shapes: it lives in the stepper's ``while_loop``).
* ``begin(carry, fun, t, y, args, c, scale) -> (state, carry, fresh)``: the
  step's solver state; ``scale`` is the ``(n,)`` error weights
  ``atol + rtol |y|``; ``fresh`` is True when the carried factorisation was
  rebuilt for this very step.
* ``solve_info(state, b) -> (x, ok, iterations)``.
* ``end(carry, ok, max_iterations, total_iterations) -> carry``.

A step whose solves fail (``ok`` False) with a carried factorisation that was
not fresh is retried at the same step size (``end`` marks it stale).  The
stateless ``factor`` / ``solve`` must still be the exact direct path: the
discrete adjoint and the diffrax adapter use them.

Everything must be ``vmap``-able and differentiable (``jax.vjp`` through
``factor`` + ``solve``), and must not use host callbacks (so compiled solves
can be exported and cached).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["AbstractLinearSolver"]


class AbstractLinearSolver:
    """Base of the jax engine's linear-solve strategies (see module doc)."""

    counts: ClassVar[dict[str, int]] = {"njev": 1, "nlu": 1}
    loop_stages: ClassVar[bool | None] = None
    carries: ClassVar[bool] = False

    def prepare(self, fun, t0, y0, args) -> AbstractLinearSolver:
        return self

    def factor(self, fun, t, y, args, c) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def solve(self, state, b) -> tuple[Any, Any]:  # pragma: no cover - interface
        raise NotImplementedError
