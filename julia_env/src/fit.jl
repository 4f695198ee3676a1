# Fitting through Optimization.jl: Adam (OptimizationOptimisers) then L-BFGS
# (OptimizationOptimJL, BackTracking line search), in an unconstrained space for
# bounded physics parameters, with progress reported to the caller at a bounded rate.

"""
    Stage(kind, lr, steps, horizon, clip, schedule, final_fraction, patience, min_delta, memory)

One optimisation phase: "adam" (learning rate `lr`, gradient-norm clip `clip` (0: none),
`schedule` "constant", "cosine", "exponential" or "warmup_cosine" decaying to
`final_fraction`, early stop after `patience` steps (0: never) without a relative
improvement of `min_delta`) or "lbfgs" (`memory` correction pairs), for `steps` steps on
the observations up to `horizon` (a fraction of each trajectory's span).
"""
struct Stage
    kind::String
    lr::Float64
    steps::Int
    horizon::Float64
    clip::Float64
    schedule::String
    final_fraction::Float64
    patience::Int
    min_delta::Float64
    memory::Int
end

Stage(t::Tuple) = Stage(
    String(t[1]),
    Float64(t[2]),
    Int(t[3]),
    Float64(t[4]),
    Float64(t[5]),
    String(t[6]),
    Float64(t[7]),
    Int(t[8]),
    Float64(t[9]),
    Int(t[10]),
)

"""
    schedule_factor(stage, k) -> Float64

The learning-rate factor of step `k` (0-based), as on the jax engine.
"""
function schedule_factor(s::Stage, k::Integer)
    n = Float64(s.steps)
    f = s.final_fraction
    s.schedule == "constant" && return 1.0
    s.schedule == "cosine" && return f + (1 - f) * 0.5 * (1 + cos(pi * min(k / n, 1.0)))
    s.schedule == "exponential" && return f^min(k / n, 1.0)
    if s.schedule == "warmup_cosine"
        warm = max(1.0, 0.05 * n)
        k < warm && return (k + 1) / warm
        return f + (1 - f) * 0.5 * (1 + cos(pi * min((k - warm) / (n - warm), 1.0)))
    end
    throw(ArgumentError("unknown schedule \"$(s.schedule)\""))
end

function _optimizer(s::Stage)
    if s.kind == "adam"
        adam = Optimisers.Adam(s.lr * schedule_factor(s, 0))
        return s.clip > 0 ?
            Optimisers.OptimiserChain(Optimisers.ClipNorm(s.clip), adam) :
            adam
    end
    s.kind == "lbfgs" && return Optim.LBFGS(; m = s.memory, linesearch = BackTracking())
    throw(ArgumentError("unknown optimiser \"$(s.kind)\" (adam, lbfgs)"))
end

"""
    FitState

Bookkeeping shared by the optimisation callback: loss history, best point, stop
requests and the rate limiter of progress reports.
"""
mutable struct FitState
    history::Vector{Float64}
    stage::Vector{Int}
    best_loss::Float64
    best_x::Vector{Float64}
    stop::Bool
    interrupted::Bool
    last_report::Float64
    stage_best::Float64
    since_best::Int
end

"""
    bridge_fit(handle, theta0, z0, U0, u0_free, t0s, ts, ys, mask, scale, l2, kind, lo, hi,
               free, stages, solver, linsolve, stiff_hint, adjoint, vjp, rtol, atol,
               maxiters, sparse_rows, sparse_cols, report, report_every)
        -> (theta, U0, history, stage_of_step, status, message, final_loss)

Fit the flat parameters and the free initial-state entries to observations (the
loss of `bridge_loss_and_grad`, restricted to each stage's horizon).

Arguments beyond those of `bridge_loss_and_grad`:
  - `theta0` `(n_theta,)`: natural values (used for the fixed entries); `z0`: the
    unconstrained starting coordinates of every entry.
  - `kind`, `lo`, `hi` `(n_theta,)`: bound transform per entry (0 none, 1 lower, 2 upper,
    3 both; see `to_natural`); `free` `(n_theta,)`: false for fixed entries.
  - `U0` `(n_traj, n_states)` starting initial states; `u0_free` (same shape) which are fitted.
  - `stages`: tuple of `Stage` tuples (see `Stage`).
  - `report`: `nothing` or a function `(step, loss, stage, theta) -> Bool` called at most
    every `report_every` seconds and at the end of each stage; returning `true` stops.

Returns the best parameters (natural values) and initial states seen, the loss of every
step and its stage, a pysciml status (SUCCESS, INTERRUPTED when stopped, FAILED when no
step had a finite loss), a message, and the full-horizon loss at the result.
"""
function bridge_fit(
    handle::Integer,
    theta0,
    z0,
    U0,
    u0_free,
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
        obs = Observations(t0s, ts, ys, mask, scale)
        sparsity = _sparsity(sparse_rows, sparse_cols)
        setup(h) = LossSetup(
            m,
            obs,
            h,
            l2,
            String(solver),
            String(linsolve),
            Int(stiff_hint),
            String(adjoint),
            String(vjp),
            rtol,
            atol,
            maxiters,
            sparsity,
        )
        Base.invokelatest(
            _fit,
            m,
            setup,
            Vector{Float64}(theta0),
            Vector{Float64}(z0),
            permutedims(Matrix{Float64}(U0)),
            permutedims(Matrix{Bool}(u0_free)),
            Vector{Int}(kind),
            Vector{Float64}(lo),
            Vector{Float64}(hi),
            Vector{Bool}(free),
            [Stage(s) for s in stages],
            report,
            Float64(report_every),
        )
    end
end

function _fit(
    m::Model,
    setup,
    theta0,
    z0,
    U0,
    u0_free,
    kind,
    lo,
    hi,
    free,
    stages,
    report,
    report_every,
)
    nth = m.n_theta
    for v in (theta0, z0, kind, lo, hi, free)
        _check_len(v, nth, "parameter arrays")
    end
    ns, ntr = size(U0)
    ns == m.n_states || throw(DimensionMismatch("U0 must have $(m.n_states) columns"))
    natural(x) = ifelse.(free, to_natural.(kind, lo, hi, x[1:nth]), theta0)
    initial(x) = ifelse.(u0_free, reshape(x[(nth + 1):end], ns, ntr), U0)
    x0 = vcat(z0, vec(U0))
    setups = Dict{Float64, Any}()
    state = FitState(Float64[], Int[], Inf, copy(x0), false, false, time(), Inf, 0)
    x = x0
    for (k, st) in enumerate(stages)
        (state.stop || st.steps <= 0) && continue
        S = get!(() -> setup(st.horizon), setups, st.horizon)
        loss(xx, _) = total_loss(S, natural(xx), initial(xx))
        stage_stop = Ref(false)
        state.stage_best = Inf
        state.since_best = 0
        callback = function (os, l)
            lf = Float64(l)
            push!(state.history, lf)
            push!(state.stage, k)
            if isfinite(lf) && lf < state.best_loss && st.horizon == 1.0
                state.best_loss = lf
                state.best_x = copy(os.u)
            end
            if isfinite(lf) && lf < state.stage_best * (1 - st.min_delta)
                state.stage_best = lf
                state.since_best = 0
            else
                state.since_best += 1
            end
            st.patience > 0 && state.since_best >= st.patience && (stage_stop[] = true)
            if st.kind == "adam" && st.schedule != "constant" && os.original !== nothing
                Optimisers.adjust!(os.original, st.lr * schedule_factor(st, os.iter))
            end
            now = time()
            if report !== nothing && now - state.last_report >= report_every
                state.last_report = now
                state.stop |= report(length(state.history), lf, k, natural(os.u)) === true
            end
            return state.stop || stage_stop[]
        end
        optf = Optimization.OptimizationFunction(loss, AutoZygote())
        prob = Optimization.OptimizationProblem(optf, x)
        try
            res = SciMLBase.solve(prob, _optimizer(st); maxiters = st.steps, callback)
            x = isfinite(state.best_loss) && st.horizon == 1.0 ?
                copy(state.best_x) :
                copy(res.u)
        catch err
            err isa InterruptException || rethrow()
            state.stop = true
            state.interrupted = true
        end
        if report !== nothing && !isempty(state.history)
            state.last_report = time()
            state.stop |= report(
                length(state.history),
                last(state.history),
                k,
                natural(x),
            ) ===
                true
        end
    end
    xb = isfinite(state.best_loss) ? state.best_x : x
    full = get!(() -> setup(1.0), setups, 1.0)
    final = Float64(total_loss(full, natural(xb), initial(xb)))
    n = length(state.history)
    status, msg = if !isfinite(final)
        (
            STATUS_FAILED,
            "the fitted model cannot be solved over the whole data span (solve statuses " *
                "$(full.status)); try a stiff solver, a smaller learning rate or a growing horizon",
        )
    elseif state.interrupted || state.stop
        (STATUS_INTERRUPTED, "stopped after $n steps; the best parameters so far are kept")
    else
        (STATUS_SUCCESS, "fitted: final loss $(round(final; sigdigits = 4)) after $n steps")
    end
    return (
        Vector{Float64}(natural(xb)),
        permutedims(Matrix{Float64}(initial(xb))),
        state.history,
        state.stage,
        status,
        msg,
        final,
    )
end
