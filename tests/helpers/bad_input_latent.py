"""Misuse of pysciml.latent: each case must raise a pysciml.errors subclass naming the argument.

``CASES``: tuples ``(case_id, call, exc, argument)``; ``call(tmp_path)`` must raise ``exc`` whose
message (or ``.argument``) names ``argument``.  Other table tests import ``CASES``: keep the name and format.
"""

from __future__ import annotations

import functools
import json

import numpy as np

from pysciml.errors import DataError, FileFormatError, InputError
from pysciml.fitting.estimator import NotFittedError
from pysciml.latent import LatentODE

_T = np.linspace(0.0, 3.0, 8)
_Y = np.stack([np.sin(_T), np.cos(_T)], axis=1)


def _series(n=4):
    return [(_T + 0.1 * i, _Y * (1 + 0.1 * i)) for i in range(n)]


@functools.lru_cache(maxsize=1)
def _fitted() -> LatentODE:
    """A tiny model trained for one step (the checks under test run before any computation)."""
    return LatentODE(2, encoder_hidden=4, ode_hidden=4, decoder_hidden=0, encoder="gru").fit(_series(), steps=1)


@functools.lru_cache(maxsize=1)
def _fitted_conditional() -> LatentODE:
    """A tiny model conditioned on one number per series, trained for one step."""
    model = LatentODE(2, encoder_hidden=4, ode_hidden=4, decoder_hidden=0, encoder="gru")
    return model.fit(_series(), condition=[0.5, 1.0, 1.5, 2.0], steps=1)


def _with_y(y, t=_T):
    return [(t, y)] + _series(2)


def _unsorted(tmp_path):
    t = _T.copy()
    t[[2, 3]] = t[[3, 2]]
    return LatentODE().fit(_with_y(_Y, t))


def _duplicated(tmp_path):
    t = _T.copy()
    t[3] = t[2]
    return LatentODE().fit(_with_y(_Y, t))


def _no_time_axis(tmp_path):
    import xarray as xr

    return LatentODE().fit(xr.DataArray(np.zeros((5, 3)), dims=("foo", "series")))


def _unknown_series_dim(tmp_path):
    import xarray as xr

    da = xr.DataArray(np.zeros((5, 3)), dims=("time", "series"), coords={"time": np.arange(5.0)}, name="x")
    return LatentODE().fit(da, series_dim="station")


def _saved_with(tmp_path, **changes):
    LatentODE().save(tmp_path / "m")
    doc = json.loads((tmp_path / "m.json").read_text())
    doc.update(changes)
    (tmp_path / "m.json").write_text(json.dumps(doc))
    return LatentODE.load(tmp_path / "m")


CASES = [
    ("n_latent_zero", lambda p: LatentODE(n_latent=0), InputError, "n_latent"),
    ("encoder_hidden_float", lambda p: LatentODE(encoder_hidden=3.5), InputError, "encoder_hidden"),
    ("encoder_unknown", lambda p: LatentODE(encoder="lstm"), InputError, "encoder"),
    ("solver_stiff", lambda p: LatentODE(solver="rodas5p"), InputError, "solver"),
    ("solver_euler_without_dt", lambda p: LatentODE(solver="euler"), InputError, "dt"),
    ("dt_zero", lambda p: LatentODE(solver="euler", dt=0.0), InputError, "dt"),
    ("dt_negative", lambda p: LatentODE(dt=-0.05), InputError, "dt"),
    ("with_solver_euler_dt_negative", lambda p: _fitted().with_solver("euler", dt=-0.1), InputError, "dt"),
    ("predict_euler_past_max_steps", lambda p: _fitted().with_solver("euler", dt=1e-3).predict(_T, _Y, 10 * _T),
     InputError, "max_steps"),
    ("noise_std_negative", lambda p: LatentODE(noise_std=-0.1), InputError, "noise_std"),
    ("noise_std_word", lambda p: LatentODE(noise_std="fit"), InputError, "noise_std"),
    ("time_scale_zero", lambda p: LatentODE(time_scale=0.0), InputError, "time_scale"),
    ("predict_before_fit", lambda p: LatentODE().predict(_T, _Y, _T), NotFittedError, "model"),
    ("sample_before_fit", lambda p: LatentODE().sample(_T, 2), NotFittedError, "model"),
    ("fit_steps_zero", lambda p: LatentODE().fit(_series(), steps=0), InputError, "steps"),
    ("fit_kl_anneal_above_one", lambda p: LatentODE().fit(_series(), kl_anneal=1.5), InputError, "kl_anneal"),
    ("fit_unsorted_times", _unsorted, DataError, "data"),
    ("fit_duplicate_times", _duplicated, DataError, "data"),
    ("fit_all_nan_series", lambda p: LatentODE().fit(_with_y(np.full_like(_Y, np.nan))), DataError, "data"),
    ("fit_mixed_state_counts", lambda p: LatentODE().fit(_with_y(_Y[:, :1])), DataError, "data"),
    ("fit_not_series", lambda p: LatentODE().fit("series.csv"), DataError, "data"),
    ("fit_no_time_axis", _no_time_axis, DataError, "data"),
    ("fit_unknown_series_dim", _unknown_series_dim, InputError, "series_dim"),
    ("fit_noise_std_per_state_count", lambda p: LatentODE(noise_std=[0.1, 0.1, 0.1]).fit(_series()), InputError,
     "noise_std"),
    ("warm_start_unfitted", lambda p: LatentODE().fit(_series(), warm_start=True), NotFittedError, "warm_start"),
    ("predict_y_wrong_shape", lambda p: _fitted().predict(_T, _Y[:, :1], _T), InputError, "y"),
    ("predict_y_transposed", lambda p: _fitted().predict(_T, _Y.T, _T), InputError, "y"),
    ("predict_t_unsorted", lambda p: _fitted().predict(_T[::-1], _Y, _T), InputError, "t"),
    ("predict_all_nan", lambda p: _fitted().predict(_T, np.full_like(_Y, np.nan), _T), InputError, "y"),
    ("predict_t_new_nan", lambda p: _fitted().predict(_T, _Y, [0.5, np.nan]), InputError, "t_new"),
    ("predict_std_without_samples", lambda p: _fitted().predict(_T, _Y, _T, return_std=True), InputError,
     "n_samples"),
    ("forecast_negative_horizon", lambda p: _fitted().forecast(_T, _Y, -1.0), InputError, "horizon"),
    ("sample_zero_trajectories", lambda p: _fitted().sample(_T, 0), InputError, "n"),
    ("sample_calendar_times", lambda p: _fitted().sample(np.array(["2020-01-01"], "datetime64[D]")), InputError,
     "t"),
    ("fit_condition_wrong_length", lambda p: LatentODE().fit(_series(), condition=[1.0, 2.0]), InputError,
     "condition"),
    ("fit_condition_nan", lambda p: LatentODE().fit(_series(), condition=[1.0, np.nan, 2.0, 3.0]), InputError,
     "condition"),
    ("fit_condition_name_without_dataset", lambda p: LatentODE().fit(_series(), condition="w"), InputError,
     "condition"),
    ("sample_condition_missing", lambda p: _fitted_conditional().sample(_T, 2), InputError, "condition"),
    ("sample_condition_not_fitted_with_one", lambda p: _fitted().sample(_T, 2, condition=[1.0]), InputError,
     "condition"),
    ("predict_condition_wrong_size", lambda p: _fitted_conditional().predict(_T, _Y, _T, condition=[1.0, 2.0]),
     InputError, "condition"),
    ("predict_condition_nan", lambda p: _fitted_conditional().predict(_T, _Y, _T, condition=[np.nan]), InputError,
     "condition"),
    ("elbo_terms_condition_missing", lambda p: _fitted_conditional().elbo_terms(_series()), InputError, "condition"),
    ("load_missing", lambda p: LatentODE.load(p / "nothing"), InputError, "path"),
    ("load_future_version", lambda p: _saved_with(p, version=99), FileFormatError, "path"),
    ("load_other_format", lambda p: _saved_with(p, format="pysciml-model"), FileFormatError, "path"),
]
