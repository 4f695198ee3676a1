# Networks: Lux chains built from pysciml's MLP declaration, and the conversion
# between pysciml's flat parameter layout and Lux's (ComponentArray) layout.
#
# pysciml flat layout, per layer l: W_l of shape (out, in) in row-major (C) order,
# then b_l. Julia is column-major: the same W read column-major is W'. A Lux
# Dense layer stores `weight` as an (out, in) matrix, flattened column-major
# inside a ComponentArray. So each layer's weight block is a transpose (a fixed
# permutation) and each bias block is unchanged.

# Activations defined exactly as pysciml.networks defines them (numpy), so both
# engines compute the same function (Lux would swap `tanh` for `tanh_fast`).
act_tanh(x) = tanh(x)
act_relu(x) = max(x, zero(x))
act_gelu(x) = oftype(x, 0.5) *
    x *
    (1 + tanh(sqrt(2 / pi) * (x + oftype(x, 0.044715) * x^3)))
act_softplus(x) = softplus(x)
act_sigmoid(x) = sigmoid(x)
act_swish(x) = x / (one(x) + exp(-x))
act_elu(x) = ifelse(x > zero(x), x, expm1(min(x, zero(x))))
act_identity(x) = x
act_rbf(x) = exp(-x^2)

const ACTIVATIONS = Dict{String, Function}(
    "tanh" => act_tanh,
    "relu" => act_relu,
    "gelu" => act_gelu,
    "softplus" => act_softplus,
    "sigmoid" => act_sigmoid,
    "swish" => act_swish,
    "elu" => act_elu,
    "identity" => act_identity,
    "rbf" => act_rbf,
)

"""
    NetSpec(name, n_in, n_out, width, depth, activation, final_activation)

pysciml's `MLP` declaration: `n_in -> width x depth -> n_out`.
"""
struct NetSpec
    name::Symbol
    n_in::Int
    n_out::Int
    width::Int
    depth::Int
    activation::String
    final_activation::String
end

NetSpec(t::Tuple) = NetSpec(
    Symbol(t[1]),
    Int(t[2]),
    Int(t[3]),
    Int(t[4]),
    Int(t[5]),
    String(t[6]),
    String(t[7]),
)

"""
    layer_sizes(spec) -> Vector{Tuple{Int,Int}}

`(out, in)` of every layer, as `MLP.layer_sizes` in Python.
"""
function layer_sizes(s::NetSpec)
    dims = [s.n_in; fill(s.width, s.depth); s.n_out]
    return [(dims[i + 1], dims[i]) for i in 1:(length(dims) - 1)]
end

n_params(s::NetSpec) = sum(o * i + o for (o, i) in layer_sizes(s))

function _activation(name::String)
    haskey(ACTIVATIONS, name) ||
        throw(ArgumentError(
            "unknown activation \"$name\"; known: $(join(sort(collect(keys(ACTIVATIONS))), ", "))",
        ))
    return ACTIVATIONS[name]
end

"""
    build_chain(spec) -> Lux.Chain

`Dense(in => width, act)`, ..., `Dense(width => out, final_activation)`.
"""
function build_chain(s::NetSpec)
    sizes = layer_sizes(s)
    layers = map(enumerate(sizes)) do (l, (o, i))
        act = l == length(sizes) ? s.final_activation : s.activation
        Lux.Dense(i => o, _activation(act))
    end
    return Lux.Chain(layers...)
end

"""
    zero_lux_params(spec) -> NamedTuple

Float64 parameters with Lux's structure for `build_chain(spec)`:
`(layer_1 = (weight = (out, in), bias = (out,)), ...)`.
"""
function zero_lux_params(s::NetSpec)
    sizes = layer_sizes(s)
    names = Tuple(Symbol("layer_", l) for l in eachindex(sizes))
    vals = Tuple((weight = zeros(o, i), bias = zeros(o)) for (o, i) in sizes)
    return NamedTuple{names}(vals)
end

"""
    layer_permutation(sizes, offset) -> Vector{Int}

Indices `perm` such that `lux_flat = ours[perm]` for a network whose block starts
after `offset` entries: within each layer, Lux index `k + r + c*o` (0-based,
row `r`, column `c`) holds our index `k + r*i + c`; biases keep their places.
"""
function layer_permutation(sizes, offset::Integer)
    perm = Int[]
    k = offset
    for (o, i) in sizes
        for c in 0:(i - 1), r in 0:(o - 1)
            push!(perm, k + r * i + c + 1)
        end
        k += o * i
        append!(perm, (k + 1):(k + o))
        k += o
    end
    return perm
end

"""
    NetRuntime

A built Lux chain with its (empty) state, stored in a model's constants `K.nets`.
"""
struct NetRuntime{M, S}
    model::M
    st::S
    n_in::Int
    n_out::Int
end

function NetRuntime(s::NetSpec)
    chain = build_chain(s)
    _, st = Lux.setup(Xoshiro(0), chain)
    return NetRuntime(chain, st, s.n_in, s.n_out)
end

"""
    net_apply(net, x, ps)

Apply a network to one input vector `x` (length `n_in`) or to a batch whose first
dimension holds the `n_in` features (numpy's "features on the last axis" in the
reversed layout); returns `n_out` values, or an array `(n_out, batch...)`.
"""
net_apply(nr::NetRuntime, x::AbstractVector, ps) = first(nr.model(x, ps, nr.st))

function net_apply(nr::NetRuntime, x::AbstractArray, ps)
    sz = size(x)
    y = first(nr.model(reshape(x, sz[1], :), ps, nr.st))
    return reshape(y, nr.n_out, sz[2:end]...)
end
