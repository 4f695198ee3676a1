# Fitting: Adam (Optimisers.jl, our own loop, so a failed step is rejected exactly as on the
# jax engine) then L-BFGS (Optim.jl through Optimization.jl, BackTracking line search, an
# explicit gradient), in an unconstrained space for bounded physics parameters, with
# progress reported to the caller at a bounded rate.

"""
    Stage(kind, lr, steps, horizon, clip, schedule, final_fraction, patience, min_delta, memory, tol)

One optimisation phase: "adam" (learning rate `lr`, gradient-norm clip `clip` (0: none),
`schedule` "constant", "cosine", "exponential" or "warmup_cosine" decaying to
`final_fraction`, early stop after `patience` steps (0: never) without a relative
improvement of `min_delta`) or "lbfgs" (`memory` correction pairs, stop when the
gradient's largest entry is below `tol`), for `steps` steps on the observations up to
`horizon` (a fraction of each trajectory's span).
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
    tol::Float64
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
    Float64(t[11]),
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
        x = clamp((k - warm) / max(n - warm, 1.0), 0.0, 1.0)
        return f + (1 - f) * 0.5 * (1 + cos(pi * x))
    end
    throw(ArgumentError("unknown schedule \"$(s.schedule)\""))
end

# Adam with the stage's gradient-norm clip; `throw = false`: a non-finite gradient is
# rejected by the loop, never seen by the rule
function _adam_rule(s::Stage)
    adam = Optimisers.Adam(s.lr)
    return s.clip > 0 ?
        Optimisers.OptimiserChain(Optimisers.ClipNorm(s.clip; throw = false), adam) :
        adam
end

"""
    FitState

Bookkeeping shared by the stages: loss history (one entry per step), stage of each
step, rejected steps, best point on the full horizon, stop requests, early stopping and
the rate limiter of progress reports.
"""
mutable struct FitState
    history::Vector{Float64}
    stage::Vector{Int}
    rejected::Vector{Int}
    best_loss::Float64
    best_x::Vector{Float64}
    stop::Bool
    interrupted::Bool
    last_report::Float64
    stage_min::Float64
    stage_best_x::Vector{Float64}
    stage_best::Float64
    since_best::Int
    stage_stop::Bool
end

FitState(x0::Vector{Float64}) = FitState(
    Float64[],
    Int[],
    Int[],
    Inf,
    copy(x0),
    false,
    false,
    time(),
    Inf,
    copy(x0),
    Inf,
    0,
    false,
)

function _start_stage!(state::FitState, x0::Vector{Float64})
    state.stage_min = Inf
    state.stage_best_x = copy(x0)
    state.stage_best = Inf
    state.since_best = 0
    state.stage_stop = false
    return nothing
end

# one step's loss `lf` at the point `x` the step started from
function _record!(state::FitState, st::Stage, k::Int, lf::Float64, x)
    push!(state.history, lf)
    push!(state.stage, k)
    if isfinite(lf) && lf < state.best_loss && st.horizon == 1.0
        state.best_loss = lf
        state.best_x = copy(x)
    end
    if isfinite(lf) && lf < state.stage_min
        state.stage_min = lf
        state.stage_best_x = copy(x)
    end
    # early stopping: `stage_best` moves only on a relative improvement of `min_delta`
    if isfinite(lf) && lf < state.stage_best * (1 - st.min_delta)
        state.stage_best = lf
        state.since_best = 0
    else
        state.since_best += 1
    end
    st.patience > 0 && state.since_best >= st.patience && (state.stage_stop = true)
    return nothing
end

# call `report` at most every `report_every` seconds (always with `force`)
function _report!(state::FitState, report, report_every, k::Int, natural, x; force = false)
    report === nothing && return nothing
    isempty(state.history) && return nothing
    now = time()
    (force || now - state.last_report >= report_every) || return nothing
    state.last_report = now
    state.stop |= report(length(state.history), last(state.history), k, natural(x)) === true
    return nothing
end

# value and gradient of `loss` at `x`; the gradient is `nothing` when the value is not
# finite or Zygote returns no gradient (a failed solve makes the loss a constant `Inf`)
function _value_and_gradient(loss, x)
    val, gs = Zygote.withgradient(loss, x)
    g = gs[1]
    lf = Float64(val)
    ok = isfinite(lf) && g !== nothing && all(isfinite, g)
    return lf, ok ? Vector{Float64}(g) : nothing
end

"""
    adam_stage!(state, st, k, loss, x0, report, report_every, natural) -> x

`st.steps` Adam steps on `loss` from `x0`, as on the jax engine: step `j` (0-based)
records the loss at the point it starts from and updates with the learning rate
`st.lr * schedule_factor(st, j) * scale`; a step whose loss or gradient is not finite is
rejected (back to the last good point and optimiser state, `scale` halved, recovering
by 1% per good step). Returns the best point of the stage.
"""
function adam_stage!(
    state::FitState,
    st::Stage,
    k::Int,
    loss,
    x0,
    report,
    report_every,
    natural,
)
    x = copy(x0)
    ost = Optimisers.setup(_adam_rule(st), x)
    good_x, good_ost, scale = x, ost, 1.0
    for j in 0:(st.steps - 1)
        lf, g = _value_and_gradient(loss, x)
        _record!(state, st, k, lf, x)
        if g === nothing
            push!(state.rejected, length(state.history))
            x, ost = good_x, good_ost
            scale *= 0.5
        else
            ost = Optimisers.adjust(ost, st.lr * schedule_factor(st, j) * scale)
            good_x, good_ost = x, ost
            ost, x = Optimisers.update(ost, x, g)
            scale = min(1.0, 1.01 * scale)
        end
        _report!(state, report, report_every, k, natural, x)
        (state.stop || state.stage_stop) && break
    end
    return copy(state.stage_best_x) # the start point when no step had a finite loss
end

"""
    lbfgs_stage!(state, st, k, loss, x0, report, report_every, natural) -> x

At most `st.steps` L-BFGS iterations (Optim.jl) on `loss` from `x0`, recording the loss
at the start of each (the points Optim reports, from the initial one on), so the
history grows by at most `st.steps` as on the jax engine. Stops on a non-finite loss
(not recorded), when the gradient's largest entry is below `st.tol`, or on request.
The gradient is supplied (`NaN` where Zygote gives none), never left to an AD backend
that cannot handle a constant loss. Returns the best point of the stage.
"""
function lbfgs_stage!(
    state::FitState,
    st::Stage,
    k::Int,
    loss,
    x0,
    report,
    report_every,
    natural,
)
    function fg!(G, xx, _)
        lf, g = _value_and_gradient(loss, xx)
        G === nothing || (g === nothing ? fill!(G, NaN) : copyto!(G, g))
        return lf
    end
    grad!(G, xx, p) = (fg!(G, xx, p); nothing)
    optf = Optimization.OptimizationFunction((xx, _) -> loss(xx); grad = grad!, fg = fg!)
    prob = Optimization.OptimizationProblem(optf, copy(x0))
    recorded = Ref(0)
    callback = function (os, l)
        lf = Float64(l)
        (!isfinite(lf) || recorded[] >= st.steps) && return true
        recorded[] += 1
        _record!(state, st, k, lf, os.u)
        _report!(state, report, report_every, k, natural, os.u)
        return state.stop || state.stage_stop
    end
    opt = Optim.LBFGS(; m = st.memory, linesearch = BackTracking())
    SciMLBase.solve(prob, opt; maxiters = st.steps, callback, g_abstol = st.tol)
    return copy(state.stage_best_x)
end

"""
    bridge_fit(handle, theta0, z0, U0, u0_free, t0s, ts, ys, mask, scale, l2, kind, lo, hi,
               free, stages, solver, linsolve, stiff_hint, adjoint, vjp, rtol, atol,
               maxiters, sparse_rows, sparse_cols, report, report_every)
        -> (theta, U0, history, stage_of_step, rejected, status, message, final_loss)

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
step and its stage, the (1-based) steps whose loss or gradient was not finite (rejected),
a pysciml status (SUCCESS, INTERRUPTED when stopped, FAILED when no step had a finite
loss), a message, and the full-horizon loss at the result.
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
        obs = observations(t0s, ts, ys, mask, scale)
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
    x = vcat(z0, vec(U0))
    setups = Dict{Float64, Any}()
    state = FitState(x)
    for (k, st) in enumerate(stages)
        (state.stop || st.steps <= 0) && continue
        S = get!(() -> setup(st.horizon), setups, st.horizon)
        loss(xx) = total_loss(S, natural(xx), initial(xx))
        _start_stage!(state, x)
        optimise! = st.kind == "adam" ?
            adam_stage! :
            st.kind == "lbfgs" ?
                lbfgs_stage! :
                throw(ArgumentError("unknown optimiser \"$(st.kind)\" (adam, lbfgs)"))
        try
            x = optimise!(state, st, k, loss, x, report, report_every, natural)
        catch err
            err isa InterruptException || rethrow()
            state.stop = true
            state.interrupted = true
            x = copy(state.stage_best_x)
        end
        # the end of a stage is always reported, unless a report asked to stop
        state.stop || _report!(state, report, report_every, k, natural, x; force = true)
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
        state.rejected,
        status,
        msg,
        final,
    )
end
