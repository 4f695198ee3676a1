# Compiled models: emitted source -> functions, constants, network runtimes and the
# parameter layout; kept in a registry addressed by an integer handle.

"""
    RHSInplace(f, K)

`(du, u, p, t) -> f(du, u, p, t, K)`: the emitted in-place right-hand side bound to
the model's constants `K` (constant arrays, grids, networks).
"""
struct RHSInplace{F, KT}
    f::F
    K::KT
end
(r::RHSInplace)(du, u, p, t) = r.f(du, u, p, t, r.K)

"""
    RHSOutOfPlace(f, K)

`(u, p, t) -> f(u, p, t, K)`: the emitted out-of-place right-hand side (used with
Zygote vector-Jacobian products, which cannot differentiate mutation).
"""
struct RHSOutOfPlace{F, KT}
    f::F
    K::KT
end
(r::RHSOutOfPlace)(u, p, t) = r.f(u, p, t, r.K)

"""
    Model

A compiled model: right-hand sides, sizes, the ComponentArray axes of its
parameters and the permutation from pysciml's flat layout to them.
"""
struct Model{F1, F2, AX}
    f!::F1
    f::F2
    n_states::Int
    n_phys::Int
    n_theta::Int
    axes::AX
    perm::Vector{Int}
    nets::Vector{NetSpec}
    has_branches::Bool
    hash::String
end

const MODELS = Any[]
const SOURCE_CACHE = Dict{String, Module}()
const REGISTRY_LOCK = ReentrantLock()

function _template(n_phys::Integer, nets::Vector{NetSpec})
    isempty(nets) && return ComponentArray(phys = zeros(n_phys))
    names = Tuple(s.name for s in nets)
    ps = NamedTuple{names}(Tuple(zero_lux_params(s) for s in nets))
    return ComponentArray(phys = zeros(n_phys), nets = ps)
end

function _permutation(n_phys::Integer, nets::Vector{NetSpec})
    perm = collect(1:n_phys)
    off = n_phys
    for s in nets
        append!(perm, layer_permutation(layer_sizes(s), off))
        off += n_params(s)
    end
    return perm
end

"""
    to_params(model, theta) -> ComponentArray

pysciml's flat parameter vector (physics, then networks in pysciml's layout) as the
ComponentArray the right-hand side reads (`p.phys`, `p.nets.<name>`). Differentiable
(Zygote): the gradient comes back in pysciml's layout.
"""
to_params(m::Model, theta::AbstractVector) = ComponentArray(theta[m.perm], m.axes)

"""
    from_lux(model, p) -> Vector

The inverse of `to_params`: pysciml's flat layout from a ComponentArray.
"""
function from_lux(m::Model, p::AbstractVector)
    theta = similar(p, m.n_theta)
    theta[m.perm] = collect(p)
    return theta
end

"""
    register_model(rhs!, rhs, n_states, n_phys, nets, consts, grids, has_branches, hash) -> Int

Bind right-hand sides to their constants and register the model; returns its handle.
"""
function register_model(
    rhs!,
    rhs,
    n_states::Integer,
    n_phys::Integer,
    nets::Vector{NetSpec},
    consts::Tuple,
    grids::Tuple,
    has_branches::Bool,
    hash::AbstractString,
)
    names = Tuple(s.name for s in nets)
    runtimes = NamedTuple{names}(Tuple(NetRuntime(s) for s in nets))
    K = (consts = consts, grids = grids, nets = runtimes)
    template = _template(n_phys, nets)
    perm = _permutation(n_phys, nets)
    m = Model(
        RHSInplace(rhs!, K),
        RHSOutOfPlace(rhs, K),
        Int(n_states),
        Int(n_phys),
        length(perm),
        getaxes(template),
        perm,
        nets,
        has_branches,
        String(hash),
    )
    return lock(REGISTRY_LOCK) do
        push!(MODELS, m)
        length(MODELS)
    end
end

# numpy arrays arrive in C order; Julia holds them with reversed dimensions
_rev_array(a::Number) = Float64(a)
_rev_array(a::AbstractVector) = Vector{Float64}(a)
_rev_array(a::AbstractArray) = permutedims(Array{Float64}(a), ndims(a):-1:1)

"""
    compile_model(source, hash, n_states, n_phys, nets, consts, grids, has_branches) -> Int

Evaluate emitted model source (cached by `hash`) in a fresh module where `B` is
this package, and register the model.

Arguments:
  - `source`: Julia source defining `rhs!(du, u, p, t, K)` and `rhs(u, p, t, K)`.
  - `hash`: a digest of `source` (the compile cache key).
  - `n_states`, `n_phys`: lengths of the state and physics-parameter vectors.
  - `nets`: tuple of `(name, n_in, n_out, width, depth, activation, final_activation)`.
  - `consts`: tuple of constant arrays (numpy C order; reversed here).
  - `grids`: tuple of `GridOps` from `make_grid`.
  - `has_branches`: the model has value-dependent branches (no compiled ReverseDiff tapes).
"""
function compile_model(
    source::AbstractString,
    hash::AbstractString,
    n_states::Integer,
    n_phys::Integer,
    nets,
    consts,
    grids,
    has_branches::Bool,
)
    mod = lock(REGISTRY_LOCK) do
        get!(SOURCE_CACHE, String(hash)) do
            tag = first(String(hash), 12)
            newmod = Module(Symbol("PySciMLModel_", tag))
            Core.eval(newmod, :(const B = $(@__MODULE__)))
            Base.include_string(newmod, String(source), "pysciml_model_$(tag).jl")
            newmod
        end
    end
    rhs! = Base.invokelatest(getfield, mod, Symbol("rhs!"))
    rhs = Base.invokelatest(getfield, mod, :rhs)
    specs = NetSpec[NetSpec(t) for t in nets]
    cs = Tuple(_rev_array(c) for c in consts)
    return register_model(
        rhs!,
        rhs,
        n_states,
        n_phys,
        specs,
        cs,
        Tuple(grids),
        has_branches,
        hash,
    )
end

function get_model(handle::Integer)
    1 <= handle <= length(MODELS) ||
        throw(ArgumentError(
            "unknown model handle $handle (models are lost when Julia restarts)",
        ))
    return MODELS[handle]
end

_check_len(x, n, what) = length(x) == n ||
    throw(DimensionMismatch("$what has $(length(x)) values, the model needs $n"))

"""
    bridge_rhs(handle, u, theta, t) -> (du_inplace, du_outofplace)

The right-hand side evaluated once with `rhs!` and with `rhs` (they must agree).
"""
function bridge_rhs(handle::Integer, u, theta, t::Real)
    return Base.invokelatest(
        _rhs,
        get_model(handle),
        Vector{Float64}(u),
        Vector{Float64}(theta),
        Float64(t),
    )
end

function _rhs(m::Model, u::Vector{Float64}, theta::Vector{Float64}, t::Float64)
    _check_len(u, m.n_states, "u")
    _check_len(theta, m.n_theta, "theta")
    p = to_params(m, theta)
    du = similar(u)
    m.f!(du, u, p, t)
    du2 = m.f(u, p, t)
    return (du, Vector{Float64}(du2))
end
