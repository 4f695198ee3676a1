# Solver outcome -> pysciml status codes (pysciml/status.py, `Status`) and solver stats.
# The Python test `tests/test_julia_static.py` checks these numbers against `Status`.

const STATUS_SUCCESS = 0
const STATUS_MAX_STEPS = 1
const STATUS_STEP_SIZE_UNDERFLOW = 2
const STATUS_NONFINITE = 3
const STATUS_LINEAR_SOLVE_FAILED = 4
const STATUS_NONLINEAR_SOLVE_FAILED = 5
const STATUS_SKIPPED = 6
const STATUS_FAILED = 7
const STATUS_INTERRUPTED = 8

"""
    status_code(retcode::ReturnCode.T) -> Int

The pysciml status of a SciMLBase return code: every successful code (as judged by
`SciMLBase.successful_retcode`) is `SUCCESS`; failures map to the closest status.
"""
function status_code(rc::ReturnCode.T)
    SciMLBase.successful_retcode(rc) && return STATUS_SUCCESS
    rc == ReturnCode.MaxIters && return STATUS_MAX_STEPS
    rc == ReturnCode.MaxNumSub && return STATUS_MAX_STEPS
    rc == ReturnCode.DtLessThanMin && return STATUS_STEP_SIZE_UNDERFLOW
    rc == ReturnCode.DtNaN && return STATUS_NONFINITE
    rc == ReturnCode.Unstable && return STATUS_NONFINITE
    rc == ReturnCode.InternalLinearSolveFailed && return STATUS_LINEAR_SOLVE_FAILED
    rc == ReturnCode.ConvergenceFailure && return STATUS_NONLINEAR_SOLVE_FAILED
    return STATUS_FAILED
end

#: order of the counters returned with every solve (names in pysciml/engines/julia/mapping.py)
const STAT_NAMES = (
    "steps",
    "rejected",
    "nfev",
    "njev",
    "nlu",
    "nsolve",
    "nnewton",
    "nnewton_fail",
)

"""
    stats_vector(sol) -> Vector{Int}

The solver counters of `sol.stats` in the order of `STAT_NAMES`: accepted steps,
rejected steps, right-hand-side evaluations, Jacobians, factorizations of `W`,
linear solves, nonlinear (Newton) iterations and nonlinear convergence failures.
"""
function stats_vector(sol)
    s = sol.stats
    s === nothing && return zeros(Int, length(STAT_NAMES))
    return Int[
        s.naccept,
        s.nreject,
        s.nf,
        s.njacs,
        s.nw,
        s.nsolve,
        s.nnonliniter,
        s.nnonlinconvfail,
    ]
end
