# Versions and settings reported to Python (`ps.info()`).

"""
    bridge_info() -> Tuple of (name, value) pairs

Julia version, threads, depot, and the versions of the packages the bridge uses.
"""
function bridge_info()
    mods = (
        SciMLBase,
        OrdinaryDiffEqRosenbrock,
        SciMLSensitivity,
        Lux,
        ComponentArrays,
        Optimization,
        Zygote,
        LinearSolve,
    )
    versions = Tuple((string(nameof(mod)), string(pkgversion(mod))) for mod in mods)
    return (
        ("julia", string(VERSION)),
        ("threads", string(Threads.nthreads())),
        ("depot", isempty(DEPOT_PATH) ? "" : first(DEPOT_PATH)),
        ("bindir", Sys.BINDIR),
        ("PySciMLBridge", string(pkgversion(@__MODULE__))),
        versions...,
    )
end
