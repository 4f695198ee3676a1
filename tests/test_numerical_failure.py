"""Numerical failure is a status with advice, never an exception or a silent NaN.

Finite-time blow-up (u' = a u^2 reaches infinity at t = 1/(a u0)), NaN from a network,
and an exhausted step budget on a stiff problem — in a single solve, inside a fit
(rejected steps recorded, best parameters kept), and in a few cells of a gridded fit
(those cells get a failure status; every other cell's result is identical to a fit
without the bad cells).
"""

from __future__ import annotations

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import SolverFailure

FAILED = {ps.Status.MAX_STEPS, ps.Status.STEP_SIZE_UNDERFLOW, ps.Status.NONFINITE}


def _quadratic(u, p, t, m):
    """u' = a u^2: u(t) = u0 / (1 - a u0 t), infinite at t = 1 / (a u0)."""
    return p.a * u**2


def _sqrt_network(u, p, t, m):
    """u' = -1 while a network reads sqrt(u): NaN as soon as u < 0, i.e. after t = u0."""
    return [-1.0 + 0.0 * p.nn(m.sqrt(u))[0]]


def _network_only(u, p, t, m):
    return [p.nn(u)[0]]


def _rober(u, p, t, m):
    y1, y2, y3 = u
    return [-0.04 * y1 + 1e4 * y2 * y3, 0.04 * y1 - 1e4 * y2 * y3 - 3e7 * y2**2, 3e7 * y2**2]


QUAD = ps.ODEModel(_quadratic, ["u"], {"a": 1.0})


# -- a single solve ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver, expected", [(ps.Rodas5P(), ps.Status.STEP_SIZE_UNDERFLOW),
                                              (ps.Tsit5(), ps.Status.MAX_STEPS)], ids=["Rodas5P", "Tsit5"])
def test_finite_time_blow_up_is_a_status_with_advice(solver, expected, jax_engine):
    ts = np.linspace(0.0, 2.0, 41)
    sol = ps.solve(QUAD, [1.0], (0.0, 2.0), saveat=ts, solver=solver, max_steps=3000, rtol=1e-8, atol=1e-10)
    assert sol.status is expected
    assert expected.advice in sol.message and "t = 1" in sol.message
    assert sol.stats["t_end"] == pytest.approx(1.0, abs=0.03)  # stopped at the singularity
    before = ts < 0.975
    np.testing.assert_allclose(sol.u[before, 0], 1.0 / (1.0 - ts[before]), rtol=1e-5)  # exact up to there
    assert np.all(np.isnan(sol.u[ts > 1.0]))  # nothing made up past it
    with pytest.raises(SolverFailure) as info:  # only when asked for
        ps.solve(QUAD, [1.0], (0.0, 2.0), saveat=ts, solver=solver, max_steps=3000, rtol=1e-8, atol=1e-10,
                 raise_on_failure=True)
    assert info.value.solution.status is expected


def test_nan_from_a_network_is_nonfinite(jax_engine):
    model = ps.UDE(_sqrt_network, ["u"], {}, networks={"nn": ps.MLP(1, 1, width=4, depth=1)})
    sol = ps.solve(model, [1.0], (0.0, 2.0), saveat=np.linspace(0, 2, 21), solver=ps.Rodas5P())
    assert sol.status is ps.Status.NONFINITE and ps.Status.NONFINITE.advice in sol.message
    assert sol.stats["t_end"] == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(sol.u[:10, 0], 1.0 - np.linspace(0, 2, 21)[:10], atol=1e-9)
    # NaN weights (e.g. from a diverged training) make the vector field NaN from the start
    nan_model = ps.UDE(_network_only, ["u"], {}, networks={"nn": ps.MLP(1, 1, width=4, depth=1)})
    w = nan_model.init_networks(0)["nn"].copy()
    w[0] = np.nan
    for solver in (ps.Tsit5(), ps.Rodas5P()):
        sol = ps.solve(nan_model, [1.0], (0.0, 1.0), params={"nn": w}, solver=solver)
        assert sol.status is ps.Status.NONFINITE, solver
        assert sol.stats["t_end"] == 0.0


def test_step_budget_on_a_stiff_problem_advises_a_stiff_solver(jax_engine):
    model = ps.ODEModel(_rober, ["y1", "y2", "y3"], {})
    sol = ps.solve(model, [1.0, 0.0, 0.0], (0.0, 100.0), solver=ps.Tsit5(), max_steps=200)
    assert sol.status is ps.Status.MAX_STEPS and "ps.Rodas5P()" in sol.message
    assert sol.stats["steps"] <= 200 and sol.stats["t_end"] < 100.0
    fixed = ps.solve(model, [1.0, 0.0, 0.0], (0.0, 100.0), solver=ps.Rodas5P(), max_steps=200)
    assert fixed.status is ps.Status.SUCCESS  # the advice works
    np.testing.assert_allclose(fixed.u[-1].sum(), 1.0, rtol=1e-8)  # mass is conserved


# -- inside a fit -------------------------------------------------------------------------------------------
T_FIT = np.linspace(0.0, 2.0, 15)
Y_FIT = 1.0 / (1.0 - 0.4 * T_FIT)  # a = 0.4: blows up at t = 2.5, just past the data


def test_blow_up_during_a_fit_is_rejected_recorded_and_survived(jax_engine):
    # from a = 0.2 the first Adam step lands near a = 0.55, where the solution blows up at
    # t = 1.8 < 2: that step is rejected, the learning rate halved, training goes on
    model = ps.ODEModel(_quadratic, ["u"], {"a": 0.2})
    model.fit((T_FIT, Y_FIT), u0=[1.0], strategy=ps.SingleShooting(), solver=ps.Tsit5(), max_steps=2000,
              optimizers=[ps.Adam(0.35, steps=100, clip=None, schedule="constant")], verbose=0)
    rejected = [e["step"] for e in model.events_ if e["kind"] == "rejected-step"]
    assert rejected, model.events_
    h = model.loss_history_
    assert np.isnan(h[rejected]).all() and np.isfinite(np.delete(h, rejected)).all()
    assert model.status_ is ps.Status.SUCCESS and f"{len(rejected)} rejected steps" in model.message_
    assert model.loss_ == pytest.approx(np.nanmin(h), rel=1e-9)  # the best parameters seen are kept
    assert model.params_["a"] == pytest.approx(0.4, rel=0.02)


def test_a_fit_that_cannot_solve_ends_with_a_status_and_keeps_its_start(jax_engine):
    model = ps.ODEModel(_quadratic, ["u"], {"a": 1.0})  # blows up at t = 1, inside the data
    model.fit((T_FIT, Y_FIT), u0=[1.0], strategy=ps.SingleShooting(), solver=ps.Tsit5(), max_steps=500,
              optimizers=[ps.Adam(0.1, steps=50)], verbose=0)
    assert model.status_ is ps.Status.FAILED
    assert "ps.Rodas5P()" in model.message_ and "cannot be solved" in model.message_
    assert model.params_["a"] == 1.0  # no step was accepted: the start is returned unchanged
    assert np.isnan(model.loss_history_).all() and len(model.loss_history_) == 50
    assert any(e["kind"] == "phase-failed" for e in model.events_)


# -- in a few cells of a gridded fit --------------------------------------------------------------------------
def _relax_quadratic(u, p, t, m):
    """dT/dt = -lam T + forcing + c T^2: stable for small T, blows up from T0 > lam / c."""
    return -p.lam * u + p.forcing + p.c * u**2


def test_failing_cells_leave_every_other_cell_exactly_as_without_them(jax_engine):
    xr = pytest.importorskip("xarray")
    from helpers.gridded_data import gridded

    from pysciml.training.optimizers import LevenbergMarquardt

    model = ps.ODEModel(_relax_quadratic, ["sst"], {"lam": ps.Param(0.05, bounds=(0, None)), "forcing": 0.0,
                                                    "c": ps.Param(1e-3, fixed=True)}, time_units="days")
    da, ocean, _ = gridded(ny=3, nx=4, nt=10, land=False)
    da = da.copy()
    da[:, 0, 1] = 1000.0 + da[:, 0, 1]  # T0 ~ 1000: the solution blows up after about one day
    start = xr.full_like(ocean, 0.05, dtype=float)
    start[2, 3] = 1e4  # a stiff start: Tsit5 runs out of steps in this cell
    bad = np.zeros(ocean.shape, bool)
    bad[0, 1] = bad[2, 3] = True
    opts = dict(params={"lam": start}, solver=ps.Tsit5(), max_steps=300, verbose=0,
                optimizers=[ps.Adam(2e-2, steps=50), LevenbergMarquardt(steps=20)])
    res = da.sciml.fit(model, **opts)
    without = da.sciml.fit(model, mask=ocean.copy(data=~bad), **opts)

    st = res["status"].values
    assert set(st[bad]) <= {int(s) for s in FAILED} and np.all(st[~bad] == int(ps.Status.SUCCESS))
    assert res.attrs["cells_failed"] == 2 and res.attrs["cells_success"] == 10
    assert all(ps.Status(int(s)).advice in res["status"].attrs["comment"] for s in st[bad])
    assert np.all(np.isnan(res["loss"].values[bad])) and np.all(res["rejected_steps"].values[bad] > 0)
    np.testing.assert_allclose(res["lam"].values[bad], start.values[bad], rtol=1e-12)  # their start (bounds' round trip)
    assert np.all(without["status"].values[bad] == int(ps.Status.SKIPPED))
    for name in ("lam", "forcing", "u0_sst", "loss", "rmse_sst", "rejected_steps", "status"):
        np.testing.assert_array_equal(res[name].values[..., ~bad], without[name].values[..., ~bad], err_msg=name)
