"""Rosenbrock-Wanner solvers of the jax engine: one shared machine for every tableau.

    from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve
    from pysciml.solvers.rosenbrock.rodas5p import RODAS5P
    res = rosenbrock_solve(fun, t0, t1, y0, args, ts, tableau=RODAS5P, rtol=1e-6, atol=1e-8)
    res.ys, res.status, res.stats

The tableaus (coefficients and order-condition checks) are engine-free and live
with the solver objects in :mod:`pysciml.solvers.rosenbrock`.  Here:
:mod:`.step` (one step and its dense output), :mod:`.controller` (step-size
control), :mod:`.machine` (the loop), :mod:`.adjoint` (discrete adjoint),
:mod:`.solve` (the entry point), :mod:`.diffrax_adapter` (any tableau as a
diffrax solver).
"""
