# Tests of PySciMLBridge in Julia alone (no Python):
#   julia --project=julia_env -e 'using Pkg; Pkg.instantiate(); Pkg.test()'
# Solutions are compared with exact solutions, gradients with ForwardDiff of the
# exact loss and with finite differences, operators with discrete eigenvalues.

using PySciMLBridge
using ForwardDiff
using Test
using SciMLBase: ReturnCode

const PB = PySciMLBridge

# Model sources exactly as pysciml.engines.julia.emit writes them.
const DECAY_SRC = """
function rhs!(du, u, p, t, K)
    u_a = u[1]
    u_b = u[2]
    p_k = p.phys[1]
    p_c = p.phys[2]
    x0 = -p_k * u_a
    du[1] = x0
    du[2] = -p_c * u_b - x0
    return nothing
end

function rhs(u, p, t, K)
    u_a = u[1]
    u_b = u[2]
    p_k = p.phys[1]
    p_c = p.phys[2]
    x0 = -p_k * u_a
    return [x0, -p_c * u_b - x0]
end
"""

const LV_SRC = """
function rhs!(du, u, p, t, K)
    u_x = u[1]
    u_y = u[2]
    p_alpha = p.phys[1]
    p_delta = p.phys[2]
    nn_1 = B.net_apply(K.nets.nn, [u_x, u_y], p.nets.nn)
    nn_1_1 = nn_1[1]
    nn_1_2 = nn_1[2]
    du[1] = nn_1_1 + p_alpha * u_x
    du[2] = nn_1_2 - p_delta * u_y
    return nothing
end

function rhs(u, p, t, K)
    u_x = u[1]
    u_y = u[2]
    p_alpha = p.phys[1]
    p_delta = p.phys[2]
    nn_1 = B.net_apply(K.nets.nn, [u_x, u_y], p.nets.nn)
    nn_1_1 = nn_1[1]
    nn_1_2 = nn_1[2]
    return [nn_1_1 + p_alpha * u_x, nn_1_2 - p_delta * u_y]
end
"""

const CELLS_SRC = """
function rhs!(du, u, p, t, K)
    u_c = reshape(view(u, 1:12), 4, 3)
    p_k = view(p.phys, 1:4)
    op1 = sum(u_c)
    du1 = reshape(view(du, 1:12), 4, 3)
    du1 .= @. 0.1 * op1 - p_k .* u_c
    return nothing
end

function rhs(u, p, t, K)
    u_c = reshape(view(u, 1:12), 4, 3)
    p_k = view(p.phys, 1:4)
    op1 = sum(u_c)
    return vec(@. 0.1 * op1 - p_k .* u_c)
end
"""

const NONE = Int[]
const LV_NET = ("nn", 2, 2, 4, 1, "tanh", "identity")

decay_exact(a0, b0, k, c, t) = [
    a0 * exp(-k * t),
    b0 * exp(-c * t) + k * a0 / (c - k) * (exp(-k * t) - exp(-c * t)),
]

function compile(src, hash, n_states, n_phys; nets = (), consts = ())
    return compile_model(src, hash, n_states, n_phys, nets, consts, (), false)
end

@testset "status codes" begin
    @test PB.status_code(ReturnCode.Success) == 0
    @test PB.status_code(ReturnCode.Terminated) == 0
    @test PB.status_code(ReturnCode.MaxIters) == 1
    @test PB.status_code(ReturnCode.DtLessThanMin) == 2
    @test PB.status_code(ReturnCode.Unstable) == 3
    @test PB.status_code(ReturnCode.DtNaN) == 3
    @test PB.status_code(ReturnCode.InternalLinearSolveFailed) == 4
    @test PB.status_code(ReturnCode.ConvergenceFailure) == 5
    @test PB.status_code(ReturnCode.Failure) == 7
    @test PB.status_code(ReturnCode.Default) == 7
end

@testset "helpers" begin
    @test isnan(PB.nan_sqrt(-1.0)) && PB.nan_sqrt(4.0) == 2.0
    @test ForwardDiff.derivative(PB.nan_sqrt, 4.0) ≈ 0.25
    @test isnan(PB.nan_log(-1.0)) && PB.nan_log(1.0) == 0.0
    @test isnan(PB.nan_log1p(-2.0)) && PB.nan_log1p(0.0) == 0.0
    @test isnan(PB.nan_asin(1.5)) && PB.nan_asin(1.0) ≈ pi / 2
    @test isnan(PB.nan_pow(-2.0, 0.5)) && PB.nan_pow(4.0, 0.5) == 2.0
    @test PB.softplus(0.0) ≈ log(2) && PB.softplus(800.0) == 800.0
    @test PB.fill_to(2.0, (2, 3)) == fill(2.0, 2, 3)
    # numpy stack([a, b], axis=-1) of (3, 4) arrays is (3, 4, 2): reversed (2, 4, 3), new dim 1
    a, b = rand(4, 3), rand(4, 3)
    s = PB.stack_along(1, (4, 3), a, b)
    @test size(s) == (2, 4, 3) && s[1, :, :] == a && s[2, :, :] == b
end

@testset "network layout" begin
    spec = PB.NetSpec(("nn", 3, 2, 5, 2, "tanh", "identity"))
    n = PB.n_params(spec)
    chain = PB.build_chain(spec)
    @test PB.Lux.parameterlength(chain) == n
    ps_lux, _ = PB.Lux.setup(PB.Xoshiro(1), chain)
    zps = PB.zero_lux_params(spec)
    @test keys(zps) == keys(ps_lux)
    @test all(size(zps[k].weight) == size(ps_lux[k].weight) for k in keys(zps))
    h = compile(
        LV_SRC,
        "layout-test",
        2,
        2;
        nets = (("nn", 3, 2, 5, 2, "tanh", "identity"),),
    )
    m = PB.get_model(h)
    theta = vcat([1.0, 2.0], randn(n))
    p = PB.to_params(m, theta)
    @test PB.from_lux(m, p) == theta
    # our layout: per layer W (out, in) row-major, then b
    x = randn(3)
    y, k = x, 2
    for (l, (o, i)) in enumerate(PB.layer_sizes(spec))
        W = permutedims(reshape(theta[(k + 1):(k + o * i)], i, o))
        b = theta[(k + o * i + 1):(k + o * i + o)]
        k += o * i + o
        y = W * y .+ b
        y = l == 3 ? y : tanh.(y)
    end
    @test PB.net_apply(m.f.K.nets.nn, x, p.nets.nn) ≈ y rtol = 1.0e-12
    # a batch: features on the first (reversed numpy last) dimension
    X = randn(3, 4, 2)
    Y = PB.net_apply(m.f.K.nets.nn, X, p.nets.nn)
    @test size(Y) == (2, 4, 2) &&
        Y[:, 3, 2] ≈ PB.net_apply(m.f.K.nets.nn, X[:, 3, 2], p.nets.nn)
end

@testset "solve against the exact solution" begin
    h = compile(DECAY_SRC, "decay", 2, 2)
    du1, du2 = bridge_rhs(h, [1.0, 2.0], [0.7, 0.5], 0.0)
    @test du1 == du2 ≈ [-0.7, 0.7 - 1.0]
    saveat = collect(range(0.0, 3.0; length = 7))
    for solver in (
            "tsit5",
            "dopri5",
            "dopri8",
            "vern7",
            "rosenbrock23",
            "rodas4",
            "rodas5p",
            "kencarp4",
            "kvaerno5",
            "fbdf",
            "qndf",
            "auto",
        )
        t, U, status, stats, t_end, alg = bridge_solve(
            h,
            [1.0, 2.0],
            [0.7, 0.5],
            0.0,
            3.0,
            saveat,
            solver,
            "auto",
            -1,
            1.0e-9,
            1.0e-11,
            0.0,
            100_000,
            true,
            NONE,
            NONE,
        )
        @test status == 0
        @test t_end == 3.0 && t == saveat && length(stats) == 8 && stats[3] > 0
        @test alg isa String
        exact = reduce(vcat, (decay_exact(1.0, 2.0, 0.7, 0.5, s)' for s in saveat))
        @test maximum(abs, U .- exact) < 1.0e-6
    end
    # one absolute tolerance per state
    _, Ua, sa = bridge_solve(
        h,
        [1.0, 2.0],
        [0.7, 0.5],
        0.0,
        3.0,
        saveat,
        "rodas5p",
        "auto",
        -1,
        1.0e-9,
        [1.0e-11, 1.0e-12],
        0.0,
        100_000,
        true,
        NONE,
        NONE,
    )[1:3]
    @test sa == 0 && Ua[end, :] ≈ decay_exact(1.0, 2.0, 0.7, 0.5, 3.0) rtol = 1.0e-6
    # a step budget that is too small is a status, not an exception
    _, U, status = bridge_solve(
        h,
        [1.0, 2.0],
        [0.7, 0.5],
        0.0,
        3.0,
        saveat,
        "tsit5",
        "auto",
        -1,
        1.0e-9,
        1.0e-11,
        0.0,
        3,
        true,
        NONE,
        NONE,
    )[1:3]
    @test status == 1 && isnan(U[end, 1])
    # sparse LU with a Jacobian pattern and GMRES
    for (ls, rows, cols) in (
            ("sparse", [1, 2, 2], [1, 1, 2]),
            ("gmres", NONE, NONE),
            ("dense", NONE, NONE),
        )
        _, U, status = bridge_solve(
            h,
            [1.0, 2.0],
            [0.7, 0.5],
            0.0,
            3.0,
            saveat,
            "rodas5p",
            ls,
            -1,
            1.0e-9,
            1.0e-11,
            0.0,
            100_000,
            true,
            rows,
            cols,
        )[1:3]
        @test status == 0 && U[end, :] ≈ decay_exact(1.0, 2.0, 0.7, 0.5, 3.0) rtol = 1.0e-5
    end
end

@testset "sensitivities and fixed steps" begin
    h = compile(DECAY_SRC, "decay", 2, 2)
    saveat = [0.5, 1.0, 2.0]
    U, J, status = bridge_sensitivity(
        h,
        [1.0, 2.0],
        [0.7, 0.5],
        true,
        [1],
        0.0,
        2.0,
        saveat,
        "rodas5p",
        "auto",
        -1,
        1.0e-10,
        1.0e-12,
        0.0,
        100_000,
        true,
        NONE,
        NONE,
    )
    @test status == 0 && size(J) == (3, 2, 3)
    for (i, s) in enumerate(saveat)
        want = ForwardDiff.jacobian(
            x -> decay_exact(x[1], x[2], x[3], 0.5, s),
            [1.0, 2.0, 0.7],
        )
        @test J[i, :, :] ≈ want rtol = 1.0e-6
        @test U[i, :] ≈ decay_exact(1.0, 2.0, 0.7, 0.5, s) rtol = 1.0e-8
    end
    # fixed steps: Tsit5's error falls like dt^5
    errs = map((0.1, 0.05)) do dt
        _, Uf, st = bridge_solve(
            h,
            [1.0, 2.0],
            [0.7, 0.5],
            0.0,
            2.0,
            [2.0],
            "tsit5",
            "auto",
            -1,
            1.0e-6,
            1.0e-8,
            dt,
            100_000,
            false,
            NONE,
            NONE,
        )[1:3]
        st == 0 || error("fixed-step solve failed")
        maximum(abs, Uf[1, :] .- decay_exact(1.0, 2.0, 0.7, 0.5, 2.0))
    end
    @test 4.6 < log2(errs[1] / errs[2]) < 5.6
end

@testset "array states and batches" begin
    h = compile(CELLS_SRC, "cells", 12, 4)
    u = collect(1.0:12.0)
    k = [1.0, 2.0, 3.0, 4.0]
    du1, du2 = bridge_rhs(h, u, k, 0.0)
    # numpy: u (3, 4) C order, k (4,) broadcast along the last axis
    U = permutedims(reshape(u, 4, 3))
    want = vec(permutedims(0.1 * sum(u) .- k' .* U))
    @test du1 ≈ want && du2 ≈ want
    hd = compile(DECAY_SRC, "decay", 2, 2)
    ks = [0.3, 0.6, 0.9]
    U0 = [1.0 2.0; 1.0 2.0; 3.0 0.0]
    THETA = hcat(ks, fill(0.5, 3))
    saveat = [0.0, 1.0, 2.0]
    Ub, status, stats, t_end = bridge_solve_batch(
        hd,
        U0,
        THETA,
        0.0,
        2.0,
        saveat,
        "tsit5",
        "auto",
        -1,
        1.0e-10,
        1.0e-12,
        0.0,
        100_000,
        true,
        NONE,
        NONE,
    )
    @test size(Ub) == (3, 3, 2) &&
        all(==(0), status) &&
        size(stats) == (3, 8) &&
        t_end == [2.0, 2.0, 2.0]
    for i in 1:3, (j, s) in enumerate(saveat)
        @test Ub[i, j, :] ≈ decay_exact(U0[i, 1], U0[i, 2], ks[i], 0.5, s) rtol = 1.0e-7
    end
end

# the loss of the decay model, in closed form
function exact_loss(theta, U0, ts, ys, scale)
    acc = zero(eltype(theta))
    for i in axes(ts, 1), j in axes(ts, 2)
        u = decay_exact(U0[i, 1], U0[i, 2], theta[1], theta[2], ts[i, j])
        acc += sum(abs2, (u .- ys[i, j, :]) ./ scale)
    end
    return acc / length(ys)
end

const ADJOINTS = (
    ("forward", "auto"),
    ("gauss", "zygote"),
    ("gauss", "enzyme"),
    ("interpolating", "reversediff"),
    ("checkpointed", "zygote"),
    ("quadrature", "enzyme"),
    ("backsolve", "zygote"),
    ("auto", "auto"),
)

@testset "gradients: decay vs closed form" begin
    h = compile(DECAY_SRC, "decay", 2, 2)
    ts = [0.5 1.0 2.0; 0.3 0.9 1.5]
    ys = reshape(collect(range(0.1, 1.2; length = 12)), 2, 3, 2)
    mask = trues(2, 3, 2)
    scale = [1.0, 2.0]
    theta = [0.7, 0.5]
    U0 = [1.0 2.0; 0.5 1.5]
    want_l = exact_loss(theta, U0, ts, ys, scale)
    want_g = ForwardDiff.gradient(th -> exact_loss(th, U0, ts, ys, scale), theta)
    want_u = ForwardDiff.gradient(u -> exact_loss(theta, u, ts, ys, scale), U0)
    for (adj, vjp) in ADJOINTS
        l, g, gu, status = bridge_loss_and_grad(
            h,
            theta,
            U0,
            [0.0, 0.0],
            ts,
            ys,
            mask,
            scale,
            0.0,
            "tsit5",
            "auto",
            -1,
            adj,
            vjp,
            1.0e-10,
            1.0e-12,
            100_000,
            NONE,
            NONE,
        )
        @test status == [0, 0]
        @test l ≈ want_l rtol = 1.0e-7
        @test g ≈ want_g rtol = 1.0e-5
        @test gu ≈ want_u rtol = 1.0e-5
    end
    # a stiff solver through the adjoint
    l, g = bridge_loss_and_grad(
        h,
        theta,
        U0,
        [0.0, 0.0],
        ts,
        ys,
        mask,
        scale,
        0.0,
        "rodas5p",
        "auto",
        -1,
        "gauss",
        "enzyme",
        1.0e-10,
        1.0e-12,
        100_000,
        NONE,
        NONE,
    )[1:2]
    @test g ≈ want_g rtol = 1.0e-5
    # masked entries (NaN observations) do not count
    ys2 = copy(ys)
    mask2 = copy(mask)
    ys2[1, 2, 1] = NaN
    mask2[1, 2, 1] = false
    l2, g2 = bridge_loss_and_grad(
        h,
        theta,
        U0,
        [0.0, 0.0],
        ts,
        ys2,
        mask2,
        scale,
        0.0,
        "tsit5",
        "auto",
        -1,
        "gauss",
        "zygote",
        1.0e-10,
        1.0e-12,
        100_000,
        NONE,
        NONE,
    )[1:2]
    @test isfinite(l2) && all(isfinite, g2)
end

@testset "gradients: neural model vs finite differences" begin
    h = compile(LV_SRC, "lv", 2, 2; nets = (LV_NET,))
    n = PB.n_params(PB.NetSpec(LV_NET))
    theta = vcat([1.3, 1.8], 0.3 .* sin.(1:n))
    U0 = [0.44 4.6]
    ts = [0.25 0.5 0.75 1.0]
    ys = reshape([0.5 0.6 0.7 0.8 4.0 3.5 3.0 2.5], 1, 4, 2)
    mask = trues(1, 4, 2)
    lossf(th) = bridge_loss_and_grad(
        h,
        th,
        U0,
        [0.0],
        ts,
        ys,
        mask,
        [1.0, 1.0],
        1.0e-3,
        "tsit5",
        "auto",
        -1,
        "forward",
        "auto",
        1.0e-11,
        1.0e-13,
        100_000,
        NONE,
        NONE,
    )[1]
    fd = map(eachindex(theta)) do i
        e = zeros(length(theta))
        e[i] = 1.0e-6
        (lossf(theta .+ e) - lossf(theta .- e)) / 2.0e-6
    end
    for (adj, vjp) in ADJOINTS
        _, g = bridge_loss_and_grad(
            h,
            theta,
            U0,
            [0.0],
            ts,
            ys,
            mask,
            [1.0, 1.0],
            1.0e-3,
            "tsit5",
            "auto",
            -1,
            adj,
            vjp,
            1.0e-11,
            1.0e-13,
            100_000,
            NONE,
            NONE,
        )[1:2]
        @test g ≈ fd rtol = 1.0e-4
    end
end

@testset "bound transforms" begin
    for (k, lo, hi) in ((0, 0.0, 0.0), (1, 2.0, 0.0), (2, 0.0, 3.0), (3, -1.0, 4.0))
        for z in (-5.0, 0.0, 3.0)
            x = PB.to_natural(k, lo, hi, z)
            @test PB.to_unconstrained(k, lo, hi, x) ≈ z atol = 1.0e-9
            k in (1, 3) && @test x >= lo
            k in (2, 3) && @test x <= hi
        end
    end
end

@testset "fit recovers parameters" begin
    h = compile(DECAY_SRC, "decay", 2, 2)
    ts = reshape(collect(range(0.2, 3.0; length = 10)), 1, :)
    truth = [0.7, 0.5]
    ys = zeros(1, 10, 2)
    for j in 1:10
        ys[1, j, :] = decay_exact(1.0, 2.0, truth..., ts[1, j])
    end
    theta0 = [1.2, 0.5]
    kind, lo, hi = [1, 0], [0.0, 0.0], [0.0, 0.0]
    z0 = PB.to_unconstrained.(kind, lo, hi, theta0)
    adam = ("adam", 0.05, 100, 1.0, 10.0, "cosine", 0.1, 0, 1.0e-4, 10)
    warm = ("adam", 0.05, 50, 0.5, 0.0, "constant", 1.0, 0, 1.0e-4, 10)
    lbfgs = ("lbfgs", 0.0, 100, 1.0, 0.0, "constant", 1.0, 0, 1.0e-4, 10)
    args = (
        h,
        theta0,
        z0,
        [1.0 2.0],
        [false false],
        [0.0],
        ts,
        ys,
        trues(1, 10, 2),
        [1.0, 1.0],
        0.0,
        kind,
        lo,
        hi,
        [true, false],
        (warm, adam, lbfgs),
        "tsit5",
        "auto",
        -1,
        "gauss",
        "zygote",
        1.0e-10,
        1.0e-12,
        100_000,
        NONE,
        NONE,
    )
    reports = Int[]
    report = (i, l, s, th) -> (push!(reports, i); length(th) != 2)
    theta, U0, hist, stage, status, msg, final = bridge_fit(args..., report, 0.0)
    @test U0 == [1.0 2.0] && occursin("fitted", msg) && final < 1.0e-10
    @test status == 0 && theta[1] ≈ 0.7 rtol = 1.0e-4 && theta[2] == 0.5
    @test length(hist) == length(stage) && stage[1] == 1 && last(stage) == 3
    @test !isempty(reports) && minimum(hist) < 1.0e-10
    # the schedule: cosine from 1 to final_fraction over the steps
    st = PB.Stage(adam)
    @test PB.schedule_factor(st, 0) == 1.0 && PB.schedule_factor(st, 100) ≈ 0.1
    # stop on request: the best point so far is returned with status INTERRUPTED
    theta2, _, hist2, _, status2 = bridge_fit(args..., (i, l, s, th) -> i >= 3, 0.0)[1:5]
    @test status2 == 8 && length(hist2) == 3 && isfinite(theta2[1])
    # initial states are fitted where u0_free says so
    args3 = (
        h,
        [0.7, 0.5],
        PB.to_unconstrained.(kind, lo, hi, [0.7, 0.5]),
        [1.3 2.0],
        [true false],
        [0.0],
        ts,
        ys,
        trues(1, 10, 2),
        [1.0, 1.0],
        0.0,
        kind,
        lo,
        hi,
        [false, false],
        (lbfgs,),
        "tsit5",
        "auto",
        -1,
        "forward",
        "auto",
        1.0e-10,
        1.0e-12,
        100_000,
        NONE,
        NONE,
        nothing,
        1.0,
    )
    _, U3 = bridge_fit(args3...)[1:2]
    @test U3[1, 1] ≈ 1.0 rtol = 1.0e-4 && U3[1, 2] == 2.0
end

@testset "grid operators: discrete eigenfunctions" begin
    ny, nx, dy, dx = 5, 16, 0.5, 0.25
    # numpy shapes: y faces (ny+1, nx), x faces (ny, nx+1), cells (ny, nx)
    function axis(kind, nfaces, ncross, len, dist)
        active = fill(1.0, nfaces, ncross)
        if kind == "neumann"
            active[1, :] .= 0.0
            active[end, :] .= 0.0
        end
        L = len .* active
        return (L, L ./ dist, active ./ dist, fill(0.5, nfaces, ncross))
    end
    for kind in ("periodic", "neumann")
        Ly, Cy, Iy, Wy = axis(kind, ny + 1, nx, dx, dy)
        Lx, Cx, Ix, Wx = axis(kind, nx + 1, ny, dy, dx)
        yax = make_axis(kind, 0.0, 1.0, Ly, Cy, Iy, Wy, fill(0.5, ny, nx), false, false, 0)
        xax = make_axis(
            kind,
            0.0,
            1.0,
            permutedims(Lx),
            permutedims(Cx),
            permutedims(Ix),
            permutedims(Wx),
            fill(0.5, ny, nx),
            false,
            false,
            0,
        )
        g = make_grid(yax, xax, fill(1 / (dx * dy), ny, nx), nothing)
        x = ((1:nx) .- 0.5) .* dx
        kx = 2pi / (nx * dx)
        f = repeat(cos.(kx .* x), 1, ny) # Julia layout (nx, ny)
        lap = PB.laplacian(f, g)
        if kind == "periodic"
            @test lap ≈ (2cos(kx * dx) - 2) / dx^2 .* f atol = 1.0e-10
            dfy, dfx = PB.gradient(f, g)
            @test dfx ≈ -sin(kx * dx) / dx .* repeat(sin.(kx .* x), 1, ny) atol = 1.0e-10
            @test maximum(abs, dfy) < 1.0e-12
            u = 0.7
            adv = PB.advect(f, u, 0.0, g, :upwind)
            @test adv ≈ -u .* (f .- circshift(f, (1, 0))) ./ dx atol = 1.0e-10
        end
        # conservation: the area integral of a flux-form operator vanishes
        r = rand(nx, ny)
        @test abs(sum(PB.laplacian(r, g))) < 1.0e-9
        @test abs(sum(PB.divergence(r, 2r, g))) < 1.0e-9
        @test abs(sum(PB.advect(r, 0.3, -0.2, g, :centered))) < 1.0e-9
        # leading batch dimensions (numpy (k, ny, nx) -> Julia (nx, ny, k))
        R = rand(nx, ny, 2)
        @test PB.laplacian(R, g)[:, :, 2] ≈ PB.laplacian(R[:, :, 2], g)
    end
end

@testset "precompile workload runs" begin
    @test PB._workload() === nothing
    @test length(bridge_info()) >= 5
end
