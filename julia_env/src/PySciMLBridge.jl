"""
    PySciMLBridge

The Julia half of pysciml's Julia engine. Python (`pysciml.engines.julia.bridge`)
compiles a model from emitted Julia source and then calls the `bridge_*`
functions with plain arrays, numbers, strings and tuples; they return tuples of
plain arrays and numbers. Nothing here depends on Python.

Entry points (all documented where they are defined):

  - `compile_model`, `make_axis`, `make_grid`: build a model from emitted source.
  - `bridge_rhs`: evaluate the right-hand side once (checks).
  - `bridge_solve`, `bridge_solve_batch`: OrdinaryDiffEq solves, one or many (threads).
  - `bridge_sensitivity`: forward-mode derivatives of a trajectory.
  - `bridge_loss_and_grad`: the fitting loss and its gradient (SciMLSensitivity).
  - `bridge_fit`: Adam (Optimisers.jl) then L-BFGS (Optim.jl through Optimization.jl).
  - `bridge_info`: versions and settings.

Parameter layout: one flat `Float64` vector, physics parameters (declaration
order, C order) then each network's weights in pysciml's documented layout
(per layer `W` of shape `(out, in)` in row-major order, then `b`). Inside
Julia it becomes a `ComponentArray` `(phys = ..., nets = (name = Lux params, ...))`.
"""
module PySciMLBridge

using ChainRulesCore: ignore_derivatives
using ComponentArrays: ComponentArrays, ComponentArray, getaxes
using ForwardDiff: ForwardDiff
using LinearSolve: LinearSolve, KLUFactorization, KrylovJL_GMRES, LUFactorization
using Logging: Logging
using Lux: Lux
using Optimization: Optimization
using OptimizationOptimJL: Optim
using OptimizationOptimisers: Optimisers
using LineSearches: BackTracking
using OrdinaryDiffEqBDF: FBDF, QNDF
using OrdinaryDiffEqDefault: DefaultODEAlgorithm
using OrdinaryDiffEqHighOrderRK: DP8
using OrdinaryDiffEqLowOrderRK: DP5
using OrdinaryDiffEqRosenbrock: OrdinaryDiffEqRosenbrock, Rodas4, Rodas5P, Rosenbrock23
using OrdinaryDiffEqSDIRK: KenCarp4, Kvaerno5
using OrdinaryDiffEqTsit5: Tsit5
using OrdinaryDiffEqVerner: Vern7
using PrecompileTools: @compile_workload, @setup_workload
using Random: Xoshiro
using SciMLBase:
    SciMLBase,
    EnsembleProblem,
    EnsembleThreads,
    ODEFunction,
    ODEProblem,
    ReturnCode,
    remake
using SciMLSensitivity:
    SciMLSensitivity,
    BacksolveAdjoint,
    EnzymeVJP,
    ForwardDiffSensitivity,
    GaussAdjoint,
    InterpolatingAdjoint,
    QuadratureAdjoint,
    ReverseDiffVJP,
    ZygoteVJP
using SparseArrays: sparse
using Zygote: Zygote

export compile_model,
    make_axis,
    make_grid,
    bridge_rhs,
    bridge_solve,
    bridge_solve_batch,
    bridge_loss_and_grad,
    bridge_fit,
    bridge_info

include("helpers.jl")
include("retcodes.jl")
include("networks.jl")
include("grid.jl")
include("models.jl")
include("solve.jl")
include("sensitivity.jl")
include("fit.jl")
include("info.jl")
include("precompile.jl")

function __init__()
    empty!(MODELS)
    empty!(SOURCE_CACHE)
    return nothing
end

end # module PySciMLBridge
