"""pysciml: scientific machine learning from Python.

Fit universal differential equations (known physics + neural networks) to
time series and gridded xarray data, solve stiff systems with exact
gradients, and read learned terms back as equations.  The embedded ``jax``
engine is the default; the optional ``julia`` engine runs the same models
through DifferentialEquations.jl.

``import pysciml`` is cheap: it imports no engine (neither jax nor juliacall)
and loads each part of the API on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (loaded on first attribute access)
_EXPORTS = {
    # errors and statuses
    "PySciMLError": "errors", "InputError": "errors", "ModelError": "errors", "DataError": "errors",
    "EngineUnavailableError": "errors", "EngineError": "errors", "SolverFailure": "errors",
    "FileFormatError": "errors", "TraceError": "errors",
    "Status": "status",
    # model specification
    "ODEModel": "model", "UDE": "model", "NeuralODE": "model", "ParamView": "model_spec", "Param": "params",
    "MLP": "networks",
    # fitting
    "Adam": "training.optimizers", "LBFGS": "training.optimizers",
    "SingleShooting": "training.strategies", "MultipleShooting": "training.strategies",
    "Collocation": "training.strategies", "GrowingHorizon": "training.strategies",
    "MSE": "training.losses", "GaussianNLL": "training.losses",
    "Direct": "solvers.adjoints", "Checkpointed": "solvers.adjoints", "Backsolve": "solvers.adjoints",
    "Gauss": "solvers.adjoints", "Interpolating": "solvers.adjoints", "Quadrature": "solvers.adjoints",
    "ForwardDiffSensitivity": "solvers.adjoints",
    "load": "loading",
    # data and discovery
    "as_observations": "data", "discover": "discovery", "Equations": "discovery",
    "Polynomial": "discovery", "Fourier": "discovery", "Custom": "discovery",
    # solvers and linear solvers
    "Tsit5": "solvers.runge_kutta", "Dopri5": "solvers.runge_kutta", "Dopri8": "solvers.runge_kutta",
    "Vern7": "solvers.runge_kutta", "Kvaerno5": "solvers.runge_kutta", "KenCarp4": "solvers.runge_kutta",
    "Rosenbrock23": "solvers.rosenbrock.rosenbrock23", "Rodas4": "solvers.rosenbrock.rodas4",
    "Rodas5P": "solvers.rosenbrock.rodas5p", "FBDF": "solvers.bdf", "QNDF": "solvers.bdf", "Auto": "solvers.auto",
    "DenseLU": "solvers.linear", "SparseLU": "solvers.linear", "GMRES": "solvers.linear",
    # solving
    "solve": "solving", "sensitivity": "solving", "Solution": "solution",
    # latent ODEs (continuous-time VAEs)
    "LatentODE": "latent.estimator", "load_latent": "loading",
    # gridded data (xarray): also the ``.sciml`` accessor
    "fit_cells": "gridded", "solve_cells": "gridded", "forecast_cells": "gridded",
    "LevenbergMarquardt": "training.optimizers", "OneStepAhead": "training.strategies",
    # engines
    "info": "info",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


# `obj.sciml` on xarray objects as soon as xarray is imported (no xarray import here)
from . import _xarray_hook  # noqa: E402

_xarray_hook.install()


def __getattr__(name):
    try:
        module = _EXPORTS[name]
    except KeyError:
        if name in {"errors", "status", "model", "params", "networks", "solvers", "linsolve",
                    "solution", "engines", "states", "numerics", "grid", "data", "discovery",
                    "gridded", "cache", "io", "fitting", "latent"}:
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module 'pysciml' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
