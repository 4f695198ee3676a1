# Elementwise helpers called by emitted model code (as `B.<name>`).
#
# The `nan_*` functions return NaN outside the real domain, as numpy does, instead
# of throwing a DomainError, so a solver that steps into a bad region sees a
# non-finite value (and reports a status) rather than an exception. They are
# branch-free (`ifelse`) so every AD backend differentiates them.

"""
    nan_sqrt(x)

`sqrt(x)`, NaN for `x < 0`.
"""
function nan_sqrt(x)
    y = sqrt(abs(x))
    return ifelse(x < zero(x), oftype(y, NaN), y)
end

"""
    nan_log(x)

`log(x)`, NaN for `x < 0` and `-Inf` at 0.
"""
function nan_log(x)
    y = log(abs(x))
    return ifelse(x < zero(x), oftype(y, NaN), y)
end

"""
    nan_log1p(x)

`log1p(x)`, NaN for `x < -1`.
"""
function nan_log1p(x)
    y = log1p(max(x, -one(x)))
    return ifelse(x < -one(x), oftype(y, NaN), y)
end

"""
    nan_asin(x)

`asin(x)`, NaN for `|x| > 1`.
"""
function nan_asin(x)
    y = asin(clamp(x, -one(x), one(x)))
    return ifelse(abs(x) > one(x), oftype(y, NaN), y)
end

"""
    nan_acos(x)

`acos(x)`, NaN for `|x| > 1`.
"""
function nan_acos(x)
    y = acos(clamp(x, -one(x), one(x)))
    return ifelse(abs(x) > one(x), oftype(y, NaN), y)
end

"""
    nan_pow(x, y)

`x^y` as numpy's `power` for real floats: for `x < 0` NaN when `y` is not a whole
number, `|x|^y` for an even and `-|x|^y` for an odd whole `y` (the emitted code uses
it for exponents only known at run time; whole numbers written in the model, `2.0`
too, are emitted as Julia integer powers).
"""
function nan_pow(x, y)
    z = abs(x)^y
    whole = isinteger(y)
    odd = whole & (rem(y, 2) != 0)
    neg = x < zero(x)
    return ifelse(neg & !whole, oftype(z, NaN), ifelse(neg & odd, -z, z))
end

"""
    fill_to(x, dims)

A new array of size `dims` holding `x` broadcast to it (`x` a number or an array).
"""
fill_to(x, dims) = x .+ zeros(eltype(x), dims)

_insert_dim(a, d) = reshape(a, (size(a)[1:(d - 1)]..., 1, size(a)[d:end]...))

"""
    stack_along(d, item_dims, xs...)

Stack `xs` (each broadcast to `item_dims`) along a new dimension `d` (numpy's
`stack` in the reversed, column-major layout).
"""
function stack_along(d::Integer, item_dims::Tuple, xs...)
    parts = map(x -> _insert_dim(fill_to(x, item_dims), d), xs)
    return cat(parts...; dims = d)
end

"""
    softplus(x)

`log(1 + exp(x))` without overflow (numpy's `logaddexp(x, 0)`).
"""
softplus(x) = log1p(exp(-abs(x))) + max(x, zero(x))

"""
    sigmoid(x)

`1 / (1 + exp(-x))`.
"""
sigmoid(x) = inv(one(x) + exp(-x))
