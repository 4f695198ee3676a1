# Grid operators for spatially coupled models: the same cell-centred finite-volume
# kernels as pysciml.grid._ops (see docs/grid.md), written against the reversed
# (column-major) layout: a numpy field of shape (..., ny, nx) is a Julia array of
# size (nx, ny, ...), so x is dimension 1 and y is dimension 2.
#
# Every coefficient (face lengths, conductances, interpolation weights, 1/area,
# mask) is computed once in Python by pysciml.grid and handed over by
# `make_axis` / `make_grid`, so both engines discretise identically. The kernels
# never mutate their inputs, so Zygote, Enzyme and ForwardDiff all differentiate them.

const XDIM = 1
const YDIM = 2

"""
    AxisOps

Per-axis coefficients (`pysciml.grid._base.AxisOps`), face arrays in the reversed layout.
"""
struct AxisOps{F <: AbstractArray{Float64}, C <: AbstractArray{Float64}}
    kind::Symbol
    value::Float64
    sign::Float64
    length::F
    conductance::F
    inv_distance::F
    face_weight::F
    centre_weight::C
    pole::Tuple{Bool, Bool}
    pole_shift::Int
end

"""
    GridOps

A grid: the y and x axes, `1/area` (size `(nx, ny)`) and the mask (`nothing` or
`(nx, ny)` booleans, true = active cell).
"""
struct GridOps{Y <: AxisOps, X <: AxisOps, M}
    y::Y
    x::X
    inv_area::Matrix{Float64}
    mask::M
end

# numpy (C order, shape (a, b)) -> Julia (b, a) over the same values
_rev2(a) = permutedims(Matrix{Float64}(a))

"""
    make_axis(kind, value, sign, length, conductance, inv_distance, face_weight,
              centre_weight, pole_lo, pole_hi, pole_shift) -> AxisOps

One axis from numpy arrays in C order (`pysciml.grid` shapes: faces `(ny+1, nx)` or
`(ny, nx+1)`, cells `(ny, nx)`); `kind` is "periodic", "neumann" or "dirichlet".
"""
function make_axis(
    kind::AbstractString,
    value::Real,
    sign::Real,
    length,
    conductance,
    inv_distance,
    face_weight,
    centre_weight,
    pole_lo::Bool,
    pole_hi::Bool,
    pole_shift::Integer,
)
    kind in ("periodic", "neumann", "dirichlet") ||
        throw(ArgumentError("unknown boundary kind \"$kind\""))
    return AxisOps(
        Symbol(kind),
        Float64(value),
        Float64(sign),
        _rev2(length),
        _rev2(conductance),
        _rev2(inv_distance),
        _rev2(face_weight),
        _rev2(centre_weight),
        (pole_lo, pole_hi),
        Int(pole_shift),
    )
end

"""
    make_grid(y::AxisOps, x::AxisOps, inv_area, mask) -> GridOps

A grid from its two axes, `1/area` (numpy `(ny, nx)`) and a boolean mask or `nothing`.
"""
function make_grid(y::AxisOps, x::AxisOps, inv_area, mask)
    m = mask === nothing ? nothing : permutedims(Matrix{Bool}(mask))
    return GridOps(y, x, _rev2(inv_area), m)
end

_sl(f, r, d) = selectdim(f, d, r)

_roll_x(a, s) = circshift(a, ntuple(i -> i == XDIM ? s : 0, ndims(a)))

# (left, right) values at the n+1 faces along dimension d (see pysciml.grid._ops._faces)
function _faces(f, d::Int, a::AxisOps, scalar::Bool, pole::Bool)
    n = size(f, d)
    first = _sl(f, 1:1, d)
    last = _sl(f, n:n, d)
    if a.kind === :periodic
        lo = (last, first)
        hi = (last, first)
    elseif a.kind === :dirichlet && scalar
        g = fill(convert(eltype(f), a.value), size(first))
        lo = (g, first)
        hi = (last, g)
    else
        lo = (first, first)
        hi = (last, last)
    end
    if pole && a.pole_shift != 0
        a.pole[1] && (lo = (_roll_x(first, a.pole_shift), first))
        a.pole[2] && (hi = (last, _roll_x(last, a.pole_shift)))
    end
    left = cat(lo[1], _sl(f, 1:(n - 1), d), hi[1]; dims = d)
    right = cat(lo[2], _sl(f, 2:n, d), hi[2]; dims = d)
    return left, right
end

# net outflow of each cell from face fluxes: F[k+1] - F[k]
function _net(F, d::Int)
    n = size(F, d) - 1
    return _sl(F, 2:(n + 1), d) .- _sl(F, 1:n, d)
end

_masked(f, g::GridOps) = g.mask === nothing ? f : ifelse.(g.mask, f, zero(eltype(f)))

_interp(l, r, a::AxisOps) = a.face_weight .* l .+ (1 .- a.face_weight) .* r

_field(v::Number, g::GridOps) = fill(float(v), size(g.inv_area))
_field(v::AbstractArray, ::GridOps) = v

"""
    laplacian(f, grid)

Conservative 5-point Laplacian `(1/A) sum_faces L (f_right - f_left) / d`; zero in
masked cells. `f` has size `(nx, ny, ...)`.
"""
function laplacian(f::AbstractArray, g::GridOps)
    f = _masked(f, g)
    ly, ry = _faces(f, YDIM, g.y, true, false)
    lx, rx = _faces(f, XDIM, g.x, true, false)
    net = _net(g.y.conductance .* (ry .- ly), YDIM) .+
        _net(g.x.conductance .* (rx .- lx), XDIM)
    return net .* g.inv_area
end

function _advect_axis(f, vel, d::Int, a::AxisOps, g::GridOps, scheme::Symbol)
    vel = _masked(a.sign .* _field(vel, g), g)
    vl, vr = _faces(vel, d, a, false, false)
    vface = _interp(vl, vr, a)
    l, r = _faces(f, d, a, true, false)
    fface = scheme === :upwind ? ifelse.(vface .>= 0, l, r) : _interp(l, r, a)
    return _net(a.length .* vface .* fface, d)
end

"""
    advect(f, u, v, grid, scheme)

Advective tendency `-div(velocity f)` in flux form; `u` along x (east), `v` along y
(north), numbers or `(nx, ny)` arrays; `scheme` is `:upwind` or `:centered`.
"""
function advect(f::AbstractArray, u, v, g::GridOps, scheme::Symbol)
    scheme in (:upwind, :centered) ||
        throw(ArgumentError("unknown advection scheme $scheme"))
    f = _masked(f, g)
    net = _advect_axis(f, v, YDIM, g.y, g, scheme) .+
        _advect_axis(f, u, XDIM, g.x, g, scheme)
    return .-net .* g.inv_area
end

function _gradient_axis(f, d::Int, a::AxisOps)
    l, r = _faces(f, d, a, true, true)
    G = a.inv_distance .* (r .- l)
    n = size(f, d)
    w = a.centre_weight
    return a.sign .* (w .* _sl(G, 1:n, d) .+ (1 .- w) .* _sl(G, 2:(n + 1), d))
end

"""
    gradient(f, grid) -> (dfdy, dfdx)

Gradient at cell centres, `(north / +y, east / +x)` as pysciml.grid returns it.
"""
function gradient(f::AbstractArray, g::GridOps)
    f = _masked(f, g)
    return (_gradient_axis(f, YDIM, g.y), _gradient_axis(f, XDIM, g.x))
end

function _divergence_axis(c, d::Int, a::AxisOps, g::GridOps)
    c = _masked(a.sign .* _field(c, g), g)
    cl, cr = _faces(c, d, a, false, false)
    return _net(a.length .* _interp(cl, cr, a), d)
end

"""
    divergence(fy, fx, grid)

Flux-form divergence of the vector `(fy, fx)` given at cell centres.
"""
function divergence(fy, fx, g::GridOps)
    net = _divergence_axis(fy, YDIM, g.y, g) .+ _divergence_axis(fx, XDIM, g.x, g)
    return net .* g.inv_area
end
