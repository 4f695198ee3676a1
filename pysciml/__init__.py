"""pysciml: scientific machine learning from Python.

Fit universal differential equations (known physics + neural networks) to
time series and gridded xarray data, solve stiff systems with exact
gradients, and read learned terms back as equations.  The embedded ``jax``
engine is the default; the optional ``julia`` engine runs the same models
through DifferentialEquations.jl.

``import pysciml`` is cheap: it imports no engine (neither jax nor juliacall)
and loads each part of the API on first use.  Every public name is listed
twice below, both checked equal by ``tests/test_architecture.py``: in
:data:`_EXPORTS` (loaded on first attribute access) and in the
``TYPE_CHECKING`` block that type checkers and IDEs read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

# public name -> module that defines it (loaded on first attribute access)
_EXPORTS = {
    "PySciMLError": "errors",
    "InputError": "errors",
    "ModelError": "errors",
    "DataError": "errors",
    "EngineUnavailableError": "errors",
    "EngineError": "errors",
    "SolverFailure": "errors",
    "FileFormatError": "errors",
    "TraceError": "errors",
    "Status": "status",
    "ODEModel": "model",
    "UDE": "model",
    "NeuralODE": "model",
    "ModelSpec": "model_spec",
    "ParamView": "model_spec",
    "Param": "params",
    "MLP": "networks",
    "Adam": "training.optimizers",
    "LBFGS": "training.optimizers",
    "LevenbergMarquardt": "training.optimizers",
    "SingleShooting": "training.strategies",
    "MultipleShooting": "training.strategies",
    "Collocation": "training.strategies",
    "GrowingHorizon": "training.strategies",
    "OneStepAhead": "training.strategies",
    "MSE": "training.losses",
    "GaussianNLL": "training.losses",
    "Direct": "solvers.adjoints",
    "Checkpointed": "solvers.adjoints",
    "Backsolve": "solvers.adjoints",
    "Gauss": "solvers.adjoints",
    "Interpolating": "solvers.adjoints",
    "Quadrature": "solvers.adjoints",
    "ForwardDiffSensitivity": "solvers.adjoints",
    "Tsit5": "solvers.runge_kutta",
    "Dopri5": "solvers.runge_kutta",
    "Dopri8": "solvers.runge_kutta",
    "Vern7": "solvers.runge_kutta",
    "Kvaerno5": "solvers.runge_kutta",
    "KenCarp4": "solvers.runge_kutta",
    "Rosenbrock23": "solvers.rosenbrock.rosenbrock23",
    "Rodas4": "solvers.rosenbrock.rodas4",
    "Rodas5P": "solvers.rosenbrock.rodas5p",
    "FBDF": "solvers.bdf",
    "QNDF": "solvers.bdf",
    "Auto": "solvers.auto",
    "DenseLU": "solvers.linear",
    "SparseLU": "solvers.linear",
    "GMRES": "solvers.linear",
    "solve": "ivp",
    "sensitivity": "ivp",
    "Solution": "solution",
    "as_observations": "data.ingest",
    "discover": "discovery.search",
    "Equations": "discovery.equations",
    "Polynomial": "discovery.libraries",
    "Fourier": "discovery.libraries",
    "Custom": "discovery.custom",
    "load": "loading",
    "load_latent": "loading",
    "LatentODE": "latent.estimator",
    "fit_cells": "cells.fit",
    "solve_cells": "cells.simulate",
    "forecast_cells": "cells.simulate",
    "info": "info",
}

#: subpackages and modules reachable as attributes (``ps.grid.RegularGrid``, ``ps.cache.info()``)
_SUBMODULES = frozenset(['cache', 'cells', 'data', 'discovery', 'engines', 'errors', 'fitting', 'grid', 'info', 'io', 'ivp', 'latent', 'loading', 'model', 'model_spec', 'networks', 'numerics', 'params', 'solution', 'solvers', 'states', 'status', 'training'])

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:
    from .errors import PySciMLError as PySciMLError, InputError as InputError, ModelError as ModelError, DataError as DataError, EngineUnavailableError as EngineUnavailableError, EngineError as EngineError, SolverFailure as SolverFailure, FileFormatError as FileFormatError, TraceError as TraceError
    from .status import Status as Status
    from .model import ODEModel as ODEModel, UDE as UDE, NeuralODE as NeuralODE
    from .model_spec import ModelSpec as ModelSpec, ParamView as ParamView
    from .params import Param as Param
    from .networks import MLP as MLP
    from .training.optimizers import Adam as Adam, LBFGS as LBFGS, LevenbergMarquardt as LevenbergMarquardt
    from .training.strategies import SingleShooting as SingleShooting, MultipleShooting as MultipleShooting, Collocation as Collocation, GrowingHorizon as GrowingHorizon, OneStepAhead as OneStepAhead
    from .training.losses import MSE as MSE, GaussianNLL as GaussianNLL
    from .solvers.adjoints import Direct as Direct, Checkpointed as Checkpointed, Backsolve as Backsolve, Gauss as Gauss, Interpolating as Interpolating, Quadrature as Quadrature, ForwardDiffSensitivity as ForwardDiffSensitivity
    from .solvers.runge_kutta import Tsit5 as Tsit5, Dopri5 as Dopri5, Dopri8 as Dopri8, Vern7 as Vern7, Kvaerno5 as Kvaerno5, KenCarp4 as KenCarp4
    from .solvers.rosenbrock.rosenbrock23 import Rosenbrock23 as Rosenbrock23
    from .solvers.rosenbrock.rodas4 import Rodas4 as Rodas4
    from .solvers.rosenbrock.rodas5p import Rodas5P as Rodas5P
    from .solvers.bdf import FBDF as FBDF, QNDF as QNDF
    from .solvers.auto import Auto as Auto
    from .solvers.linear import DenseLU as DenseLU, SparseLU as SparseLU, GMRES as GMRES
    from .ivp import solve as solve, sensitivity as sensitivity
    from .solution import Solution as Solution
    from .data.ingest import as_observations as as_observations
    from .discovery.search import discover as discover
    from .discovery.equations import Equations as Equations
    from .discovery.libraries import Polynomial as Polynomial, Fourier as Fourier
    from .discovery.custom import Custom as Custom
    from .loading import load as load, load_latent as load_latent
    from .latent.estimator import LatentODE as LatentODE
    from .cells.fit import fit_cells as fit_cells
    from .cells.simulate import solve_cells as solve_cells, forecast_cells as forecast_cells
    from .info import info as info


# `obj.sciml` on xarray objects as soon as xarray is imported (no xarray import here)
from . import _xarray_hook  # noqa: E402

_xarray_hook.install()


def __getattr__(name):
    try:
        module = _EXPORTS[name]
    except KeyError:
        if name in _SUBMODULES:
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module 'pysciml' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
