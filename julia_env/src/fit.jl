# Fitting through Optimization.jl: Adam (OptimizationOptimisers) then L-BFGS
# (OptimizationOptimJL, BackTracking line search), in an unconstrained space for
# bounded physics parameters, with progress reported to the caller at a bounded rate.

"""
    FitState

Mutable bookkeeping shared by the optimisation callback: loss history, best point,
stop request and the rate limiter of progress reports.
"""
mutable struct FitState
    history::Vector{Float64}
    stage::Vector{Int}
    best_loss::Float64
    best_x::Vector{Float64}
    stop::Bool
    interrupted::Bool
    last_report::Float64
end

function _optimizer(name::AbstractString, lr::Real)
    name == "adam" && return Optimisers.Adam(Float64(lr))
    name == "lbfgs" && return Optim.LBFGS(; linesearch = BackTracking())
    throw(ArgumentError("unknown optimiser \"$name\" (adam, lbfgs)"))
end

"""
    bridge_fit(handle, theta0, U0, t0s, ts, ys, mask, scale, l2, kind, lo, hi, free,
               fit_u0, stages, solver, linsolve, stiff_hint, adjoint, vjp, rtol, atol,
               maxiters, sparse_rows, sparse_cols, report, report_every)
        -> (theta, U0, history, stage_of_step, status, message)

Fit the flat parameters (and, with `fit_u0`, the initial states) to observations
(the loss of `bridge_loss_and_grad`).

Arguments beyond those of `bridge_loss_and_grad`:
  - `kind`, `lo`, `hi` `(n_theta,)`: bound transform per entry (0 none, 1 lower,
    2 upper, 3 both; see `to_natural`); `free` `(n_theta,)`: false for fixed entries.
  - `stages`: tuple of `(name, learning_rate, steps)`, name "adam" or "lbfgs".
  - `report`: `nothing` or a function `(step, loss, stage) -> Bool` called at most every
    `report_every` seconds (and at the end of each stage); returning `true` stops.

Returns the best parameters and initial states seen, the loss of every step and the
stage it belongs to, a pysciml status (SUCCESS, INTERRUPTED when stopped, FAILED when
no step had a finite loss) and a message.
"""
function bridge_fit(
    handle::Integer,
    theta0,
    U0,
    t0s,
    ts,
    ys,
    mask,
    scale,
    l2::Real,
    kind,
    lo,
    hi,
    free,
    fit_u0::Bool,
    stages,
    solver::AbstractString,
    linsolve::AbstractString,
    stiff_hint::Integer,
    adjoint::AbstractString,
    vjp::AbstractString,
    rtol::Real,
    atol::Real,
    maxiters::Integer,
    sparse_rows,
    sparse_cols,
    report,
    report_every::Real,
)
    m = get_model(handle)
    return Logging.with_logger(Logging.NullLogger()) do
        S = LossSetup(
            m,
            Vector{Float64}(t0s),
            Matrix{Float64}(ts),
            Array{Float64, 3}(ys),
            Array{Bool, 3}(mask),
            Vector{Float64}(scale),
            l2,
            String(solver),
            String(linsolve),
            Int(stiff_hint),
            String(adjoint),
            String(vjp),
            rtol,
            atol,
            maxiters,
            _sparsity(sparse_rows, sparse_cols),
        )
        st = [(String(s[1]), Float64(s[2]), Int(s[3])) for s in stages]
        Base.invokelatest(
            _fit,
            S,
            Vector{Float64}(theta0),
            permutedims(Matrix{Float64}(U0)),
            Vector{Int}(kind),
            Vector{Float64}(lo),
            Vector{Float64}(hi),
            Vector{Bool}(free),
            fit_u0,
            st,
            report,
            Float64(report_every),
        )
    end
end

function _fit(
    S::LossSetup,
    theta0,
    U0,
    kind,
    lo,
    hi,
    free,
    fit_u0,
    stages,
    report,
    report_every,
)
    m = S.model
    nth = m.n_theta
    _check_len(theta0, nth, "theta0")
    for v in (kind, lo, hi, free)
        _check_len(v, nth, "bounds")
    end
    z0 = to_unconstrained.(kind, lo, hi, theta0)
    x0 = fit_u0 ? vcat(z0, vec(U0)) : z0
    ns, ntr = size(U0)
    natural(x) = ifelse.(free, to_natural.(kind, lo, hi, x[1:nth]), theta0)
    initial(x) = fit_u0 ? reshape(x[(nth + 1):end], ns, ntr) : U0
    loss(x, _) = total_loss(S, natural(x), initial(x))

    state = FitState(Float64[], Int[], Inf, copy(x0), false, false, time())
    stage_id = Ref(0)
    callback = function (os, l)
        lf = Float64(l)
        push!(state.history, lf)
        push!(state.stage, stage_id[])
        if isfinite(lf) && lf < state.best_loss
            state.best_loss = lf
            state.best_x = copy(os.u)
        end
        now = time()
        if report !== nothing && now - state.last_report >= report_every
            state.last_report = now
            state.stop |= report(length(state.history), lf, stage_id[]) === true
        end
        return state.stop
    end

    optf = Optimization.OptimizationFunction(loss, AutoZygote())
    x = x0
    for (k, (name, lr, steps)) in enumerate(stages)
        (state.stop || steps <= 0) && continue
        stage_id[] = k
        prob = Optimization.OptimizationProblem(optf, x)
        try
            res = SciMLBase.solve(prob, _optimizer(name, lr); maxiters = steps, callback)
            x = isfinite(state.best_loss) ? copy(state.best_x) : copy(res.u)
        catch err
            err isa InterruptException || rethrow()
            state.stop = true
            state.interrupted = true
        end
        if report !== nothing && !isempty(state.history)
            state.last_report = time()
            state.stop |= report(length(state.history), last(state.history), k) === true
        end
    end
    xb = isfinite(state.best_loss) ? state.best_x : x
    theta = natural(xb)
    U = initial(xb)
    status, msg = if !isfinite(state.best_loss)
        (
            STATUS_FAILED,
            "no optimisation step had a finite loss: every solve failed (statuses $(S.status))",
        )
    elseif state.interrupted || state.stop
        (
            STATUS_INTERRUPTED,
            "stopped on request after $(length(state.history)) steps; the best parameters seen are returned",
        )
    else
        (
            STATUS_SUCCESS,
            "finished $(length(state.history)) steps; best loss $(state.best_loss)",
        )
    end
    return (
        Vector{Float64}(theta),
        permutedims(Matrix{Float64}(U)),
        state.history,
        state.stage,
        status,
        msg,
    )
end
