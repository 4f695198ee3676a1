"""The bad-input table: misuse across solve, fit, gridded fit, latent ODE, I/O and the CLI.

Every case is ``(case_id, call, exception, argument)``: ``call(tmp_path)`` must raise
``exception`` whose message names ``argument`` (and, for a :class:`PySciMLError`, whose
``exc.argument`` contains it and starts the message: ``"data[1]"`` names ``"data"``).  Cases already written next to their feature are imported,
not copied: ``test_solve_inputs.CASES``, ``test_gridded_errors.CASES``, the parametrised
``test_fit_features.test_fit_bad_input`` and, when present, ``bad_input_latent.CASES``.

``python tools/render_bad_input_table.py`` renders :data:`TABLE` into ``docs/reliability.md``;
``test_reliability_doc_is_up_to_date`` fails when the doc and the table differ.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import test_cells_errors as _gridded_errors
import test_fit_features as _fit_features
import test_solve_inputs as _solve_inputs
from helpers import bad_input_bio as _bio
from helpers import bad_input_data as _data
from helpers import bad_input_ensemble as _ensemble
from helpers import bad_input_physics as _physics
from helpers import bad_input_pictures as _pictures
from helpers import bad_input_sde_fit as _sde_fit

import pysciml as ps
from pysciml.errors import DataError, FileFormatError, InputError, ModelError, PySciMLError
from pysciml.fitting.estimator import NotFittedError
from pysciml.physics import AngleUnitsWarning

try:
    from helpers import bad_input_latent as _latent
except ImportError:  # written by the latent-ODE work; the table grows when it lands
    _latent = None

ROOT = Path(__file__).resolve().parent.parent


class CLIExit(Exception):
    """``pysciml ...`` stopped with exit status 2 and a one-line error (no traceback) on stderr."""

    doc_name = "exit status 2"


# -- shared pieces -----------------------------------------------------------------------------------
def _decay(u, p, t, m):
    return -p.k * u


T = np.linspace(0.0, 2.0, 10)
Y = np.exp(-0.5 * T)
QUICK = dict(verbose=0, strategy=ps.SingleShooting(), optimizers=[ps.Adam(1e-2, steps=1)])


def _model():
    return ps.ODEModel(_decay, ["y"], {"k": 0.3})


def _fit(**kw):
    return _model().fit((T, Y), **{**QUICK, **kw})


@functools.lru_cache(maxsize=1)
def _fitted():
    """A model with the fitted attributes a fit leaves (set by hand: these checks run before any solve)."""
    from pysciml.data import as_observations

    model = _model()
    model.params_, model.network_params_ = {"k": 0.5}, {}
    model.observations_ = as_observations((T, Y), states=model)
    model.u0_all_ = np.array([[1.0]])
    model.fit_options_ = {"rtol": 1e-6, "atol": 1e-8, "max_steps": 10_000}
    model.fitted_solver_ = ps.Tsit5()
    return model


def _xr_data(**kw):
    import xarray as xr

    return xr.Dataset({"y": ("time", Y)}, coords={"time": T})


# -- solve: test_solve_inputs.CASES -------------------------------------------------------------------
def _solve_case(model, overrides):
    return lambda tmp: ps.solve(model, **{**_solve_inputs.GOOD, "solver": ps.Tsit5(), **overrides})


SOLVE = [(cid, _solve_case(model, overrides), exc, arg) for cid, model, overrides, exc, arg in _solve_inputs.CASES]


def _julia_options(**env):
    from pysciml.engines.julia.options import prepare_environment

    prepare_environment(dict(env))  # what the julia engine runs on os.environ before starting Julia


SOLVE += [
    ("julia-option-value-juliapkg-refuses", lambda tmp: _julia_options(PYTHON_JULIAPKG_OFFLINE="maybe"),
     ps.EngineUnavailableError, "PYTHON_JULIAPKG_OFFLINE"),
    ("julia-option-value-juliacall-refuses", lambda tmp: _julia_options(PYTHON_JULIACALL_OPTIMIZE="fast"),
     ps.EngineUnavailableError, "PYTHON_JULIACALL_OPTIMIZE"),
]

# -- fit: test_fit_features.test_fit_bad_input, then the cases below ----------------------------------
_FIT_FEATURE_IDS = ["data-without-time-axis", "data-unsorted-times", "data-duplicate-times",
                    "data-trajectory-all-nan", "optimizers-not-an-optimizer", "strategy-unknown",
                    "fit-unknown-parameter", "l2-negative", "seed-not-integer", "callback-not-callable",
                    "fit-u0-maybe", "u0-wrong-length"]


def _fit_feature_cases():
    mark = next(m for m in _fit_features.test_fit_bad_input.pytestmark if m.name == "parametrize")
    out = []
    for i, (data, kwargs, exc, arg) in enumerate(mark.args[1]):
        cid = _FIT_FEATURE_IDS[i] if i < len(_FIT_FEATURE_IDS) else f"fit-features-{i}"
        out.append((cid, lambda tmp, d=data, k=kwargs: _fit_features._lv_net_model().fit(d, verbose=0, **k), exc, arg))
    return out


FIT = _fit_feature_cases() + [
    ("collocation-negative-steps", lambda tmp: ps.Collocation(steps=-1), InputError, "Collocation.steps"),
    ("collocation-zero-learning-rate", lambda tmp: ps.Collocation(learning_rate=0.0), InputError,
     "Collocation.learning_rate"),
    ("growing-horizon-nan-learning-rate", lambda tmp: ps.GrowingHorizon(learning_rate=float("nan")), InputError,
     "GrowingHorizon.learning_rate"),
    ("multiple-shooting-zero-segments", lambda tmp: _fit(strategy=ps.MultipleShooting(segments=0)), InputError,
     "MultipleShooting.segments"),
    ("multiple-shooting-negative-continuity", lambda tmp: ps.MultipleShooting(continuity=-1.0), InputError,
     "MultipleShooting.continuity"),
    ("adam-negative-learning-rate", lambda tmp: _fit(optimizers=[ps.Adam(-1e-3)]), InputError, "Adam.learning_rate"),
    ("lbfgs-steps-text", lambda tmp: ps.LBFGS(steps="many"), InputError, "LBFGS.steps"),
    ("gaussian-nll-negative-sigma", lambda tmp: _fit(loss=ps.GaussianNLL(sigma=-1.0)), InputError,
     "GaussianNLL.sigma"),
    ("loss-unknown", lambda tmp: _fit(loss="huber"), InputError, "loss"),
    ("checkpoint-every-zero", lambda tmp: _fit(checkpoint=tmp / "c", checkpoint_every=0), InputError,
     "checkpoint_every"),
    ("checkpoint-seconds-negative", lambda tmp: _fit(checkpoint=tmp / "c", checkpoint_seconds=-1), InputError,
     "checkpoint_seconds"),
    ("resume-without-checkpoint", lambda tmp: _fit(resume=True), InputError, "resume"),
    ("resume-not-boolean", lambda tmp: _fit(checkpoint=tmp / "c", resume="yes"), InputError, "resume"),
    ("verbose-text", lambda tmp: _fit(verbose="loud"), InputError, "verbose"),
    ("rtol-zero", lambda tmp: _fit(rtol=0.0), InputError, "rtol"),
    ("atol-negative", lambda tmp: _fit(atol=-1e-9), InputError, "atol"),
    ("max-steps-zero", lambda tmp: _fit(max_steps=0), InputError, "max_steps"),
    ("symplectic-solver-in-a-fit", lambda tmp: _fit(solver=ps.Yoshida4(dt=0.01)), InputError, "solver"),
    ("sde-solver-in-a-fit", lambda tmp: _fit(solver=ps.EulerMaruyama()), InputError, "solver"),
    ("levenberg-marquardt-in-a-model-fit", lambda tmp: _fit(optimizers=[ps.LevenbergMarquardt(steps=5)]), InputError,
     "optimizers"),
    ("fit-and-fixed-both", lambda tmp: _fit(fit=["k"], fixed=["k"]), InputError, "fit"),
    ("fixed-unknown", lambda tmp: _fit(fixed=["zeta"]), InputError, "fixed"),
    ("params-unknown", lambda tmp: _fit(params={"zeta": 1.0}), InputError, "params"),
    ("params-nan", lambda tmp: _fit(params={"k": np.nan}), InputError, "params.k"),
    ("engine-unknown", lambda tmp: _fit(engine="fortran"), InputError, "engine"),
    ("solver-unknown", lambda tmp: _fit(solver="rk99"), InputError, "solver"),
    ("adjoint-unknown", lambda tmp: _fit(adjoint="magic"), InputError, "adjoint"),
    ("data-none", lambda tmp: _model().fit(None, **QUICK), DataError, "data"),
    ("data-a-file-name", lambda tmp: _model().fit("obs.nc", **QUICK), DataError, "data"),
    ("data-too-many-states", lambda tmp: _model().fit((T, np.ones((T.size, 3))), **QUICK), DataError, "data"),
    ("data-infinite-values", lambda tmp: _model().fit((T, np.full(T.size, np.inf)), **QUICK), DataError, "data"),
    ("data-nan-time", lambda tmp: _model().fit((np.r_[T[:-1], np.nan], Y), **QUICK), DataError, "data"),
    ("xarray-state-missing", lambda tmp: _model().fit(_xr_data().rename(y="z"), **QUICK), DataError, "states"),
    ("time-dim-missing", lambda tmp: _model().fit(_xr_data(), time_dim="when", **QUICK), DataError, "time_dim"),
    ("trajectory-dim-missing", lambda tmp: _model().fit(_xr_data(), trajectory_dim="run", **QUICK), DataError,
     "trajectory_dim"),
    ("u0-nan", lambda tmp: _fit(u0=[np.nan]), InputError, "u0"),
    ("predict-before-fit", lambda tmp: _model().predict(), NotFittedError, "model"),
    ("forecast-negative-horizon", lambda tmp: _fitted().forecast(-1.0), InputError, "horizon"),
    ("predict-trajectory-out-of-range", lambda tmp: _fitted().predict(trajectory=3), InputError, "trajectory"),
    ("discover-without-network", lambda tmp: _fitted().discover(), InputError, "network"),
]


# -- gridded: test_gridded_errors.CASES, then the .sciml accessor -------------------------------------
def _grid_case(call):
    return lambda tmp: call(_gridded_errors.shared_model(), *_gridded_errors._data())


def _grid_data():
    return _gridded_errors._data()[0]


def _grid_fit(tmp, **kw):
    return _grid_data().sciml.fit(_gridded_errors.shared_model(), verbose=0, **kw)


def _a_file(tmp):
    (tmp / "f").write_text("x")
    return tmp / "f"


GRIDDED = [(cid, _grid_case(call), exc, arg) for cid, call, exc, arg in _gridded_errors.CASES] + [
    ("fit-resume-without-checkpoint", lambda tmp: _grid_fit(tmp, resume=True), InputError, "resume"),
    ("fit-resume-not-bool", lambda tmp: _grid_fit(tmp, checkpoint=tmp / "c", resume="yes"), InputError, "resume"),
    ("fit-checkpoint-cells-zero", lambda tmp: _grid_fit(tmp, checkpoint=tmp / "c", checkpoint_cells=0), InputError,
     "checkpoint_cells"),
    ("fit-checkpoint-cells-without-checkpoint", lambda tmp: _grid_fit(tmp, checkpoint_cells=10), InputError,
     "checkpoint_cells"),
    ("fit-checkpoint-is-a-file", lambda tmp: _grid_fit(tmp, checkpoint=_a_file(tmp)), InputError, "checkpoint"),
    ("fit-checkpoint-with-shared-params", lambda tmp: _grid_fit(tmp, per_cell=["lam"], shared=["forcing"],
                                                                checkpoint=tmp / "c"), InputError, "checkpoint"),
    ("accessor-fit-unknown-per-cell", lambda tmp: _grid_data().sciml.fit(_gridded_errors.shared_model(),
                                                                          per_cell=["nope"], verbose=0),
     InputError, "per_cell"),
    ("accessor-fit-bad-memory", lambda tmp: _grid_data().sciml.fit(_gridded_errors.shared_model(), max_memory="1 lot",
                                                                    verbose=0), InputError, "max_memory"),
    ("accessor-solve-bad-params", lambda tmp: _grid_data().sciml.solve(_gridded_errors.shared_model(), params=[1]),
     InputError, "params"),
    ("accessor-forecast-zero-horizon", lambda tmp: _grid_data().sciml.forecast(_gridded_errors.shared_model(), 0.0),
     InputError, "horizon"),
    ("accessor-fit-symplectic-solver", lambda tmp: _grid_data().sciml.fit(_gridded_errors.shared_model(),
                                                                         solver=ps.VelocityVerlet(dt=0.1), verbose=0),
     InputError, "solver"),
]

# -- contradictory or malformed options, refused at construction (issue 19) ---------------------------
def _k_model(**param):
    return ps.ODEModel(_decay, ["y"], {"k": ps.Param(0.3, **param)})


def _grid_decay():
    import xarray as xr

    return xr.DataArray(np.exp(-0.5 * T)[:, None] * np.ones((T.size, 3)), dims=("time", "x"),
                        coords={"time": T}, name="y")


def _cells(model=None, data=None, **kw):
    return ps.fit_cells(_grid_decay() if data is None else data, model or _model(), **{**QUICK, **kw})


OPTIONS = [
    ("param-bounds-not-numbers", lambda tmp: _k_model(bounds=("a", 1.0)), ModelError, "params.k"),
    ("param-bounds-a-number", lambda tmp: _k_model(bounds=3), ModelError, "params.k"),
    ("param-bounds-low-at-plus-infinity", lambda tmp: _k_model(bounds=(np.inf, None)), ModelError, "params.k"),
    ("param-fixed-not-boolean", lambda tmp: _k_model(fixed="no"), ModelError, "params.k"),
    ("param-units-not-text", lambda tmp: _k_model(units=3), ModelError, "params.k"),
    ("model-time-units-not-text", lambda tmp: ps.ODEModel(_decay, ["y"], {"k": 0.3}, time_units=3), ModelError,
     "time_units"),
    ("fit-a-declared-fixed-parameter", lambda tmp: _k_model(fixed=True).fit((T, Y), fit=["k"], **QUICK), InputError,
     "fit"),
    ("cells-per-cell-a-declared-fixed-parameter", lambda tmp: _cells(_k_model(fixed=True), per_cell=["k"]),
     InputError, "per_cell"),
    ("cells-shared-a-declared-fixed-parameter", lambda tmp: _cells(_k_model(fixed=True), shared=["k"]), InputError,
     "shared"),
    ("cells-one-step-ahead-with-u0", lambda tmp: _cells(u0=1.0, strategy=ps.OneStepAhead()), InputError, "u0"),
    ("cells-callback-without-shared-parameters", lambda tmp: _cells(callback=lambda info: False), InputError,
     "callback"),
    ("cells-workers-with-dask-data", lambda tmp: _cells(data=_grid_decay().chunk({"x": 1}), workers=2), InputError,
     "workers"),
    ("cells-solve-workers-with-dask-data",
     lambda tmp: ps.solve_cells(_grid_decay().chunk({"x": 1}), _model(), params={"k": 0.5}, workers=2), InputError,
     "workers"),
    ("solve-adaptive-text", lambda tmp: ps.solve(_model(), [1.0], (0.0, 1.0), adaptive="no", solver=ps.Tsit5()),
     InputError, "adaptive"),
    ("adam-patience-not-below-steps", lambda tmp: ps.Adam(steps=10, patience=10), InputError, "Adam.patience"),
    ("adam-min-delta-negative", lambda tmp: ps.Adam(min_delta=-1.0), InputError, "Adam.min_delta"),
    ("adam-final-fraction-text", lambda tmp: ps.Adam(final_fraction="half"), InputError, "Adam.final_fraction"),
    ("levenberg-marquardt-infinite-damping", lambda tmp: ps.LevenbergMarquardt(damping=np.inf), InputError,
     "LevenbergMarquardt.damping"),
    ("multiple-shooting-segments-boolean", lambda tmp: ps.MultipleShooting(segments=True), InputError,
     "MultipleShooting.segments"),
    ("multiple-shooting-continuity-text", lambda tmp: ps.MultipleShooting(continuity="high"), InputError,
     "MultipleShooting.continuity"),
    ("multiple-shooting-continuity-infinite", lambda tmp: ps.MultipleShooting(continuity=np.inf), InputError,
     "MultipleShooting.continuity"),
    ("multiple-shooting-polish-text", lambda tmp: ps.MultipleShooting(polish="no"), InputError,
     "MultipleShooting.polish"),
    ("collocation-smoothing-infinite", lambda tmp: ps.Collocation(smoothing=np.inf), InputError,
     "Collocation.smoothing"),
    ("growing-horizon-stages-boolean", lambda tmp: ps.GrowingHorizon(stages=True), InputError,
     "GrowingHorizon.stages"),
    ("gaussian-nll-sigma-text", lambda tmp: ps.GaussianNLL(sigma=["a"]), InputError, "GaussianNLL.sigma"),
    ("gaussian-nll-sigma-empty", lambda tmp: ps.GaussianNLL(sigma=[]), InputError, "GaussianNLL.sigma"),
    ("auto-stiff-hint-text", lambda tmp: ps.Auto(stiff_hint="yes"), InputError, "Auto.stiff_hint"),
    ("auto-unknown-linsolve", lambda tmp: ps.Auto(linsolve="bogus"), InputError, "linsolve"),
    ("auto-not-stiff-with-linsolve", lambda tmp: ps.Auto(stiff_hint=False, linsolve="sparse"), InputError,
     "Auto.linsolve"),
    ("gmres-rtol-text", lambda tmp: ps.GMRES(rtol="tight"), InputError, "GMRES.rtol"),
    ("gmres-restart-fractional", lambda tmp: ps.GMRES(restart=2.5), InputError, "GMRES.restart"),
    ("gmres-unknown-preconditioner", lambda tmp: ps.GMRES(preconditioner="ilu9"), InputError,
     "GMRES.preconditioner"),
    ("checkpointed-zero-checkpoints", lambda tmp: ps.Checkpointed(checkpoints=0), InputError,
     "Checkpointed.checkpoints"),
    ("mlp-last-layer-scale-nan", lambda tmp: ps.MLP(1, 1, last_layer_scale=np.nan), ModelError,
     "MLP.last_layer_scale"),
    ("mlp-n-in-boolean", lambda tmp: ps.MLP(True, 1), ModelError, "MLP.n_in"),
    ("mlp-inputs-a-string", lambda tmp: ps.MLP(2, 1, inputs="xy"), ModelError, "MLP.inputs"),
    ("mlp-inputs-repeated", lambda tmp: ps.MLP(2, 1, inputs=("x", "x")), ModelError, "MLP.inputs"),
    ("latent-states-repeated", lambda tmp: ps.LatentODE(states=["a", "a"]), InputError, "states"),
]

# -- latent ODE: bad_input_latent.CASES ---------------------------------------------------------------
LATENT = list(_latent.CASES) if _latent is not None else []


# -- latent SDE ----------------------------------------------------------------------------------------
_LT = np.linspace(0.0, 3.0, 8)
_LY = np.stack([np.sin(_LT), np.cos(_LT)], axis=1)


def _lseries(n=4):
    return [(_LT + 0.1 * i, _LY * (1 + 0.1 * i)) for i in range(n)]


@functools.lru_cache(maxsize=1)
def _latent_sde():
    """A tiny latent SDE trained one step (the checks under test run before any computation)."""
    return ps.LatentSDE(2, encoder_hidden=4, drift_hidden=4, diffusion_hidden=0, context_size=2, decoder_hidden=0,
                        encoder="gru").fit(_lseries(), steps=1)


LATENT_SDE = [
    ("latent-sde-n-latent-zero", lambda tmp: ps.LatentSDE(n_latent=0), InputError, "n_latent"),
    ("latent-sde-n-latent-negative", lambda tmp: ps.LatentSDE(n_latent=-2), InputError, "n_latent"),
    ("latent-sde-dt-zero", lambda tmp: ps.LatentSDE(dt=0.0), InputError, "dt"),
    ("latent-sde-restarts-zero", lambda tmp: ps.LatentSDE(2).fit(_lseries(), steps=1, restarts=0), InputError,
     "restarts"),
    ("latent-sde-restarts-with-warm-start", lambda tmp: _latent_sde().fit(_lseries(), steps=1, restarts=2,
                                                                          warm_start=True), InputError, "restarts"),
    ("latent-sde-dt-negative", lambda tmp: ps.LatentSDE(dt=-0.1), InputError, "dt"),
    ("latent-sde-dt-word", lambda tmp: ps.LatentSDE(dt="fine"), InputError, "dt"),
    ("latent-sde-diffusion-hidden-negative", lambda tmp: ps.LatentSDE(diffusion_hidden=-1), InputError,
     "diffusion_hidden"),
    ("latent-sde-context-size-zero", lambda tmp: ps.LatentSDE(context_size=0), InputError, "context_size"),
    ("latent-sde-series-3d", lambda tmp: ps.LatentSDE().fit([(_LT, np.zeros((8, 2, 2)))]), DataError, "data"),
    ("latent-sde-series-length-mismatch", lambda tmp: ps.LatentSDE().fit([(_LT, _LY[:5])] + _lseries(2)), DataError,
     "data"),
    ("latent-sde-series-mixed-states", lambda tmp: ps.LatentSDE().fit([(_LT, _LY[:, :1])] + _lseries(2)), DataError,
     "data"),
    ("latent-sde-sample-before-fit", lambda tmp: ps.LatentSDE().sample(_LT, 2), NotFittedError, "model"),
    ("latent-sde-predict-y-wrong-shape", lambda tmp: _latent_sde().predict(_LT, _LY[:, :1], _LT), InputError, "y"),
    ("latent-sde-predict-before-first-time", lambda tmp: _latent_sde().predict(_LT, _LY, _LT - 1.0), InputError,
     "t_new"),
    ("latent-sde-predict-zero-samples", lambda tmp: _latent_sde().predict(_LT, _LY, _LT, n_samples=0), InputError,
     "n_samples"),
]


# -- I/O: saved models, checkpoints, NetCDF / Zarr writers --------------------------------------------
def _saved(tmp: Path, name="m") -> Path:
    _model().save(tmp / name)
    return tmp / name


def _edit_json(path: Path, **changes) -> Path:
    doc = json.loads(path.with_suffix(".json").read_text())
    for k, v in changes.items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    path.with_suffix(".json").write_text(json.dumps(doc))
    return path


def _load_with_npz(tmp: Path, arrays: dict) -> object:
    p = _edit_json(_saved(tmp), arrays_sha256=None)
    np.savez(p.with_suffix(".npz"), **arrays)
    return ps.load(p, physics=_decay)


def _load_other_pair(tmp: Path):
    a = _saved(tmp, "a")
    ps.ODEModel(_decay, ["y"], {"k": 0.9}).save(tmp / "b")
    a.with_suffix(".npz").write_bytes((tmp / "b.npz").read_bytes())
    return ps.load(a, physics=_decay)


def _load_unloaded_physics(tmp: Path):
    p = _saved(tmp)
    doc = json.loads(p.with_suffix(".json").read_text())
    doc["model"]["physics"]["module"] = "my_lab_models_not_imported"
    p.with_suffix(".json").write_text(json.dumps(doc))
    return ps.load(p)


def _write(tmp: Path, name: str, text: str) -> Path:
    (tmp / name).write_text(text)
    return tmp / name


def _checkpoint_file(tmp: Path, meta: dict | None, **arrays) -> Path:
    payload = dict(arrays)
    if meta is not None:
        payload["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(tmp / "ck.npz", **payload)
    return tmp / "ck"


def _resume(path):
    return _fit(checkpoint=path, resume=True)


def _ds():
    import xarray as xr

    return xr.Dataset({"loss": ("cell", np.arange(3.0))})


def _netcdf(obj, path, **kw):
    from pysciml.cells import to_netcdf

    return to_netcdf(obj, path, **kw)


def _zarr(obj, path, **kw):
    from pysciml.cells import to_zarr

    return to_zarr(obj, path, **kw)


def _non_store_dir(tmp: Path) -> Path:
    d = tmp / "results"
    d.mkdir()
    (d / "notes.txt").write_text("a week of work")
    return d


IO = [
    ("load-no-such-file", lambda tmp: ps.load(tmp / "nope"), InputError, "path"),
    ("load-path-none", lambda tmp: ps.load(None), InputError, "path"),
    ("load-not-json", lambda tmp: ps.load(_write(tmp, "x.json", "{oops") and _write(tmp, "x.npz", "") and tmp / "x"),
     FileFormatError, "path"),
    ("load-json-not-an-object", lambda tmp: ps.load(_edit_json(_saved(tmp)) and
                                                    _write(tmp, "m.json", "[1, 2]") and tmp / "m"),
     FileFormatError, "path"),
    ("load-foreign-format", lambda tmp: ps.load(_edit_json(_saved(tmp), format="other-tool")), FileFormatError,
     "path"),
    ("load-unknown-version", lambda tmp: ps.load(_edit_json(_saved(tmp), version=99)), FileFormatError, "path"),
    ("load-object-array", lambda tmp: _load_with_npz(tmp, {"default/k": np.array([{"x": 1}], dtype=object)}),
     FileFormatError, "path"),
    ("load-npz-corrupt", lambda tmp: ps.load(_edit_json(_saved(tmp), arrays_sha256=None) and
                                             _write(tmp, "m.npz", "garbage") and tmp / "m", physics=_decay),
     FileFormatError, "path"),
    ("load-npz-of-another-save", _load_other_pair, FileFormatError, "path"),
    ("load-npz-missing-arrays", lambda tmp: _load_with_npz(tmp, {"other": np.ones(2)}), FileFormatError, "path"),
    ("load-physics-not-loaded", _load_unloaded_physics, InputError, "physics"),
    ("load-physics-not-callable", lambda tmp: ps.load(_saved(tmp), physics=3), ModelError, "physics"),
    ("save-path-none", lambda tmp: _model().save(None), InputError, "path"),
    ("save-inside-a-file", lambda tmp: _model().save(_write(tmp, "f", "x") / "m"), InputError, "path"),
    ("save-over-a-directory", lambda tmp: (tmp / "m.json").mkdir() or _model().save(tmp / "m"), InputError, "path"),
    ("checkpoint-corrupt", lambda tmp: _resume(_write(tmp, "ck.npz", "x") and tmp / "ck"), FileFormatError,
     "checkpoint"),
    ("checkpoint-foreign-npz", lambda tmp: _resume(_checkpoint_file(tmp, None, a=np.ones(2))), FileFormatError,
     "checkpoint"),
    ("checkpoint-unknown-version", lambda tmp: _resume(_checkpoint_file(
        tmp, {"format": "pysciml-checkpoint", "version": 99})), FileFormatError, "checkpoint"),
    ("checkpoint-of-another-fit", lambda tmp: _resume(_checkpoint_file(
        tmp, {"format": "pysciml-checkpoint", "version": 1, "fingerprint": "0" * 64})), InputError, "resume"),
    ("checkpoint-object-array", lambda tmp: _resume(_checkpoint_file(
        tmp, {"format": "pysciml-checkpoint", "version": 1}, x=np.array([None], dtype=object))), FileFormatError,
     "checkpoint"),
    ("checkpoint-path-is-a-directory", lambda tmp: (tmp / "ck.npz").mkdir() or _fit(checkpoint=tmp / "ck"),
     InputError, "checkpoint"),
    ("checkpoint-path-a-number", lambda tmp: _fit(checkpoint=3), InputError, "checkpoint"),
    ("checkpoint-inside-a-file", lambda tmp: _fit(checkpoint=_write(tmp, "f", "x") / "ck"), InputError, "checkpoint"),
    ("netcdf-not-a-dataset", lambda tmp: _netcdf(np.ones(3), tmp / "a.nc"), InputError, "obj"),
    ("netcdf-path-none", lambda tmp: _ds().sciml.to_netcdf(None), InputError, "path"),
    ("netcdf-path-is-a-directory", lambda tmp: _netcdf(_ds(), tmp), InputError, "path"),
    ("netcdf-inside-a-file", lambda tmp: _netcdf(_ds(), _write(tmp, "f", "x") / "a.nc"), InputError, "path"),
    ("netcdf-unknown-engine", lambda tmp: _netcdf(_ds(), tmp / "a.nc", engine="hdf9"), InputError, "engine"),
    ("netcdf-append-mode", lambda tmp: _netcdf(_ds(), tmp / "a.nc", mode="a"), InputError, "mode"),
    ("write-netcdf-dataarray", lambda tmp: __import__("pysciml.io.files").io.files.write_netcdf(
        _ds()["loss"], tmp / "a.nc"), InputError, "ds"),
    ("zarr-not-a-dataset", lambda tmp: _zarr([1, 2], tmp / "a.zarr"), InputError, "obj"),
    ("zarr-path-is-a-file", lambda tmp: _zarr(_ds(), _write(tmp, "a.zarr", "x")), InputError, "path"),
    ("zarr-over-a-non-store-directory", lambda tmp: _zarr(_ds(), _non_store_dir(tmp)), InputError, "path"),
    ("zarr-append", lambda tmp: _zarr(_ds(), tmp / "a.zarr", append_dim="cell"), InputError, "append_dim"),
]


# -- CLI -----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _cli(*argv, **env):
    """Run ``pysciml ARGV`` in this process; raise :class:`CLIExit` on exit status 2."""
    from pysciml.cli import main

    err = io.StringIO()
    with _env(**env), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code
    text = err.getvalue()
    assert "Traceback" not in text, text
    if code == 2:
        raise CLIExit(text)
    return code


def _cli_subprocess(*argv):
    """Run ``python -m pysciml ARGV`` as a user would."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + sys.path))
    out = subprocess.run([sys.executable, "-m", "pysciml", *argv], capture_output=True, text=True, env=env,
                         timeout=120)
    assert "Traceback" not in out.stderr, out.stderr
    if out.returncode == 2:
        raise CLIExit(out.stderr)
    return out.returncode


CLI = [
    ("unknown-command", lambda tmp: _cli("fitt"), CLIExit, "command"),
    ("unknown-command-as-a-process", lambda tmp: _cli_subprocess("fitt"), CLIExit, "command"),
    ("demo-unknown-engine", lambda tmp: _cli("demo", "--engine", "fortran", "--out", str(tmp / "d")), CLIExit,
     "--engine"),
    ("demo-out-without-value", lambda tmp: _cli("demo", "--out"), CLIExit, "--out"),
    ("demo-out-is-a-file", lambda tmp: _cli("demo", "--quick", "--out", str(_write(tmp, "f", "x"))), CLIExit,
     "--out"),
    ("info-unknown-option", lambda tmp: _cli("info", "--bogus"), CLIExit, "--bogus"),
    ("cache-clear-unknown-option", lambda tmp: _cli("cache", "clear", "--force"), CLIExit, "--force"),
    ("cache-info-bad-size", lambda tmp: _cli("cache", "info", PYSCIML_CACHE_SIZE="lots"), CLIExit,
     "PYSCIML_CACHE_SIZE"),
]

def _ns(**kw):
    from pysciml import physics

    return physics.NavierStokes2D(**kw)


def _kolmogorov(k):
    from pysciml import physics

    return physics.Kolmogorov(k=k)


def _ns_run(w_shift=0.0, t=(0.0, 1.0), n=16):
    from pysciml.physics.fluids import taylor_green

    return _ns(n=n).trajectory(taylor_green(n) + w_shift, list(t))


def _ebm(**kw):
    from pysciml import physics

    return physics.EnergyBalance1D(**kw)


def _mlp(n_in, n_out):
    import pysciml as ps

    return ps.MLP(n_in, n_out)


def _two_box(**kw):
    from pysciml import physics

    return physics.TwoBox(**kw)


def _warning_raised(call):
    """Run ``call()`` with pysciml's angle-units warning turned into an error (the table raises)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", AngleUnitsWarning)
        return call()


def _naca(*args, **kw):
    from pysciml import physics

    return physics.Airfoil.naca(*args, **kw)


def _naca4(*args, **kw):
    from pysciml import physics

    return physics.Airfoil.naca4(*args, **kw)


def _clockwise_section():
    from pysciml import physics

    foil = physics.Airfoil.naca("0012", 40)
    return physics.Airfoil.from_coordinates(np.asarray(foil.x)[::-1], np.asarray(foil.y)[::-1])


def _polar(foil, alpha_deg):
    from pysciml import physics

    return physics.panel_method(foil, alpha_deg)


FIELDS = [
    ("navier-stokes-odd-grid", lambda tmp: _ns(n=33), InputError, "n"),
    ("navier-stokes-tiny-grid", lambda tmp: _ns(n=4), InputError, "n"),
    ("navier-stokes-negative-viscosity", lambda tmp: _ns(viscosity=-1e-3), InputError, "viscosity"),
    ("navier-stokes-negative-drag", lambda tmp: _ns(drag=-0.1), InputError, "drag"),
    ("navier-stokes-forcing-cut-by-dealiasing", lambda tmp: _ns(n=12, forcing=_kolmogorov(4)), InputError, "forcing"),
    ("navier-stokes-nonzero-circulation", lambda tmp: _ns_run(w_shift=1.0), InputError, "w0"),
    ("navier-stokes-uneven-output-times", lambda tmp: _ns_run(t=(0.0, 1.0, 3.0)), InputError, "t"),
    ("energy-balance-nonpositive-diffusivity", lambda tmp: _ebm(diffusivity=0.0), InputError, "diffusivity"),
    ("energy-balance-too-few-latitudes", lambda tmp: _ebm(n_lat=3), InputError, "n_lat"),
    ("energy-balance-nonpositive-B", lambda tmp: _ebm(B=-2.0), InputError, "B"),
    ("energy-balance-albedo-above-one", lambda tmp: _ebm(ai=1.5), InputError, "ai"),
    ("energy-balance-seasonal-p2-insolation", lambda tmp: _ebm(seasonal=True), InputError, "seasonal"),
    ("energy-balance-sweep-unknown-parameter", lambda tmp: _ebm(n_lat=8).sweep("S1", [1300.0]), InputError,
     "parameter"),
    ("energy-balance-ude-network-shape", lambda tmp: _ebm(n_lat=8).ude(_mlp(2, 1)), InputError, "network"),
    ("two-box-negative-heat-capacity", lambda tmp: _two_box(C0=-100.0), InputError, "C0"),
    ("airfoil-code-five-digits", lambda tmp: _naca("23012"), InputError, "code"),
    ("airfoil-code-not-digits", lambda tmp: _naca("24x2"), InputError, "code"),
    ("airfoil-camber-without-its-position", lambda tmp: _naca("2012"), InputError, "code"),
    ("airfoil-odd-panel-count", lambda tmp: _naca("2412", n_panels=201), InputError, "n_panels"),
    ("airfoil-too-few-panels", lambda tmp: _naca("2412", n_panels=10), InputError, "n_panels"),
    ("airfoil-unknown-trailing-edge", lambda tmp: _naca("0012", trailing_edge="sharp"), InputError,
     "trailing_edge"),
    ("airfoil-nan-thickness", lambda tmp: _naca4(0.02, 0.4, float("nan")), InputError, "t"),
    ("airfoil-nan-camber", lambda tmp: _naca4(float("nan"), 0.4, 0.12), InputError, "m"),
    ("airfoil-camber-position-beyond-chord", lambda tmp: _naca4(0.02, 1.2, 0.12), InputError, "p"),
    ("airfoil-coordinates-clockwise", lambda tmp: _clockwise_section(), InputError, "x"),
    ("panel-method-not-an-airfoil", lambda tmp: _polar("2412", [0.0]), InputError, "foil"),
    ("panel-method-nan-angle", lambda tmp: _polar(_naca("0012", 40), [0.0, float("nan")]), InputError,
     "alpha_deg"),
    ("panel-method-angle-beyond-30-degrees", lambda tmp: _warning_raised(lambda: _polar(_naca("0012", 40), [57.3])),
     AngleUnitsWarning, "alpha_deg"),
]

#: (area, cases) in the order of the rendered table
AREAS = [("solve", SOLVE), ("fit", FIT), ("data readers", list(_data.CASES)), ("gridded fit", GRIDDED), ("latent ODE", LATENT),
         ("latent SDE", LATENT_SDE), ("options", OPTIONS), ("I/O", IO),
         ("CLI", CLI), ("physics", list(_physics.CASES)), ("physics fields", FIELDS),
         ("pictures", list(_pictures.CASES)), ("reaction networks", list(_bio.CASES)),
         ("SDE fit", list(_sde_fit.CASES)), ("ensembles", list(_ensemble.CASES))]
#: every case, with its area: ``(area, case_id, call, exception, argument)``
TABLE = [(area, *case) for area, cases in AREAS for case in cases]


@pytest.mark.parametrize("area, case_id, call, exc, argument", TABLE,
                         ids=[f"{a.replace(' ', '_')}/{c[0]}" for a, cases in AREAS for c in cases])
def test_bad_input(area, case_id, call, exc, argument, tmp_path, jax_engine):
    with pytest.raises(exc) as info:
        call(tmp_path)
    err = info.value
    assert argument in str(err), str(err)  # the message names the argument ...
    if isinstance(err, PySciMLError) and err.argument is not None:
        assert argument in err.argument, (err.argument, str(err))  # ... and so does .argument ("data[1]": "data")
        assert str(err).startswith(err.argument), str(err)


def test_every_area_has_cases_and_ids_are_unique():
    assert len(TABLE) >= 60
    for area, cases in AREAS:
        if area != "latent ODE" or _latent is not None:
            assert cases, area
        ids = [c[0] for c in cases]
        assert len(ids) == len(set(ids)), area
    for _area, case_id, call, exc, argument in TABLE:
        assert isinstance(case_id, str) and callable(call) and issubclass(exc, Exception) and argument


def test_reliability_doc_is_up_to_date():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from render_bad_input_table import render_doc
    finally:
        sys.path.remove(str(ROOT / "tools"))
    doc = ROOT / "docs" / "reliability.md"
    assert doc.read_text() == render_doc(doc.read_text(), TABLE), (
        "docs/reliability.md is out of date: run python tools/render_bad_input_table.py")
