# The fitting loss and its gradient through SciMLSensitivity adjoints.
#
# Loss contract (identical on the jax engine):
#   observations padded to (n_traj, L): times `ts`, values `ys` (n_traj, L, n_states),
#   `mask` (n_traj, L, n_states) true where observed, per-state `scale` (n_states,);
#   loss = sum(mask * ((u_pred - ys) / scale)^2) / sum(mask) + l2 * sum(theta_nets^2).
# Times whose mask row is all false are ignored (they may hold any value).

# the SciMLSensitivity `autojacvec` for a pysciml vjp name
function make_vjp(vjp::AbstractString, has_branches::Bool)
    vjp == "zygote" && return ZygoteVJP()
    vjp == "enzyme" && return EnzymeVJP()
    vjp == "reversediff" && return ReverseDiffVJP(!has_branches)
    vjp == "forwarddiff" && return true
    vjp == "auto" && return nothing
    throw(ArgumentError(
        "unknown vjp \"$vjp\" (zygote, enzyme, reversediff, forwarddiff, auto)",
    ))
end

"""
    make_sensealg(kind, vjp, has_branches) -> sensitivity algorithm

`kind`: "gauss" (`GaussAdjoint`), "interpolating", "checkpointed"
(`InterpolatingAdjoint(checkpointing = true)`), "quadrature", "backsolve",
"forward" (`ForwardDiffSensitivity()`), "auto" (`GaussAdjoint` with an automatic
vector-Jacobian product). `vjp`: "zygote", "enzyme", "reversediff" (a compiled tape
unless the model branches on values), "forwarddiff", "auto".
"""
function make_sensealg(kind::AbstractString, vjp::AbstractString, has_branches::Bool)
    v = make_vjp(vjp, has_branches)
    kind == "forward" && return ForwardDiffSensitivity()
    kind == "gauss" && return GaussAdjoint(; autojacvec = v)
    kind == "auto" && return GaussAdjoint(; autojacvec = v)
    kind == "interpolating" && return InterpolatingAdjoint(; autojacvec = v)
    kind == "checkpointed" &&
        return InterpolatingAdjoint(; autojacvec = v, checkpointing = true)
    kind == "quadrature" && return QuadratureAdjoint(; autojacvec = v)
    kind == "backsolve" && return BacksolveAdjoint(; autojacvec = v)
    throw(ArgumentError("unknown adjoint \"$kind\""))
end

# Zygote vector-Jacobian products cannot differentiate the in-place right-hand side
_inplace_for(sensealg) = !(
    hasproperty(sensealg, :autojacvec) && sensealg.autojacvec isa ZygoteVJP
)

# -- parameter transforms (bounds) -----------------------------------------------------
# kind 0: none; 1: lower bound (lo + softplus(z)); 2: upper bound (hi - softplus(z));
# 3: both (lo + (hi - lo) * sigmoid(z)). The same on the jax engine.

"""
    to_natural(kind, lo, hi, z)

A parameter value from its unconstrained coordinate (elementwise, differentiable).
"""
function to_natural(kind::Integer, lo, hi, z)
    return ifelse(
        kind == 1,
        lo + softplus(z),
        ifelse(
            kind == 2,
            hi - softplus(z),
            ifelse(kind == 3, lo + (hi - lo) * sigmoid(z), z),
        ),
    )
end

_invsoftplus(y) = y + log(-expm1(-y))

"""
    to_unconstrained(kind, lo, hi, x)

The inverse of `to_natural` (values on a bound are moved inside by a relative 1e-12).
"""
function to_unconstrained(kind::Integer, lo, hi, x)
    kind == 1 && return _invsoftplus(max(x - lo, 1.0e-12 * max(1.0, abs(lo))))
    kind == 2 && return _invsoftplus(max(hi - x, 1.0e-12 * max(1.0, abs(hi))))
    if kind == 3
        f = clamp((x - lo) / (hi - lo), 1.0e-12, 1 - 1.0e-12)
        return log(f) - log1p(-f)
    end
    return x
end

# -- observations ----------------------------------------------------------------------
"""
    Observations

Padded observations as Julia arrays: `t0s` `(n_traj,)`, `ts` `(n_traj, L)`, `ys`
`(n_traj, L, n_states)`, `mask` `(n_traj, L, n_states)`, `scale` `(n_states,)`.
Build it from what Python sends with `observations`.
"""
struct Observations
    t0s::Vector{Float64}
    ts::Matrix{Float64}
    ys::Array{Float64, 3}
    mask::Array{Bool, 3}
    scale::Vector{Float64}
end

# Not a constructor method: `Observations(t0s, ts, ys, mask, scale)` with untyped
# arguments is the struct's implicit converting constructor, and redefining it is an
# error during precompilation (Julia >= 1.10).
"""
    observations(t0s, ts, ys, mask, scale) -> Observations

`Observations` from any arrays (juliacall `PyArray` views), copied into Julia arrays.
"""
function observations(t0s, ts, ys, mask, scale)
    return Observations(
        Vector{Float64}(t0s),
        Matrix{Float64}(ts),
        Array{Float64, 3}(ys),
        Array{Bool, 3}(mask),
        Vector{Float64}(scale),
    )
end

struct Trajectory
    index::Int # which trajectory (column of the initial states)
    t0::Float64
    ts::Vector{Float64} # observed times inside the horizon
    Y::Matrix{Float64}  # (n_states, n_obs), missing values replaced by 0
    M::Matrix{Float64}  # (n_states, n_obs), 1 where observed
end

# the trajectories' observations up to `horizon` (a fraction of each trajectory's span,
# as on the jax engine: times t <= t0 + horizon * (t_last - t0) count)
function _trajectories(obs::Observations, horizon::Float64)
    n_traj, L = size(obs.ts)
    out = Trajectory[]
    for i in 1:n_traj
        rows = [j for j in 1:L if any(view(obs.mask, i, j, :))]
        isempty(rows) && throw(ArgumentError("trajectory $i has no observation"))
        tt = obs.ts[i, rows]
        issorted(tt; lt = <=) ||
            throw(ArgumentError("times of trajectory $i are not increasing"))
        t0 = obs.t0s[i]
        tt[1] >= t0 ||
            throw(ArgumentError("trajectory $i starts at $t0 after its first observation"))
        t1 = t0 + horizon * (last(tt) - t0)
        keep = [k for k in eachindex(tt) if tt[k] <= t1 + 1.0e-12 * abs(t1)]
        isempty(keep) && continue
        rows = rows[keep]
        Mi = Matrix{Float64}(permutedims(obs.mask[i, rows, :]))
        Yi = ifelse.(Mi .> 0, permutedims(obs.ys[i, rows, :]), 0.0)
        push!(out, Trajectory(i, t0, tt[keep], Yi, Mi))
    end
    isempty(out) && throw(ArgumentError("no observation inside the horizon $horizon"))
    return out
end

"""
    LossSetup

Everything the loss needs besides the parameters: model, data (up to a horizon),
solver, adjoint, tolerances.
"""
struct LossSetup{MD, A, S, P}
    model::MD
    data::Vector{Trajectory}
    probs::Vector{P}
    alg::A
    sensealg::S
    scale::Vector{Float64}
    nobs::Float64
    l2::Float64
    rtol::Float64
    atol::Float64
    maxiters::Int
    status::Vector{Int}
end

"""
    LossSetup(model, obs, horizon, l2, solver, linsolve, stiff_hint, adjoint, vjp, rtol,
              atol, maxiters, sparsity)

Prepare the loss of `model` on the observations `obs` up to `horizon`.
"""
function LossSetup(
    m::Model,
    obs::Observations,
    horizon::Real,
    l2::Real,
    solver::AbstractString,
    linsolve::AbstractString,
    stiff_hint::Integer,
    kind::AbstractString,
    vjp::AbstractString,
    rtol::Real,
    atol::Real,
    maxiters::Integer,
    sparsity,
)
    length(obs.scale) == m.n_states ||
        throw(DimensionMismatch("scale must have $(m.n_states) values"))
    size(obs.ys, 3) == m.n_states ||
        throw(DimensionMismatch("ys must be (n_traj, L, $(m.n_states))"))
    data = _trajectories(obs, Float64(horizon))
    alg = make_alg(solver, linsolve, stiff_hint)
    sensealg = make_sensealg(kind, vjp, m.has_branches)
    fun = make_function(m, _inplace_for(sensealg); sparsity)
    p0 = to_params(m, zeros(m.n_theta))
    probs = [
        ODEProblem(fun, zeros(m.n_states), (d.t0, max(d.t0, last(d.ts))), p0)
        for d in data
    ]
    nobs = sum(sum(d.M) for d in data)
    return LossSetup(
        m,
        data,
        probs,
        alg,
        sensealg,
        obs.scale,
        nobs,
        Float64(l2),
        Float64(rtol),
        Float64(atol),
        Int(maxiters),
        zeros(Int, size(obs.ts, 1)),
    )
end

"""
    total_loss(setup, theta, U0) -> loss

The loss for flat parameters `theta` (pysciml layout) and initial states `U0`
`(n_states, n_traj)`; `Inf` if a solve fails (its status is recorded in
`setup.status`). Differentiable with Zygote through SciMLSensitivity.
"""
function total_loss(S::LossSetup, theta, U0)
    m = S.model
    p = to_params(m, theta)
    acc = zero(eltype(theta))
    for k in eachindex(S.data)
        d = S.data[k]
        sol = SciMLBase.solve(
            S.probs[k],
            S.alg;
            u0 = U0[:, d.index],
            p = p,
            saveat = d.ts,
            reltol = S.rtol,
            abstol = S.atol,
            maxiters = S.maxiters,
            sensealg = S.sensealg,
        )
        ok = ignore_derivatives() do
            S.status[d.index] = status_code(sol.retcode)
            SciMLBase.successful_retcode(sol) && length(sol.t) == length(d.ts)
        end
        ok || return oftype(acc, Inf)
        r = (Array(sol) .- d.Y) ./ S.scale
        acc = acc + sum(abs2, d.M .* r)
    end
    reg = m.n_theta > m.n_phys ? S.l2 * sum(abs2, theta[(m.n_phys + 1):end]) : zero(acc)
    return acc / S.nobs + reg
end

"""
    bridge_loss_and_grad(handle, theta, U0, t0s, ts, ys, mask, scale, l2, solver,
                         linsolve, stiff_hint, adjoint, vjp, rtol, atol, maxiters,
                         sparse_rows, sparse_cols)
        -> (loss, grad_theta, grad_U0, status)

The loss (see the contract at the top of this file) and its gradient with respect to
the flat parameters `theta` (pysciml layout) and the initial states `U0`
`(n_traj, n_states)`, through the adjoint `adjoint` with vector-Jacobian products
`vjp` (see `make_sensealg`). `status` holds each trajectory's forward-solve status;
if a solve fails the loss is `Inf` and the gradient is zero.
"""
function bridge_loss_and_grad(
    handle::Integer,
    theta,
    U0,
    t0s,
    ts,
    ys,
    mask,
    scale,
    l2::Real,
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
)
    m = get_model(handle)
    return Logging.with_logger(Logging.NullLogger()) do
        obs = observations(t0s, ts, ys, mask, scale)
        S = LossSetup(
            m,
            obs,
            1.0,
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
        Base.invokelatest(
            _loss_and_grad,
            S,
            Vector{Float64}(theta),
            permutedims(Matrix{Float64}(U0)),
        )
    end
end

function _loss_and_grad(S::LossSetup, theta::Vector{Float64}, U0::Matrix{Float64})
    m = S.model
    _check_len(theta, m.n_theta, "theta")
    size(U0) == (m.n_states, length(S.status)) ||
        throw(DimensionMismatch(
            "U0 must be (n_traj, n_states) = ($(length(S.status)), $(m.n_states))",
        ))
    val, grads = Zygote.withgradient((th, u) -> total_loss(S, th, u), theta, U0)
    ok = isfinite(val)
    gth = grads[1] === nothing || !ok ? zeros(length(theta)) : Vector{Float64}(grads[1])
    gu = grads[2] === nothing || !ok ? zeros(size(U0)) : Matrix{Float64}(grads[2])
    return (Float64(val), gth, permutedims(gu), copy(S.status))
end
