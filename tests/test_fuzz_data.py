"""Fuzzed data (hypothesis): ``as_observations`` over every accepted form, dtype, NaN/inf pattern,
time kind, calendar, unit and order, and ``stack_cells`` over grids, dimension orders, masks and dask
chunkings (issue 19, item 3, data part).

Every example either gives the result a plain reference computes here (the values drawn, the model
times from integer ticks or an independent day count per calendar, the cells in C order of the
grid) or raises a :class:`PySciMLError` naming the argument; never another exception, never a
silent wrong answer, no warning other than ``DataWarning``. Regression tests for what the fuzzing
found are in ``tests/test_fuzz_data_found.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from fractions import Fraction

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the test extra")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

cftime = pytest.importorskip("cftime")
pd = pytest.importorskip("pandas")
xr = pytest.importorskip("xarray")
dask_array = pytest.importorskip("dask.array")

import pysciml as ps  # noqa: E402
from pysciml.cells.stack import stack_cells  # noqa: E402
from pysciml.data import DataWarning  # noqa: E402
from pysciml.errors import PySciMLError  # noqa: E402

CI = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
#: the long runs draw new random examples every time, so they run on request, not in every CI run
#: (a random failure must not decide whether a change lands): PYSCIML_FUZZ_LONG=1 pytest -m slow
LONG_RUN = pytest.mark.skipif(
    os.environ.get("PYSCIML_FUZZ_LONG") != "1",
    reason="long random fuzz run: set PYSCIML_FUZZ_LONG=1 (the derandomized CI-sized runs always run)",
)

NAMES = ("a", "b", "c")
#: seconds per model-time unit, and the mean year of each calendar in days (docs/data.md)
SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
YEAR_DAYS = {"standard": Fraction(3652425, 10000), "proleptic_gregorian": Fraction(3652425, 10000),
             "julian": Fraction(36525, 100), "noleap": 365, "all_leap": 366, "360_day": 360}
UNIT_ALIASES = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days", "yr": "years"}
TICK_SECONDS = {"D": Fraction(86400), "h": Fraction(3600), "m": Fraction(60), "s": Fraction(1),
                "ms": Fraction(1, 10**3), "us": Fraction(1, 10**6), "ns": Fraction(1, 10**9),
                "ps": Fraction(1, 10**12), "fs": Fraction(1, 10**15), "as": Fraction(1, 10**18)}
#: CF "<unit> since" strings xarray decodes (seconds per unit; months and common years only in their calendar)
CF_UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "months": 30 * 86400,
            "common_years": 365 * 86400}


# -- the harness ---------------------------------------------------------------------------------------
class Expect:
    """What a case must do: ``ok`` (the reference result), ``error`` (a PySciMLError naming one of
    ``arguments``) or, where both are right (times closer than float64 model time resolves), either."""

    def __init__(self, ok=None, arguments=("data",), may_fail=False):
        self.ok, self.arguments, self.may_fail = ok, tuple(arguments), may_fail


def run(call, expect: Expect):
    """Run ``call``; return its result or None after checking an error against ``expect``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call()
        except PySciMLError as exc:
            root = (exc.argument or "").split("[")[0]
            assert root in expect.arguments, (exc.argument, expect.arguments, str(exc))
            assert str(exc).startswith(exc.argument), str(exc)
            assert expect.ok is None or expect.may_fail, f"refused usable data: {exc}"
            hypothesis.event(f"refused, naming {root}: " + str(exc)[len(exc.argument) + 2 :][:40])
            return None
    odd = [w for w in caught if not issubclass(w.category, DataWarning)]
    assert not odd, [f"{w.category.__name__}: {w.message}" for w in odd]
    assert expect.ok is not None, "accepted data that must be refused"
    hypothesis.event("read")
    return out


def flag(draw, p_true: int = 5):
    """True about once in ``p_true`` draws (hypothesis still shrinks it to False)."""
    return draw(st.integers(1, p_true)) == 1


# -- numeric (t, y) data in every container --------------------------------------------------------------
Y_KINDS = ["float64"] * 3 + ["float32"] * 2 + ["int64", "int32", "uint8", "object", "object", "bool", "text",
                                                "object-text", "object-bool"]
REFUSED_Y = ("bool", "text", "object-text", "object-bool")  # numbers only: no text (even "1.5"), no booleans
T_KINDS = ["float64", "float32", "int64", "int32", "uint16", "object"]
FORMS = ["pair", "list-pair", "dict-y", "dict-columns", "frame-index", "frame-column", "series", "dataarray",
         "dataset"]
T_NAMES = ["time", "t", "date", "Time", "when"]  # "when" is no time name: time_dim= must say it


@st.composite
def numeric_cases(draw):
    n_s = draw(st.integers(1, 3))
    names = list(NAMES[:n_s])
    n_t = draw(st.sampled_from([0, 1] + [2, 3, 4, 5, 6, 7, 8] * 3))
    tk, yk = draw(st.sampled_from(T_KINDS)), draw(st.sampled_from(Y_KINDS))
    if tk in ("float64", "float32", "object"):
        t = np.array(draw(st.lists(st.floats(-1e6, 1e6, width=32 if tk == "float32" else 64), min_size=n_t,
                                   max_size=n_t, unique=True)), dtype=np.float64)
    else:
        info = np.iinfo(tk)
        t = np.array(draw(st.lists(st.integers(max(info.min, -10**9), min(info.max, 10**9)), min_size=n_t,
                                   max_size=n_t, unique=True)), dtype=np.float64)
    order = draw(st.sampled_from(["sorted", "sorted", "sorted", "drawn", "reversed"]))
    t = np.sort(t) if order == "sorted" else (np.sort(t)[::-1] if order == "reversed" else t)
    if n_t >= 2 and flag(draw, 8):
        t[-1] = t[0]  # a duplicated time
    if tk in ("float64", "float32", "object") and n_t and flag(draw, 8):
        t[draw(st.integers(0, n_t - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    t_given = t.astype(tk) if tk != "object" else np.array([float(v) for v in t], dtype=object)

    # values: NaN anywhere, whole rows or whole states missing, an inf now and then
    if yk in ("float64", "float32", "object", "text", "object-text"):
        y = np.array(draw(st.lists(st.one_of(*[st.floats(-1e6, 1e6, width=32)] * 3, st.just(np.nan)),
                                   min_size=n_t * n_s, max_size=n_t * n_s)), dtype=np.float64).reshape(n_t, n_s)
        if n_t and flag(draw, 4):
            y[draw(st.integers(0, n_t - 1))] = np.nan
        if n_t and flag(draw, 4):
            y[:, draw(st.integers(0, n_s - 1))] = np.nan
        if n_t and yk != "text" and flag(draw, 8):
            y[draw(st.integers(0, n_t - 1)), draw(st.integers(0, n_s - 1))] = draw(st.sampled_from([np.inf, -np.inf]))
    elif yk in ("bool", "object-bool"):
        y = np.array(draw(st.lists(st.booleans(), min_size=n_t * n_s, max_size=n_t * n_s)), dtype=float)
        y = y.reshape(n_t, n_s)
    else:
        info = np.iinfo(yk)
        y = np.array(draw(st.lists(st.integers(max(info.min, -10**6), min(info.max, 10**6)), min_size=n_t * n_s,
                                   max_size=n_t * n_s)), dtype=np.float64).reshape(n_t, n_s)
    if yk == "object":
        y_given = np.array([[None if np.isnan(v) else float(v) for v in row] for row in y], dtype=object)
        y_given = y_given.reshape(n_t, n_s)
    elif yk in ("text", "object-text"):
        y_given = y.astype(str).astype(object if yk == "object-text" else str)
    elif yk in ("bool", "object-bool"):
        y_given = y.astype(bool).astype(object if yk == "object-bool" else bool)
    else:
        y_given = y.astype(yk)
    y = y_given.astype(np.float64) if yk not in ("object", *REFUSED_Y) else y  # the values as the reader sees them

    form = draw(st.sampled_from(FORMS))
    if form == "series" and n_s != 1:
        form = "frame-index"
    tname = draw(st.sampled_from(T_NAMES))
    kw = {} if tname.lower() in ("time", "t", "date") else {"time_dim": tname}
    omitted = []
    if form == "dict-columns":
        omitted = [s for s in names[1:] if flag(draw, 3)]
        y[:, [names.index(s) for s in omitted]] = np.nan
    data, malformed = _numeric_container(draw, form, t_given, y_given, names, omitted, tname)
    if form in ("pair", "list-pair", "dict-y", "dict-columns"):
        kw = {}
    expect = Expect() if malformed else _numeric_expect(t, y, yk)
    if flag(draw, 4):  # a reference time: a number (also as text) is t = 0, anything else is refused
        ref = draw(st.one_of(st.floats(-1e6, 1e6), st.sampled_from([np.nan, np.inf, "xx", "12.5", None])))
        kw["reference_time"] = ref
        if ref is not None and expect.ok is not None:
            if isinstance(ref, str) and ref != "12.5" or not np.isfinite(float(ref)):
                expect = Expect(arguments=("reference_time",))
            else:
                t0, y0 = expect.ok
                shifted = t0 - float(ref)
                collide = np.unique(t - float(ref)).size < t.size  # distinct times, one model time
                expect = Expect(ok=(shifted, y0), may_fail=collide)
        elif ref is not None:
            expect = Expect(arguments=("data", "reference_time"))
    return data, names, kw, expect, form


def _numeric_container(draw, form, t, y, names, omitted, tname):
    """The data in ``form``, and whether it was made malformed (ragged rows, a state labelled twice)."""
    cols = {s: y[:, j] for j, s in enumerate(names) if s not in omitted}
    if form == "pair":
        return (t, y), False
    if form == "list-pair":
        rows = y.tolist()
        ragged = len(rows) > 1 and flag(draw, 8)
        if ragged:
            rows[-1] = rows[-1] + [1.0]
        return [t.tolist(), rows], ragged
    if form == "dict-y":
        return {"t": t, "y": y}, False
    if form == "dict-columns":
        return {draw(st.sampled_from(["t", "time"])): t, **cols}, False
    order = draw(st.permutations(names))
    if form in ("frame-index", "frame-column", "series"):
        df = pd.DataFrame({s: cols[s] for s in order}, index=pd.Index(t, name=tname))
        if flag(draw, 3):
            df["junk"] = 1.0
        if form == "series":
            return df[names[0]], False
        return (df.reset_index() if form == "frame-column" else df), False
    if form == "dataarray":
        twice = flag(draw, 6)
        labels = list(order) + (["junk"] if flag(draw, 3) else []) + ([names[0]] if twice else [])
        vals = np.stack([y[:, names.index(s) if s in names else 0] for s in labels], axis=1)  # keeps y's dtype
        sdim = draw(st.sampled_from(["state", "variable", "species"]))
        da = xr.DataArray(vals, dims=(tname, sdim), coords={tname: t, sdim: labels})
        return da.transpose(*draw(st.permutations([tname, sdim]))), twice
    ds = xr.Dataset({s: (tname, cols[s]) for s in order}, coords={tname: t})
    return (ds.assign(junk=(tname, np.zeros(len(t)))) if flag(draw, 3) else ds), False


def _numeric_expect(t, y, yk) -> Expect:
    bad = (
        yk in REFUSED_Y
        or t.size == 0
        or not np.all(np.isfinite(t))
        or np.isinf(y).any()
        or np.unique(t).size < t.size
        or np.any(np.diff(t) < 0)
    )
    keep = ~np.isnan(y).all(axis=1) if y.size else np.zeros(t.size, bool)
    if bad or keep.sum() < 2:
        return Expect()
    return Expect(ok=(t[keep], y[keep]))


def check_numeric(case):
    data, names, kw, expect, form = case
    obs = run(lambda: ps.as_observations(data, states=names, **kw), expect)
    if obs is None:
        return
    t_ref, y_ref = expect.ok
    (tr,) = obs.trajectories
    assert tr.state_names == tuple(names)
    np.testing.assert_array_equal(tr.t, t_ref, err_msg=form)
    np.testing.assert_array_equal(tr.y, y_ref, err_msg=form)
    assert obs.time.kind == "numeric"


@CI
@given(numeric_cases())
def test_numeric_data_in_every_form_is_read_exactly_or_refused(case):
    check_numeric(case)


@pytest.mark.slow
@LONG_RUN
@LONG
@given(numeric_cases())
def test_numeric_data_long_run(case):
    check_numeric(case)


# -- states named like time axes (t, time, date, y) -----------------------------------------------------
@st.composite
def name_clash_cases(draw):
    names = draw(st.lists(st.sampled_from(["t", "time", "date", "y", "a"]), min_size=1, max_size=3, unique=True))
    n_t = draw(st.integers(2, 5))
    t = np.sort(np.array(draw(st.lists(st.integers(-50, 50), min_size=n_t, max_size=n_t, unique=True)), float))
    y = np.array(draw(st.lists(st.integers(-50, 50), min_size=n_t * len(names), max_size=n_t * len(names))),
                 float).reshape(n_t, len(names))
    tkey = draw(st.sampled_from(["t", "time", "date"]))
    form = draw(st.sampled_from(["dict-columns", "dict-y", "frame-index", "frame-column", "dataset"]))
    cols = {s: y[:, j] for j, s in enumerate(names)}
    if form == "dict-columns":
        data = {tkey: t, **cols}
        data.update({tkey: t})  # the times win over a state of the same name in a dict literal
    elif form == "dict-y":
        data = {tkey: t, "y": y}
    elif form in ("frame-index", "frame-column"):
        df = pd.DataFrame(cols, index=pd.Index(t, name=tkey))
        data = df if form == "frame-index" or tkey in names else df.reset_index()
    else:
        data = xr.Dataset({s: ("obs", y[:, j]) for j, s in enumerate(names)}, coords={"obs": t})
    kw = {"time_dim": draw(st.sampled_from(["obs", None]))} if form == "dataset" else {}
    shadowed = form == "dict-columns" and tkey in names  # that state's column is the times
    return data, names, kw, t, y, shadowed


def check_name_clash(case):
    data, names, kw, t, y, shadowed = case
    obs = run(lambda: ps.as_observations(data, states=names, unobserved="ignore", **kw),
              Expect(ok=(t, y), may_fail=True, arguments=("data", "states", "time_dim")))
    if obs is None:
        return
    (tr,) = obs.trajectories
    np.testing.assert_array_equal(tr.t, t)
    for j, s in enumerate(names):  # every state is its own column, or (a dict key taken by the times) unobserved
        if shadowed and s in data and data[s] is t:
            continue
        np.testing.assert_array_equal(tr.y[:, j], y[:, j])


@CI
@given(name_clash_cases())
def test_states_named_like_time_axes_never_swap_times_and_values(case):
    check_name_clash(case)


@pytest.mark.slow
@LONG_RUN
@LONG
@given(name_clash_cases())
def test_states_named_like_time_axes_long_run(case):
    check_name_clash(case)


# -- calendar times: datetime64, timedelta64, cftime calendars, CF-encoded numbers -------------------------
def day_number(y: int, m: int, d: int, calendar: str) -> int:
    """Days since a fixed epoch, counted by hand per calendar (independent of cftime)."""
    if calendar == "360_day":
        return y * 360 + (m - 1) * 30 + (d - 1)
    if calendar in ("noleap", "all_leap"):
        leap = calendar == "all_leap"
        before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][m - 1] + (leap and m > 2)
        return y * (366 if leap else 365) + before + d - 1
    if calendar == "julian":
        before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][m - 1] + (y % 4 == 0 and m > 2)
        return 365 * (y - 1) + (y - 1) // 4 + before + d - 1
    return dt.date(y, m, d).toordinal()  # proleptic Gregorian (standard is drawn after 1582 only)


@st.composite
def cftime_dates(draw, calendar, n):
    lo = 1585 if calendar == "standard" else 1  # standard = Julian before 1582-10-15
    y0 = draw(st.integers(lo, 2500))
    fields = st.tuples(st.integers(0, 300), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
                       st.integers(0, 59), st.integers(0, 59), st.integers(0, 999_999))
    return [(y0 + f[0], *f[1:]) for f in draw(st.lists(fields, min_size=n, max_size=n, unique=True))]


@st.composite
def calendar_cases(draw):
    n_t = draw(st.integers(2, 7))
    kind = draw(st.sampled_from(["datetime64", "timedelta64", "cftime", "cf-encoded"]))
    units_given = draw(st.sampled_from(["seconds", "minutes", "hours", "days", "years", "s", "min", "h", "d", "yr",
                                        None, "fortnights"]))
    calendar = draw(st.sampled_from(list(YEAR_DAYS)))
    form = draw(st.sampled_from(["pair", "frame", "dataset"]))
    extreme = False
    if kind in ("datetime64", "timedelta64"):
        unit = draw(st.sampled_from(list(TICK_SECONDS)))
        span = min(int(Fraction(200 * 365 * 86400) / TICK_SECONDS[unit]), 2**62)  # +-200 years where int64 holds it
        extreme = kind == "datetime64" and flag(draw, 10)
        bound = 2**63 - 1 if extreme else span
        ticks = draw(st.lists(st.integers(-bound + 1, bound), min_size=n_t, max_size=n_t, unique=True))
        # pysciml counts calendar times in ns at the finest: finer ones must be whole ns, or are refused
        extreme = extreme or any(Fraction(k) * TICK_SECONDS[unit] * 10**9 % 1 for k in ticks)
        seconds = [Fraction(k) * TICK_SECONDS[unit] for k in ticks]
        t = np.array(ticks, dtype=np.int64).astype(f"{'M' if kind == 'datetime64' else 'm'}8[{unit}]")
        calendar = "proleptic_gregorian" if kind == "datetime64" else None
        if extreme or unit not in ("s", "ms", "us", "ns"):
            form = "pair"  # pandas and xarray hold s/ms/us/ns only
    elif kind == "cftime":
        fields = draw(cftime_dates(calendar, n_t))
        seconds = [day_number(*f[:3], calendar) * 86400 + f[3] * 3600 + f[4] * 60 + f[5] + Fraction(f[6], 10**6)
                   for f in fields]
        t = np.array([cftime.datetime(*f, calendar=calendar) for f in fields], dtype=object)
    else:  # numbers with CF units, decoded by xarray; some units or calendars it cannot decode
        form = "dataset"
        unit = draw(st.sampled_from(list(CF_UNITS)))
        since = draw(st.sampled_from(["2000-01-01"] * 4 + ["garbage"]))
        calendar = draw(st.sampled_from(list(YEAR_DAYS) + ["martian"]))
        nums = draw(st.lists(st.integers(0, 10**5), min_size=n_t, max_size=n_t, unique=True))
        huge = flag(draw, 10)
        seconds = [Fraction(v * CF_UNITS[unit]) for v in nums]
        t = np.array(nums, dtype=np.float64) * (1e300 if huge else 1.0)
        undecodable = (since == "garbage" or calendar == "martian" or huge
                       or (unit == "months" and calendar != "360_day")
                       or (unit == "common_years" and calendar != "noleap"))
        unit = f"{unit} since {since}"
    order = draw(st.sampled_from(["sorted", "sorted", "sorted", "drawn"]))
    perm = np.argsort([float(s) for s in seconds], kind="stable") if order == "sorted" else np.arange(n_t)
    t, seconds = t[perm], [seconds[i] for i in perm]
    if flag(draw, 8):
        t[-1], seconds[-1] = t[0], seconds[0]
    ref = None
    if kind in ("cftime", "datetime64") and not extreme and flag(draw, 3):
        back = draw(st.integers(0, 400))
        first = t[int(np.argmin([float(s) for s in seconds]))]
        if kind == "cftime":
            r = first - dt.timedelta(days=back)
            ref = f"{r.year:04d}-{r.month:02d}-{r.day:02d}"
            ref_seconds = day_number(r.year, r.month, r.day, calendar) * 86400
        else:
            r = pd.Timestamp(first) - pd.Timedelta(days=back)
            ref = r.strftime("%Y-%m-%d")
            ref_seconds = Fraction(pd.Timestamp(ref).value, 10**9)
    nat = kind in ("datetime64", "timedelta64") and flag(draw, 10)
    if nat:
        t[draw(st.integers(0, n_t - 1))] = np.datetime64("NaT") if kind == "datetime64" else np.timedelta64("NaT")
    y = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n_t, max_size=n_t)))
    if kind == "timedelta64":
        ref_seconds = Fraction(0)
    elif ref is None:
        ref_seconds = min(seconds)
    data = _calendar_container(form, t, y, kind, calendar, unit if kind == "cf-encoded" else None)
    kw = {"time_units": units_given} if units_given is not None else {}
    if ref is not None:
        kw["reference_time"] = ref
    expect = _calendar_expect(kind, units_given, calendar, seconds, ref_seconds, nat, y, extreme)
    if kind == "cf-encoded" and undecodable:
        expect = Expect(arguments=("data", "time_units"))
    return data, kw, expect, kind


def _calendar_container(form, t, y, kind, calendar, unit):
    if form == "pair":
        return (t, y)
    if form == "frame":
        index = xr.CFTimeIndex(t) if kind == "cftime" else pd.Index(t)
        return pd.DataFrame({"a": y}, index=index.rename("time"))
    if kind == "cf-encoded":
        coord = xr.Variable("time", t, {"units": unit, "calendar": calendar})
        return xr.Dataset({"a": ("time", y)}, coords={"time": coord})
    return xr.Dataset({"a": ("time", y)}, coords={"time": t})


def _calendar_expect(kind, units_given, calendar, seconds, ref_seconds, nat, y, extreme) -> Expect:
    units = UNIT_ALIASES.get(units_given, units_given)
    if units is None or units == "fortnights":
        return Expect(arguments=("time_units", "data") if nat else ("time_units",))
    if nat or len(set(seconds)) < len(seconds) or any(b < a for a, b in zip(seconds, seconds[1:])):
        return Expect()
    spu = SECONDS.get(units) or 86400 * YEAR_DAYS.get(calendar or "proleptic_gregorian", 365)
    t_ref = np.array([float((s - ref_seconds) / spu) for s in seconds])
    # distinct instants closer than float64 model time resolves may be refused (said, never merged)
    close = np.unique(t_ref).size < t_ref.size
    return Expect(ok=(t_ref, y), may_fail=close or extreme, arguments=("data", "reference_time"))


def check_calendar(case):
    data, kw, expect, kind = case
    obs = run(lambda: ps.as_observations(data, states=["a"], **kw), expect)
    if obs is None:
        return
    t_ref, y_ref = expect.ok
    (tr,) = obs.trajectories
    np.testing.assert_allclose(tr.t, t_ref, rtol=1e-12, atol=1e-12 * np.abs(t_ref).max(), err_msg=kind)
    np.testing.assert_array_equal(tr.y[:, 0], y_ref)


@CI
@given(calendar_cases())
def test_calendar_times_convert_like_a_hand_count_or_are_refused(case):
    check_calendar(case)


@pytest.mark.slow
@LONG_RUN
@LONG
@given(calendar_cases())
def test_calendar_times_long_run(case):
    check_calendar(case)


# -- trajectories along a dimension, in any dimension order and label order ------------------------------
@st.composite
def trajectory_cases(draw):
    n_r, n_t, n_s = draw(st.integers(1, 3)), draw(st.integers(2, 5)), draw(st.integers(1, 3))
    names = list(NAMES[:n_s])
    rname = draw(st.sampled_from(["trajectory", "traj", "run", "member"]))
    tname, sname = draw(st.sampled_from(["time", "t"])), draw(st.sampled_from(["state", "variable"]))
    labels = draw(st.permutations(names))
    y = np.array(draw(st.lists(st.one_of(st.floats(-1e3, 1e3), st.just(np.nan)), min_size=n_r * n_t * n_s,
                               max_size=n_r * n_t * n_s))).reshape(n_r, n_t, n_s)  # (run, time, state in `names`)
    vals = np.stack([y[:, :, names.index(s)] for s in labels], axis=-1)
    runs = draw(st.lists(st.sampled_from(["x", "y", "z", "w"]), min_size=n_r, max_size=n_r))
    da = xr.DataArray(vals, dims=(rname, tname, sname),
                      coords={rname: runs, tname: np.arange(n_t) * 0.5, sname: labels})
    da = da.transpose(*draw(st.permutations([rname, tname, sname])))
    kw = {} if rname in ("trajectory", "traj") and flag(draw, 2) else {"trajectory_dim": rname}
    keep = ~np.isnan(y).all(axis=2)
    ok = keep.sum(axis=1).min() >= 2
    return da, names, kw, runs, Expect(ok=y if ok else None)


def check_trajectories(case):
    da, names, kw, runs, expect = case
    obs = run(lambda: ps.as_observations(da, states=names, unobserved="ignore", **kw), expect)
    if obs is None:
        return
    y = expect.ok
    assert len(obs.trajectories) == len(runs)
    t = np.arange(y.shape[1]) * 0.5
    for i, tr in enumerate(obs.trajectories):
        keep = ~np.isnan(y[i]).all(axis=1)
        assert tr.name.split("#")[0] == runs[i]
        np.testing.assert_array_equal(tr.t, t[keep])
        np.testing.assert_array_equal(tr.y, y[i][keep])
    assert len({tr.name for tr in obs.trajectories}) == len(runs)  # repeated labels get distinct names


@CI
@given(trajectory_cases())
def test_trajectories_match_by_label_in_any_dimension_order(case):
    check_trajectories(case)


@pytest.mark.slow
@LONG_RUN
@LONG
@given(trajectory_cases())
def test_trajectories_long_run(case):
    check_trajectories(case)


# -- gridded data: stack_cells over grids, dimension orders, dtypes, masks, dask chunkings ----------------
GRID_DIMS = ["lat", "lon", "x", "member", "z"]
V_KINDS = ["float64"] * 4 + ["float32"] * 2 + ["int64", "int16", "bool", "object"]


@st.composite
def grid_cases(draw):
    n_t = draw(st.sampled_from([0] + [1, 2, 3, 4, 5] * 3))
    grid = draw(st.lists(st.sampled_from(GRID_DIMS), max_size=3, unique=True))
    sizes = {d: draw(st.integers(0 if flag(draw, 10) else 1, 4)) for d in grid}
    tname = draw(st.sampled_from(["time", "t", "when"]))
    kw = {} if tname != "when" else {"time_dim": "when"}
    n_s = draw(st.integers(1, 2))
    names = list(NAMES[:n_s])
    vk = draw(st.sampled_from(V_KINDS))
    dims0 = draw(st.permutations([*grid, tname]))
    shape0 = tuple(sizes.get(d, n_t) for d in dims0)
    size = int(np.prod(shape0, dtype=int))
    raw = []
    for _ in names:  # values over dims0
        v = np.array(draw(st.lists(st.one_of(st.floats(-1e3, 1e3), st.just(np.nan)) if vk[0] == "f"
                                   else st.integers(-100, 100), min_size=size, max_size=size)), dtype=np.float64)
        raw.append(v.reshape(shape0))
    inf = vk[0] == "f" and size and flag(draw, 8)
    if inf:
        raw[0].reshape(-1)[draw(st.integers(0, size - 1))] = np.inf
    t = np.arange(n_t, dtype=np.float64) * draw(st.sampled_from([1.0, 0.25, 3.0])) + draw(st.integers(-5, 5))
    order = draw(st.sampled_from(["sorted"] * 5 + ["duplicated", "reversed", "nan"]))
    if n_t >= 2 and order == "duplicated":
        t[-1] = t[0]
    elif n_t >= 2 and order == "reversed":
        t = t[::-1].copy()
    elif n_t >= 1 and order == "nan":
        t[-1] = np.nan
    coords = {tname: t} | {d: np.arange(sizes[d]) * 10.0 for d in grid if flag(draw, 2)}
    cf = draw(st.sampled_from(["none"] * 6 + ["days since 2000-01-01", "days since nope"]))
    if cf != "none":  # numbers with CF units: decoded, then counted in days from the earliest
        coords[tname] = xr.Variable(tname, t, {"units": cf})
        kw["time_units"] = "days"

    def cast(v):
        return v.astype(bool) if vk == "bool" else (v.astype(object) if vk == "object" else v.astype(vk))

    if vk not in ("bool", "object"):
        raw = [cast(r).astype(np.float64) for r in raw]  # the values as stored (float32 rounds)

    form = draw(st.sampled_from(["dataarray", "dataset", "state-dim"] if n_s > 1 else ["dataarray", "dataset"]))
    if form == "dataarray":
        data = xr.DataArray(cast(raw[0]), dims=dims0, coords=coords, name=names[0] if flag(draw, 2) else None)
        names, raw = names[:1], raw[:1]
    elif form == "dataset":  # the second variable in its own dimension order
        dims1 = draw(st.permutations(dims0))
        data = xr.Dataset({s: (dims0 if j == 0 else dims1, cast(np.transpose(r, [dims0.index(d) for d in dims1])
                                                                 if j else r))
                           for j, (s, r) in enumerate(zip(names, raw))}, coords=coords)
    else:
        sdim = "state"
        pos = draw(st.integers(0, len(dims0)))
        dims_s = [*dims0[:pos], sdim, *dims0[pos:]]
        data = xr.DataArray(cast(np.stack(raw, axis=pos)), dims=dims_s, coords={**coords, sdim: names})
    chunked = flag(draw, 2) and all(n > 0 for n in data.sizes.values())
    if chunked:
        data = data.chunk({d: draw(st.integers(1, max(1, n))) for d, n in data.sizes.items()})
    mask, cell_mask = None, None
    grid_shape = tuple(sizes[d] for d in dims0 if d != tname)
    mform = draw(st.sampled_from(["none", "none", "numpy", "dataarray", "wrong", "ragged"]))
    if mform != "none":
        m = np.array(draw(st.lists(st.booleans(), min_size=int(np.prod(grid_shape, dtype=int)),
                                   max_size=int(np.prod(grid_shape, dtype=int)))), dtype=bool).reshape(grid_shape)
        gdims = [d for d in dims0 if d != tname]
        if mform == "numpy":
            mask, cell_mask = m, m.reshape(-1)
        elif mform == "dataarray":
            perm = draw(st.permutations(range(len(gdims))))
            mc = {d: coords[d] for d in gdims if d in coords}
            mask = xr.DataArray(m, dims=gdims, coords=mc).transpose(*[gdims[i] for i in perm])
            cell_mask = m.reshape(-1)
        else:
            mask = (np.ones(tuple(n + 1 for n in grid_shape) or (2,), bool) if mform == "wrong"
                    else [[True] * 2, [True]])
    expect = _grid_expect(vk, n_t, t, inf, chunked, mform, raw, dims0, tname, cell_mask)
    if cf == "days since nope" and n_t and vk not in ("bool", "object"):
        expect = Expect()
    elif cf != "none" and expect.ok is not None:
        expect.ok = (t - t.min(), *expect.ok[1:])
    return data, names, kw, mask, expect, chunked


def _grid_expect(vk, n_t, t, inf, chunked, mform, raw, dims0, tname, cell_mask) -> Expect:
    if vk in ("bool", "object") or n_t == 0 or not np.all(np.isfinite(t)) or np.unique(t).size < t.size:
        return Expect()
    if np.any(np.diff(t) < 0) or (inf and not chunked):
        return Expect()
    if mform in ("wrong", "ragged"):
        return Expect(arguments=("mask",))
    ti = dims0.index(tname)
    cells = [np.moveaxis(r, ti, -1).reshape(-1, n_t) for r in raw]  # C order over the grid dims, then time
    ref = np.stack(cells, axis=-1)
    grid_dims = tuple(d for d in dims0 if d != tname)
    return Expect(ok=(t, ref, grid_dims, cell_mask, inf))


def check_grid(case):
    data, names, kw, mask, expect, chunked = case
    stack = run(lambda: stack_cells(data, states=names, mask=mask, **kw), expect)
    if stack is None:
        return
    t, ref, grid_dims, cell_mask, inf = expect.ok
    assert stack.grid_dims == grid_dims and stack.is_lazy == chunked
    np.testing.assert_array_equal(stack.t, t)
    if inf:  # dask input: the DataError comes when the values are computed
        with pytest.raises(PySciMLError) as info:
            stack.values.compute()
        assert info.value.argument == "data"
        return
    values = np.asarray(stack.values.compute() if chunked else stack.values)
    np.testing.assert_array_equal(values, ref)
    np.testing.assert_array_equal(np.asarray(stack.mask), ~np.isnan(ref))
    np.testing.assert_array_equal(stack.cell_mask, np.ones(ref.shape[0], bool) if cell_mask is None else cell_mask)
    for j, s in enumerate(names):  # the source hands each cell's whole series to apply_ufunc
        src = stack.source[s].transpose(*grid_dims, stack.time.name).values.reshape(ref.shape[:2])
        np.testing.assert_array_equal(src, ref[:, :, j])


@CI
@given(grid_cases())
def test_gridded_data_stacks_cells_in_c_order_or_is_refused(case):
    check_grid(case)


@pytest.mark.slow
@LONG_RUN
@LONG
@given(grid_cases())
def test_gridded_data_long_run(case):
    check_grid(case)
