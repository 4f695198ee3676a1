"""Bad-input cases of the data readers and gridded stacking that the data fuzzing found
(tests/test_fuzz_data.py; issue 19, item 3), for tests/test_bad_input.py.

Each case is ``(case_id, call(tmp_path), exception, argument)``.  Before the fixes each of these
raised numpy's, pandas' or xarray's own ValueError/IndexError/OverflowError, or was read silently
(text and booleans held as objects, a state label given twice, datetimes that overflowed).
"""

from __future__ import annotations

import numpy as np

import pysciml as ps
from pysciml.errors import DataError

T = np.linspace(0.0, 2.0, 10)
Y = np.exp(-0.5 * T)
QUICK = dict(verbose=0, strategy=ps.SingleShooting(), optimizers=[ps.Adam(1e-2, steps=1)])


def _obs(data, states=("y",), **kw):
    return ps.as_observations(data, states=list(states), **kw)


def _ds(time_attrs):
    import xarray as xr

    return xr.Dataset({"y": ("time", Y)}, coords={"time": ("time", np.arange(T.size), time_attrs)})


def _state_twice():
    import xarray as xr

    return xr.DataArray(np.c_[Y, Y], dims=("time", "state"), coords={"time": T, "state": ["y", "y"]})


def _frame_index_and_column_named_time():
    import pandas as pd

    return pd.DataFrame({"time": Y}, index=pd.Index(T, name="time"))


def _frame_duplicate_columns():
    import pandas as pd

    return pd.DataFrame(np.c_[Y, Y], columns=["y", "y"], index=pd.Index(T, name="time"))


def _grid(values=None, time=None, time_attrs=None, chunks=None):
    import xarray as xr

    v = np.exp(-0.5 * T)[:, None] * np.ones((T.size, 3)) if values is None else values
    t = T if time is None else time
    da = xr.DataArray(v, dims=("time", "x"), coords={"time": ("time", t, time_attrs or {})}, name="y")
    return da.chunk(chunks) if chunks else da


def _model():
    return ps.ODEModel(lambda u, p, t, m: -p.k * u, ["y"], {"k": 0.3})


def _cells(data, **kw):
    return ps.fit_cells(data, _model(), **{**QUICK, **kw})


def _inf_in_first_cell():
    v = np.exp(-0.5 * T)[:, None] * np.ones((T.size, 3))
    v[2, 0] = np.inf
    return v


CASES = [
    ("data-ragged-rows", lambda tmp: _obs(([0.0, 1.0, 2.0], [[1.0, 2.0], [3.0], [4.0, 5.0]]), ("a", "b")),
     DataError, "data"),
    ("data-numbers-as-text-objects", lambda tmp: _obs((T, Y.astype(str).astype(object))), DataError, "data"),
    ("data-booleans-as-objects", lambda tmp: _obs((T, (Y > 0.5).astype(object))), DataError, "data"),
    ("data-state-label-twice", lambda tmp: _obs(_state_twice()), DataError, "data"),
    ("data-dict-state-named-t-and-no-times", lambda tmp: _obs({"t": Y}, ("t",)), DataError, "data"),
    ("data-dict-both-t-and-time", lambda tmp: _obs({"t": T, "time": T, "y": Y}), DataError, "data"),
    ("data-frame-index-and-column-share-a-name", lambda tmp: _obs(_frame_index_and_column_named_time(), ("time",)),
     DataError, "data"),
    ("data-frame-duplicate-columns", lambda tmp: _obs(_frame_duplicate_columns()), DataError, "data"),
    ("data-reference-time-nan", lambda tmp: _obs((T, Y), reference_time=np.nan), DataError, "reference_time"),
    ("data-reference-time-nat", lambda tmp: _obs((T.astype("m8[s]") + np.datetime64("2000-01-01", "s"), Y),
                                                 time_units="days", reference_time=np.datetime64("NaT")),
     DataError, "reference_time"),
    ("data-cf-units-bad-date", lambda tmp: _obs(_ds({"units": "days since garbage"}), time_units="days"), DataError,
     "data"),
    ("data-cf-months-outside-360-day", lambda tmp: _obs(_ds({"units": "months since 2000-01-01"}), time_units="days"),
     DataError, "data"),
    ("data-cf-calendar-unknown", lambda tmp: _obs(_ds({"units": "days since 2000-01-01", "calendar": "martian"}),
                                                  time_units="days"), DataError, "data"),
    ("data-datetimes-finer-than-ns", lambda tmp: _obs((np.arange(10).astype("M8[ps]"), Y), time_units="seconds"),
     DataError, "data"),
    ("data-datetimes-overflow-milliseconds", lambda tmp: _obs((np.array([0, 2**62], "M8[s]"), Y[:2]),
                                                              time_units="days"), DataError, "data"),
    ("data-datetimes-too-far-apart", lambda tmp: _obs((np.array([-2**62, 2**62], "M8[ms]"), Y[:2]),
                                                      time_units="days"), DataError, "data"),
    ("data-datetimes-closer-than-model-time", lambda tmp: _obs((np.array([0, 2**62, 2**62 + 1], "M8[ns]"), Y[:3]),
                                                               time_units="days"), DataError, "data"),
    ("cells-empty-time", lambda tmp: _cells(_grid(np.ones((0, 3)), np.zeros(0))), DataError, "data"),
    ("cells-ragged-mask", lambda tmp: _cells(_grid(), mask=[[True, True], [True]]), DataError, "mask"),
    ("cells-cf-units-bad-date", lambda tmp: _cells(_grid(time=np.arange(T.size) * 1.0,
                                                         time_attrs={"units": "days since nope"}), time_units="days"),
     DataError, "data"),
    ("cells-dask-infinite-values", lambda tmp: _cells(_grid(_inf_in_first_cell(), chunks={"x": 1})), DataError,
     "data"),
]
