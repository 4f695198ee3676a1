"""Bad-input cases of ``ps.fit_sde`` (SDEs fitted to observed paths), for the table of tests/test_bad_input.py.

Each case is ``(case_id, call(tmp_path), exception, argument)``.
"""

from __future__ import annotations

import numpy as np

import pysciml as ps
from pysciml.errors import InputError

T = np.array([0.0, 0.1, 0.2, 0.3])


def _ou():
    return ps.SDEModel(lambda u, p, t, m: [p.theta * (p.mu - u[0])], lambda u, p, t, m: [p.sigma + 0.0 * u[0]],
                       ["x"], {"theta": 2.0, "mu": 1.0, "sigma": ps.Param(0.5, bounds=(0, None))}, noise="additive")


def _paths(n_paths=3, n_times=4, n_states=1):
    return np.random.default_rng(0).normal(size=(n_paths, n_times, n_states))


def _fit(model=None, data=None, t=T, **kw):
    return ps.fit_sde(_ou() if model is None else model, _paths() if data is None else data, t, verbose=0, **kw)


def _with_nan():
    x = _paths()
    x[1, 2, 0] = np.nan
    return x


def _ode():
    return ps.ODEModel(lambda u, p, t, m: [-p.k * u[0]], ["x"], {"k": 1.0})


def _two_states(noise, n_noise=None):
    def diffusion(u, p, t, m):
        return [[0.1, 0.0], [0.0, 0.1]] if noise == "general" else [0.1 + 0.0 * u[0], 0.1 + 0.0 * u[1]]

    return ps.SDEModel(lambda u, p, t, m: [-u[0], -u[1]], diffusion, ["x", "y"], {"k": 1.0}, noise=noise,
                       n_noise=n_noise)


def _dataset_without_state(tmp):
    import xarray as xr

    ds = xr.Dataset({"y": (("path", "time"), _paths()[:, :, 0])}, coords={"time": T})
    return _fit(data=ds, t=None)


def _dataset_and_t(tmp):
    import xarray as xr

    ds = xr.Dataset({"x": (("path", "time"), _paths()[:, :, 0])}, coords={"time": T})
    return _fit(data=ds, t=T)


CASES = [
    ("sde-fit-not-an-sde-model", lambda tmp: _fit(model=_ode()), InputError, "model"),
    ("sde-fit-data-not-paths", lambda tmp: _fit(data=np.zeros(4)), InputError, "data"),
    ("sde-fit-data-not-numbers", lambda tmp: _fit(data="paths.csv"), InputError, "data"),
    ("sde-fit-n-states-mismatch", lambda tmp: _fit(data=_paths(n_states=2)), InputError, "data"),
    ("sde-fit-one-observation-time", lambda tmp: _fit(data=_paths(n_times=1), t=[0.0]), InputError, "data"),
    ("sde-fit-t-missing", lambda tmp: _fit(t=None), InputError, "t"),
    ("sde-fit-t-wrong-length", lambda tmp: _fit(t=T[:3]), InputError, "t"),
    ("sde-fit-t-not-increasing", lambda tmp: _fit(t=[0.0, 0.2, 0.1, 0.3]), InputError, "t"),
    ("sde-fit-t-repeated", lambda tmp: _fit(t=[0.0, 0.1, 0.1, 0.3]), InputError, "t"),
    ("sde-fit-nan-in-data", lambda tmp: _fit(data=_with_nan()), InputError, "data"),
    ("sde-fit-unknown-parameter-in-fit", lambda tmp: _fit(fit=["zeta"]), InputError, "fit"),
    ("sde-fit-fit-and-fixed-both", lambda tmp: _fit(fit=["mu"], fixed=["theta"]), InputError, "fit"),
    ("sde-fit-everything-fixed", lambda tmp: _fit(fixed=["theta", "mu", "sigma"]), InputError, "fit"),
    ("sde-fit-unknown-start-parameter", lambda tmp: _fit(params={"zeta": 1.0}), InputError, "params"),
    ("sde-fit-negative-start-diffusion", lambda tmp: _fit(params={"sigma": -0.5}), InputError, "params.sigma"),
    ("sde-fit-levenberg-marquardt", lambda tmp: _fit(optimizers=[ps.LevenbergMarquardt(steps=5)]), InputError,
     "optimizers"),
    ("sde-fit-scalar-noise-several-states",
     lambda tmp: _fit(model=_two_states("scalar"), data=_paths(n_states=2)), InputError, "model"),
    ("sde-fit-general-noise-too-few-brownian-motions",
     lambda tmp: _fit(model=_two_states("general", 1), data=_paths(n_states=2)), InputError, "model"),
    ("sde-fit-dataset-missing-a-state", _dataset_without_state, InputError, "data"),
    ("sde-fit-t-given-with-a-dataset", _dataset_and_t, InputError, "t"),
    ("sde-fit-max-drift-scale-zero", lambda tmp: _fit(max_drift_scale=0.0), InputError, "max_drift_scale"),
]


def _load_without_diffusion(tmp):
    fit = _fit(optimizers=[ps.LBFGS(steps=2)], max_drift_scale=10.0)  # the model's functions are lambdas: not found by name
    fit.save(tmp / "fit")
    ps.load(tmp / "fit", physics=fit.model.drift)


CASES.append(("sde-fit-load-diffusion-not-loaded", _load_without_diffusion, InputError, "diffusion"))
