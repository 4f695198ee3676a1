# PrecompileTools workload: solve and gradient for a small stiff model (ROBER) and a
# small neural model (a Lotka-Volterra UDE, also fitted for two Adam and two L-BFGS
# steps), written exactly as emit.py writes models,
# so the first call after installation reuses compiled solver, adjoint and Lux code.

function _wl_rober!(du, u, p, t, K)
    y1 = u[1]
    y2 = u[2]
    y3 = u[3]
    x0 = p.phys[1] * y1
    x1 = p.phys[3] * y2 * y3
    x2 = p.phys[2] * y2^2
    du[1] = -x0 + x1
    du[2] = x0 - x1 - x2
    du[3] = x2
    return nothing
end

function _wl_rober(u, p, t, K)
    y1 = u[1]
    y2 = u[2]
    y3 = u[3]
    x0 = p.phys[1] * y1
    x1 = p.phys[3] * y2 * y3
    x2 = p.phys[2] * y2^2
    return [-x0 + x1, x0 - x1 - x2, x2]
end

function _wl_lv!(du, u, p, t, K)
    f = net_apply(K.nets.nn, [u[1], u[2]], p.nets.nn)
    du[1] = p.phys[1] * u[1] + f[1]
    du[2] = -p.phys[2] * u[2] + f[2]
    return nothing
end

function _wl_lv(u, p, t, K)
    f = net_apply(K.nets.nn, [u[1], u[2]], p.nets.nn)
    return [p.phys[1] * u[1] + f[1], -p.phys[2] * u[2] + f[2]]
end

function _workload()
    none = Int[]
    h = register_model(
        _wl_rober!,
        _wl_rober,
        3,
        3,
        NetSpec[],
        (),
        (),
        false,
        "workload-rober",
    )
    theta = [0.04, 3.0e7, 1.0e4]
    saveat = [0.0, 1.0, 10.0]
    bridge_solve(
        h,
        [1.0, 0.0, 0.0],
        theta,
        0.0,
        10.0,
        saveat,
        "rodas5p",
        "auto",
        -1,
        1.0e-6,
        1.0e-8,
        0.0,
        100_000,
        true,
        none,
        none,
    )
    ts = reshape(saveat, 1, :)
    ys = reshape(permutedims(repeat([1.0, 0.0, 0.0], 1, 3)), 1, 3, 3)
    mask = trues(1, 3, 3)
    bridge_loss_and_grad(
        h,
        theta,
        [1.0 0.0 0.0],
        [0.0],
        ts,
        ys,
        mask,
        ones(3),
        0.0,
        "rodas5p",
        "auto",
        -1,
        "forward",
        "auto",
        1.0e-6,
        1.0e-8,
        100_000,
        none,
        none,
    )

    spec = NetSpec(:nn, 2, 2, 8, 1, "tanh", "identity")
    h2 = register_model(_wl_lv!, _wl_lv, 2, 2, [spec], (), (), false, "workload-lv")
    theta2 = vcat([1.3, 1.8], 0.01 .* sin.(1:n_params(spec)))
    bridge_solve(
        h2,
        [0.44, 4.6],
        theta2,
        0.0,
        1.0,
        [0.0, 0.5, 1.0],
        "tsit5",
        "auto",
        -1,
        1.0e-6,
        1.0e-8,
        0.0,
        100_000,
        true,
        none,
        none,
    )
    ys2 = reshape([0.44 4.6; 0.5 4.0; 0.6 3.5], 1, 3, 2)
    bridge_loss_and_grad(
        h2,
        theta2,
        [0.44 4.6],
        [0.0],
        reshape([0.0, 0.5, 1.0], 1, 3),
        ys2,
        trues(1, 3, 2),
        ones(2),
        1.0e-4,
        "tsit5",
        "auto",
        -1,
        "gauss",
        "zygote",
        1.0e-6,
        1.0e-8,
        100_000,
        none,
        none,
    )
    # two Adam and two L-BFGS steps: the fitting loops (Optimisers, Optim) compile here too
    n2 = length(theta2)
    stages = (
        ("adam", 0.01, 2, 1.0, 0.0, "cosine", 0.1, 0, 0.0, 10, 0.0),
        ("lbfgs", 0.0, 2, 1.0, 0.0, "constant", 1.0, 0, 0.0, 5, 1.0e-9),
    )
    bridge_fit(
        h2,
        theta2,
        theta2,
        [0.44 4.6],
        falses(1, 2),
        [0.0],
        reshape([0.0, 0.5, 1.0], 1, 3),
        ys2,
        trues(1, 3, 2),
        ones(2),
        1.0e-4,
        zeros(Int, n2),
        zeros(n2),
        zeros(n2),
        trues(n2),
        stages,
        "tsit5",
        "auto",
        -1,
        "gauss",
        "zygote",
        1.0e-6,
        1.0e-8,
        100_000,
        none,
        none,
        nothing,
        0.2,
    )
    return nothing
end

# An exception escaping `@compile_workload` fails precompilation of the whole package
# (PrecompileTools wraps the workload in `try ... finally` without `catch`), so the
# workload is guarded: a failure costs compile time on first use, never the package.
# `PySciMLBridge.precompile_workload = false` in the environment's LocalPreferences.toml
# (PrecompileTools' per-package switch) skips it altogether.
"""
    run_workload() -> Bool

Run `_workload()`, turning an exception into a warning; `true` if it completed.
Used by the precompile workload and by the sysimage build.
"""
function run_workload()
    try
        _workload()
        return true
    catch err
        err isa InterruptException && rethrow()
        @warn "PySciMLBridge: the precompile workload failed; the package still loads and " *
            "compiles on first use instead" exception = (err, catch_backtrace())
        return false
    finally
        empty!(MODELS)
        empty!(SOURCE_CACHE)
    end
end

@setup_workload begin
    @compile_workload begin
        run_workload()
    end
end
