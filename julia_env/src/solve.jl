# Solving: pysciml solver names -> OrdinaryDiffEq algorithms, one solve, a batch of cells
# through EnsembleProblem with EnsembleThreads, and trajectory sensitivities (ForwardDiff).

"""
    make_linsolve(name) -> LinearSolve algorithm or nothing

"auto" -> `nothing` (the solver's default), "dense" -> `LUFactorization()`,
"sparse" -> `KLUFactorization()` (with a sparse `jac_prototype`), "gmres" ->
`KrylovJL_GMRES()` (matrix-free).
"""
function make_linsolve(name::AbstractString)
    name == "auto" && return nothing
    name == "dense" && return LUFactorization()
    name == "sparse" && return KLUFactorization()
    name == "gmres" && return KrylovJL_GMRES()
    throw(ArgumentError("unknown linear solver \"$name\" (auto, dense, sparse, gmres)"))
end

_ls_kw(ls) = ls === nothing ? NamedTuple() : (linsolve = ls,)

"""
    make_alg(name, linsolve, stiff_hint) -> algorithm

pysciml solver name (lower case) -> OrdinaryDiffEq algorithm: tsit5, dopri5 (DP5),
dopri8 (DP8), vern7, rosenbrock23, rodas4, rodas5p, kencarp4, kvaerno5, fbdf, qndf,
auto (`DefaultODEAlgorithm`, starting stiff when `stiff_hint == 1`; it chooses its own
linear solvers, dense for small systems and GMRES for large ones).
"""
function make_alg(
    name::AbstractString,
    linsolve::AbstractString = "auto",
    stiff_hint::Integer = -1,
)
    ls = _ls_kw(make_linsolve(linsolve))
    name == "tsit5" && return Tsit5()
    name == "dopri5" && return DP5()
    name == "dopri8" && return DP8()
    name == "vern7" && return Vern7()
    name == "rosenbrock23" && return Rosenbrock23(; ls...)
    name == "rodas4" && return Rodas4(; ls...)
    name == "rodas5p" && return Rodas5P(; ls...)
    name == "kencarp4" && return KenCarp4(; ls...)
    name == "kvaerno5" && return Kvaerno5(; ls...)
    name == "fbdf" && return FBDF(; ls...)
    name == "qndf" && return QNDF(; ls...)
    name == "auto" && return DefaultODEAlgorithm(; stiffalgfirst = stiff_hint == 1)
    throw(ArgumentError("unknown solver \"$name\""))
end

"""
    make_function(model, iip; sparsity = nothing) -> ODEFunction

In-place (`iip = true`) or out-of-place right-hand side; `sparsity` is a tuple
`(rows, cols)` of 1-based Jacobian nonzeros used as `jac_prototype`.
"""
function make_function(m::Model, iip::Bool; sparsity = nothing)
    if sparsity !== nothing
        rows, cols = Vector{Int}(sparsity[1]), Vector{Int}(sparsity[2])
        proto = sparse(rows, cols, ones(length(rows)), m.n_states, m.n_states)
        return iip ?
            ODEFunction{true}(m.f!; jac_prototype = proto) :
            ODEFunction{false}(m.f; jac_prototype = proto)
    end
    return iip ? ODEFunction{true}(m.f!) : ODEFunction{false}(m.f)
end

_sparsity(rows, cols) = isempty(rows) ? nothing : (rows, cols)

# absolute tolerance: one number, or one per state value
_atol(a::Real) = Float64(a)
_atol(a::AbstractVector) = Vector{Float64}(a)

"""
    SolveSpec

What a solve needs besides the model, the initial state and the parameters.
"""
struct SolveSpec{A}
    t0::Float64
    t1::Float64
    saveat::Vector{Float64}
    alg::A
    rtol::Float64
    atol::Union{Float64, Vector{Float64}}
    dt::Float64
    maxiters::Int
    adaptive::Bool
    sparsity::Any
end

function SolveSpec(
    t0,
    t1,
    saveat,
    solver,
    linsolve,
    stiff_hint,
    rtol,
    atol,
    dt,
    maxiters,
    adaptive,
    sparse_rows,
    sparse_cols,
)
    adaptive || dt > 0 || throw(ArgumentError("fixed steps (adaptive = false) need dt > 0"))
    return SolveSpec(
        Float64(t0),
        Float64(t1),
        Vector{Float64}(saveat),
        make_alg(String(solver), String(linsolve), Int(stiff_hint)),
        Float64(rtol),
        _atol(atol),
        Float64(dt),
        Int(maxiters),
        Bool(adaptive),
        _sparsity(sparse_rows, sparse_cols),
    )
end

function _kwargs(s::SolveSpec)
    kw = (saveat = s.saveat, reltol = s.rtol, abstol = s.atol, maxiters = s.maxiters)
    s.adaptive || return merge(kw, (dt = s.dt, adaptive = false))
    return s.dt > 0 ? merge(kw, (dt = s.dt,)) : kw
end

# saved states as an (n_save, n_states) matrix, NaN rows after a failure
function _saved_matrix(sol, n_save::Int, n_states::Int)
    U = fill(NaN, n_save, n_states)
    for (k, u) in enumerate(sol.u)
        k > n_save && break
        U[k, :] .= u
    end
    return U
end

_t_end(sol, t0) = isempty(sol.t) ? t0 : Float64(last(sol.t))

"""
    bridge_solve(handle, u0, theta, t0, t1, saveat, solver, linsolve, stiff_hint,
                 rtol, atol, dt, maxiters, adaptive, sparse_rows, sparse_cols)
        -> (t, U, status, stats, t_end, alg)

Solve one initial-value problem.

Arguments: `u0` `(n_states,)`; `theta` the flat parameters; `saveat` increasing times
in `[t0, t1]`; `atol` a number or one per state; `solver` / `linsolve` names (see
`make_alg`); `dt <= 0` lets the
solver choose the first step; `adaptive = false` takes fixed steps of `dt`;
`sparse_rows/cols` a 1-based Jacobian pattern or empty.

Returns: save times `(n_save,)`, states `(n_save, n_states)` (NaN rows after a
failure), the pysciml status code, counters in `STAT_NAMES` order, the last time
reached and the algorithm's name.
"""
function bridge_solve(
    handle::Integer,
    u0,
    theta,
    t0::Real,
    t1::Real,
    saveat,
    solver::AbstractString,
    linsolve::AbstractString,
    stiff_hint::Integer,
    rtol::Real,
    atol,
    dt::Real,
    maxiters::Integer,
    adaptive::Bool,
    sparse_rows,
    sparse_cols,
)
    m = get_model(handle)
    spec = SolveSpec(
        t0,
        t1,
        saveat,
        solver,
        linsolve,
        stiff_hint,
        rtol,
        atol,
        dt,
        maxiters,
        adaptive,
        sparse_rows,
        sparse_cols,
    )
    return Logging.with_logger(Logging.NullLogger()) do
        Base.invokelatest(_solve_one, m, Vector{Float64}(u0), Vector{Float64}(theta), spec)
    end
end

function _solve_one(m::Model, u0, theta, s::SolveSpec)
    _check_len(u0, m.n_states, "u0")
    _check_len(theta, m.n_theta, "theta")
    fun = make_function(m, true; sparsity = s.sparsity)
    prob = ODEProblem(fun, u0, (s.t0, s.t1), to_params(m, theta))
    sol = SciMLBase.solve(prob, s.alg; _kwargs(s)...)
    U = _saved_matrix(sol, length(s.saveat), m.n_states)
    return (
        copy(s.saveat),
        U,
        status_code(sol.retcode),
        stats_vector(sol),
        _t_end(sol, s.t0),
        alg_name(s.alg),
    )
end

"""
    alg_name(alg) -> String

The algorithm's name for a solution's stats. `DefaultODEAlgorithm()` returns a
`CompositeAlgorithm` (OrdinaryDiffEqDefault 2.4.5, `AutoAlgSwitch`), reported by the
name the user chose rather than as "CompositeAlgorithm".
"""
function alg_name(alg)
    name = nameof(typeof(alg))
    return name === :CompositeAlgorithm ? "DefaultODEAlgorithm" : string(name)
end

"""
    bridge_solve_batch(handle, U0, THETA, t0, t1, saveat, solver, linsolve, stiff_hint,
                       rtol, atol, dt, maxiters, adaptive, sparse_rows, sparse_cols)
        -> (U, status, stats, t_end)

Solve one problem per cell in parallel (`EnsembleProblem` + `EnsembleThreads`; Julia
threads come from `PYTHON_JULIACALL_THREADS`). `U0` is `(n_cells, n_states)`, `THETA`
`(n_cells, n_theta)`. Returns states `(n_cells, n_save, n_states)`, statuses
`(n_cells,)`, counters `(n_cells, 8)` and the last times reached `(n_cells,)`.
"""
function bridge_solve_batch(
    handle::Integer,
    U0,
    THETA,
    t0::Real,
    t1::Real,
    saveat,
    solver::AbstractString,
    linsolve::AbstractString,
    stiff_hint::Integer,
    rtol::Real,
    atol,
    dt::Real,
    maxiters::Integer,
    adaptive::Bool,
    sparse_rows,
    sparse_cols,
)
    m = get_model(handle)
    spec = SolveSpec(
        t0,
        t1,
        saveat,
        solver,
        linsolve,
        stiff_hint,
        rtol,
        atol,
        dt,
        maxiters,
        adaptive,
        sparse_rows,
        sparse_cols,
    )
    return Logging.with_logger(Logging.NullLogger()) do
        Base.invokelatest(
            _solve_batch,
            m,
            Matrix{Float64}(U0),
            Matrix{Float64}(THETA),
            spec,
        )
    end
end

function _solve_batch(m::Model, U0, THETA, s::SolveSpec)
    n = size(U0, 1)
    size(U0, 2) == m.n_states ||
        throw(DimensionMismatch("U0 must be (n_cells, $(m.n_states))"))
    size(THETA) == (n, m.n_theta) ||
        throw(DimensionMismatch("THETA must be ($n, $(m.n_theta))"))
    n_save = length(s.saveat)
    fun = make_function(m, true; sparsity = s.sparsity)
    prob = ODEProblem(fun, U0[1, :], (s.t0, s.t1), to_params(m, THETA[1, :]))
    prob_func = (prob, ctx) -> remake(
        prob;
        u0 = U0[ctx.sim_id, :],
        p = to_params(m, THETA[ctx.sim_id, :]),
    )
    output_func = function (sol, ctx)
        out = (
            status_code(sol.retcode),
            _saved_matrix(sol, n_save, m.n_states),
            stats_vector(sol),
            _t_end(sol, s.t0),
        )
        return (out, false)
    end
    ens = EnsembleProblem(prob; prob_func, output_func, safetycopy = false)
    sim = SciMLBase.solve(ens, s.alg, EnsembleThreads(); trajectories = n, _kwargs(s)...)
    U = Array{Float64}(undef, n, n_save, m.n_states)
    status = zeros(Int, n)
    stats = zeros(Int, n, length(STAT_NAMES))
    t_end = zeros(n)
    for (i, r) in enumerate(sim.u)
        status[i] = r[1]
        U[i, :, :] .= r[2]
        stats[i, :] .= r[3]
        t_end[i] = r[4]
    end
    return (U, status, stats, t_end)
end

"""
    bridge_sensitivity(handle, u0, theta, wrt_u0, param_index, t0, t1, saveat, solver,
                       linsolve, stiff_hint, rtol, atol, dt, maxiters, adaptive,
                       sparse_rows, sparse_cols)
        -> (U, J, status)

Forward-mode (ForwardDiff) derivatives of the saved states with respect to the initial
state (when `wrt_u0`) and the flat parameters listed in `param_index` (1-based): `U`
`(n_save, n_states)` and `J` `(n_save, n_states, n_wrt)`, columns ordered u0 first,
then the parameters in `param_index` order. A failed solve gives a NaN `J`.
"""
function bridge_sensitivity(
    handle::Integer,
    u0,
    theta,
    wrt_u0::Bool,
    param_index,
    t0::Real,
    t1::Real,
    saveat,
    solver::AbstractString,
    linsolve::AbstractString,
    stiff_hint::Integer,
    rtol::Real,
    atol,
    dt::Real,
    maxiters::Integer,
    adaptive::Bool,
    sparse_rows,
    sparse_cols,
)
    m = get_model(handle)
    spec = SolveSpec(
        t0,
        t1,
        saveat,
        solver,
        linsolve,
        stiff_hint,
        rtol,
        atol,
        dt,
        maxiters,
        adaptive,
        sparse_rows,
        sparse_cols,
    )
    return Logging.with_logger(Logging.NullLogger()) do
        Base.invokelatest(
            _sensitivity,
            m,
            Vector{Float64}(u0),
            Vector{Float64}(theta),
            wrt_u0,
            Vector{Int}(param_index),
            spec,
        )
    end
end

function _sensitivity(m::Model, u0, theta, wrt_u0::Bool, idx::Vector{Int}, s::SolveSpec)
    _, U, status = _solve_one(m, u0, theta, s)[1:3]
    n, n_save = m.n_states, length(s.saveat)
    nu = wrt_u0 ? n : 0
    fun = make_function(m, true; sparsity = s.sparsity)
    function states(x)
        T = eltype(x)
        u = wrt_u0 ? x[1:n] : convert(Vector{T}, u0)
        th = convert(Vector{T}, theta)
        th[idx] = x[(nu + 1):end]
        prob = ODEProblem(fun, u, (s.t0, s.t1), to_params(m, th))
        sol = SciMLBase.solve(prob, s.alg; _kwargs(s)...)
        out = fill(T(NaN), n, n_save)
        for (k, v) in enumerate(sol.u)
            k <= n_save && (out[:, k] .= v)
        end
        return vec(out)
    end
    x0 = vcat(wrt_u0 ? u0 : Float64[], theta[idx])
    nw = length(x0)
    if status != STATUS_SUCCESS || nw == 0
        return (U, fill(status == STATUS_SUCCESS ? 0.0 : NaN, n_save, n, nw), status)
    end
    J = ForwardDiff.jacobian(states, x0) # (n * n_save, nw), state fastest
    return (U, permutedims(reshape(J, n, n_save, nw), (2, 1, 3)), status)
end
