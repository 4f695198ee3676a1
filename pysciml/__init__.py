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
    "SDEModel": "sde.spec",
    "SDESolution": "sde.solution",
    "fit_sde": "sde.fitting",
    "SDEFit": "sde.fitting",
    "CoarseDataWarning": "sde.fitting",
    "EulerMaruyama": "solvers.sde",
    "Milstein": "solvers.sde",
    "EulerHeun": "solvers.sde",
    "ReversibleHeun": "solvers.sde",
    "ShARK": "solvers.sde",
    "SRA1": "solvers.sde",
    "SPaRK": "solvers.sde",
    "BrownianTree": "solvers.sde",
    "BrownianGrid": "solvers.sde",
    "Dopri5": "solvers.runge_kutta",
    "Dopri8": "solvers.runge_kutta",
    "Vern7": "solvers.runge_kutta",
    "Kvaerno5": "solvers.runge_kutta",
    "KenCarp4": "solvers.runge_kutta",
    "Rosenbrock23": "solvers.rosenbrock.rosenbrock23",
    "Rodas4": "solvers.rosenbrock.rodas4",
    "Rodas5P": "solvers.rosenbrock.rodas5p",
    "FBDF": "solvers.bdf",
    "VelocityVerlet": "solvers.symplectic",
    "Yoshida4": "solvers.symplectic",
    "Yoshida6": "solvers.symplectic",
    "Yoshida8": "solvers.symplectic",
    "QNDF": "solvers.bdf",
    "Auto": "solvers.auto",
    "DenseLU": "solvers.linear",
    "SparseLU": "solvers.linear",
    "BandedLU": "solvers.linear",
    "GMRES": "solvers.linear",
    "solve": "ivp",
    "compile": "compiled",
    "solve_ensemble": "ensemble",
    "EnsembleSolution": "ensemble",
    "Event": "events",
    "At": "events",
    "EventWarning": "events",
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
    "LatentSDE": "latent.sde_estimator",
    "fit_cells": "cells.fit",
    "solve_cells": "cells.simulate",
    "forecast_cells": "cells.simulate",
    "info": "info",
}

#: subpackages and modules reachable as attributes (``ps.grid.RegularGrid``, ``ps.cache.info()``)
_SUBMODULES = frozenset(
    [
        'bio',
        'cache',
        'cells',
        'compiled',
        'data',
        'discovery',
        'engines',
        'errors',
        'fitting',
        'grid',
        'info',
        'io',
        'ivp',
        'latent',
        'loading',
        'model',
        'model_spec',
        'networks',
        'numerics',
        'params',
        'physics',
        'solution',
        'solvers',
        'states',
        'status',
        'training',
    ]
)

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:
    from .cells.fit import fit_cells as fit_cells
    from .cells.simulate import forecast_cells as forecast_cells
    from .cells.simulate import solve_cells as solve_cells
    from .compiled import compile as compile
    from .data.ingest import as_observations as as_observations
    from .discovery.custom import Custom as Custom
    from .discovery.equations import Equations as Equations
    from .discovery.libraries import Fourier as Fourier
    from .discovery.libraries import Polynomial as Polynomial
    from .discovery.search import discover as discover
    from .ensemble import EnsembleSolution as EnsembleSolution
    from .ensemble import solve_ensemble as solve_ensemble
    from .errors import DataError as DataError
    from .errors import EngineError as EngineError
    from .errors import EngineUnavailableError as EngineUnavailableError
    from .errors import FileFormatError as FileFormatError
    from .errors import InputError as InputError
    from .errors import ModelError as ModelError
    from .errors import PySciMLError as PySciMLError
    from .errors import SolverFailure as SolverFailure
    from .errors import TraceError as TraceError
    from .events import At as At
    from .events import Event as Event
    from .events import EventWarning as EventWarning
    from .info import info as info
    from .ivp import sensitivity as sensitivity
    from .ivp import solve as solve
    from .latent.estimator import LatentODE as LatentODE
    from .latent.sde_estimator import LatentSDE as LatentSDE
    from .loading import load as load
    from .loading import load_latent as load_latent
    from .model import UDE as UDE
    from .model import NeuralODE as NeuralODE
    from .model import ODEModel as ODEModel
    from .model_spec import ModelSpec as ModelSpec
    from .model_spec import ParamView as ParamView
    from .networks import MLP as MLP
    from .params import Param as Param
    from .sde.fitting import CoarseDataWarning as CoarseDataWarning
    from .sde.fitting import SDEFit as SDEFit
    from .sde.fitting import fit_sde as fit_sde
    from .sde.solution import SDESolution as SDESolution
    from .sde.spec import SDEModel as SDEModel
    from .solution import Solution as Solution
    from .solvers.adjoints import Backsolve as Backsolve
    from .solvers.adjoints import Checkpointed as Checkpointed
    from .solvers.adjoints import Direct as Direct
    from .solvers.adjoints import ForwardDiffSensitivity as ForwardDiffSensitivity
    from .solvers.adjoints import Gauss as Gauss
    from .solvers.adjoints import Interpolating as Interpolating
    from .solvers.adjoints import Quadrature as Quadrature
    from .solvers.auto import Auto as Auto
    from .solvers.bdf import FBDF as FBDF
    from .solvers.bdf import QNDF as QNDF
    from .solvers.linear import GMRES as GMRES
    from .solvers.linear import BandedLU as BandedLU
    from .solvers.linear import DenseLU as DenseLU
    from .solvers.linear import SparseLU as SparseLU
    from .solvers.rosenbrock.rodas4 import Rodas4 as Rodas4
    from .solvers.rosenbrock.rodas5p import Rodas5P as Rodas5P
    from .solvers.rosenbrock.rosenbrock23 import Rosenbrock23 as Rosenbrock23
    from .solvers.runge_kutta import Dopri5 as Dopri5
    from .solvers.runge_kutta import Dopri8 as Dopri8
    from .solvers.runge_kutta import KenCarp4 as KenCarp4
    from .solvers.runge_kutta import Kvaerno5 as Kvaerno5
    from .solvers.runge_kutta import Tsit5 as Tsit5
    from .solvers.runge_kutta import Vern7 as Vern7
    from .solvers.sde import SRA1 as SRA1
    from .solvers.sde import BrownianGrid as BrownianGrid
    from .solvers.sde import BrownianTree as BrownianTree
    from .solvers.sde import EulerHeun as EulerHeun
    from .solvers.sde import EulerMaruyama as EulerMaruyama
    from .solvers.sde import Milstein as Milstein
    from .solvers.sde import ReversibleHeun as ReversibleHeun
    from .solvers.sde import ShARK as ShARK
    from .solvers.sde import SPaRK as SPaRK
    from .solvers.symplectic import VelocityVerlet as VelocityVerlet
    from .solvers.symplectic import Yoshida4 as Yoshida4
    from .solvers.symplectic import Yoshida6 as Yoshida6
    from .solvers.symplectic import Yoshida8 as Yoshida8
    from .status import Status as Status
    from .training.losses import MSE as MSE
    from .training.losses import GaussianNLL as GaussianNLL
    from .training.optimizers import LBFGS as LBFGS
    from .training.optimizers import Adam as Adam
    from .training.optimizers import LevenbergMarquardt as LevenbergMarquardt
    from .training.strategies import Collocation as Collocation
    from .training.strategies import GrowingHorizon as GrowingHorizon
    from .training.strategies import MultipleShooting as MultipleShooting
    from .training.strategies import OneStepAhead as OneStepAhead
    from .training.strategies import SingleShooting as SingleShooting


# `obj.sciml` on xarray objects as soon as xarray is imported (no xarray import here)
from . import _xarray_hook  # noqa: E402

_xarray_hook.install()

from ._float64 import prefer_float64  # noqa: E402

prefer_float64()


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
