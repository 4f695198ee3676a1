"""Status codes of solves and fits, each with advice on what to try.

Numerical trouble is reported, not raised: ``sol.status`` is a
:class:`Status` (an ``IntEnum``, so it also lives in arrays such as a grid of
per-cell statuses) and ``sol.message`` carries the advice.
"""

from __future__ import annotations

import enum

__all__ = ["Status", "advice"]


class Status(enum.IntEnum):
    """Outcome of a solve (or of one cell / one fit)."""

    SUCCESS = 0
    MAX_STEPS = 1
    STEP_SIZE_UNDERFLOW = 2
    NONFINITE = 3
    LINEAR_SOLVE_FAILED = 4
    NONLINEAR_SOLVE_FAILED = 5
    SKIPPED = 6
    FAILED = 7
    INTERRUPTED = 8

    @property
    def ok(self) -> bool:
        return self is Status.SUCCESS

    @property
    def advice(self) -> str:
        return _ADVICE[self]


_ADVICE = {
    Status.SUCCESS: "solved.",
    Status.MAX_STEPS: (
        "the solver hit max_steps before reaching the end time. If the problem is stiff "
        "(fast and slow time scales), use a stiff solver such as ps.Rodas5P(); otherwise "
        "raise max_steps or loosen rtol/atol. If the failure time stays the same, the solution may "
        "blow up there or the right-hand side may turn NaN there (check the physics, parameters "
        "and networks near that time)."
    ),
    Status.STEP_SIZE_UNDERFLOW: (
        "the step size shrank below what float64 can resolve. The solution may blow up "
        "(a finite-time singularity) or the problem is very stiff: try ps.Rodas5P(), "
        "check parameters and initial state, or loosen rtol/atol."
    ),
    Status.NONFINITE: (
        "the state or its derivative became NaN or infinite. Check the physics for "
        "division by zero, log/sqrt of negatives or overflow, check the parameters, or "
        "try a stiff solver such as ps.Rodas5P() with tighter tolerances."
    ),
    Status.LINEAR_SOLVE_FAILED: (
        "the linear system of the implicit step was singular or the iterative solve did "
        "not converge. Try tighter tolerances, ps.DenseLU(), or a better preconditioner."
    ),
    Status.NONLINEAR_SOLVE_FAILED: (
        "the implicit solver's Newton iteration failed repeatedly. Try a Rosenbrock method "
        "(ps.Rodas5P(), no Newton iteration) or tighter tolerances."
    ),
    Status.SKIPPED: "not computed: the cell was masked or had no observations.",
    Status.FAILED: "the computation failed; see the message for details.",
    Status.INTERRUPTED: "stopped by the user; the best result so far was kept.",
}


def advice(status: int) -> str:
    """The advice sentence for a status code (int or :class:`Status`)."""
    try:
        return Status(int(status)).advice
    except ValueError:
        return f"unknown status code {status}."
