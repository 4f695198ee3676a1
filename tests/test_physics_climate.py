"""physics.EnergyBalance1D and TwoBox: climlab agreement (insolation, annual-mean and seasonal
equilibria, the snowball fold), the exact Legendre steady state (second order in space), exact
global-mean response, gradients against finite differences and exact values, the hysteresis loop
in the solar constant, and the two-box model against its exact (matrix-exponential) solution."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
import scipy.linalg  # noqa: E402

from pysciml import physics as phys  # noqa: E402
from pysciml.physics.climate import annual_mean_insolation, daily_insolation  # noqa: E402
from pysciml.physics.climate.energy_balance import SECONDS_PER_YEAR  # noqa: E402


def _climlab():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns about its Fortran radiation modules (unused here)
        return pytest.importorskip("climlab", reason="climlab (test extra) is the reference EBM")


def _climlab_state(m):
    """Global mean (cos-weighted, climlab's) and ice edges of a climlab model."""
    climlab = _climlab()
    return float(climlab.global_mean(m.Ts)), np.asarray(m.icelat, dtype=float), np.squeeze(np.asarray(m.Ts))


@pytest.fixture(scope="module")
def ebm():
    return phys.EnergyBalance1D()  # climlab.EBM() defaults


@pytest.fixture(scope="module")
def equilibrium(ebm):
    return ebm.equilibrium()


# -- insolation ----------------------------------------------------------------------------------
def test_insolation_matches_climlab():
    climlab = _climlab()
    from climlab.solar.insolation import daily_insolation as climlab_daily

    lat = np.linspace(-89.0, 89.0, 90)
    days = np.array([0.0, 80.0, 172.0, 264.5, 355.0])
    ours = daily_insolation(lat[:, None], days[None, :], 1365.2)
    ref = np.asarray(climlab_daily(lat, days))
    assert np.abs(ours - ref).max() < 1e-9
    m = climlab.EBM_annual(ai=0.62)
    ref_annual = np.squeeze(np.asarray(m.subprocess["insolation"].insolation))
    assert np.abs(annual_mean_insolation(lat, 1365.2) - ref_annual).max() < 1e-9
    # negative control: another obliquity moves the annual mean by watts
    tilted = annual_mean_insolation(lat, 1365.2, phys.Orbit(obliquity=22.0))
    assert np.abs(tilted - ref_annual).max() > 1.0


# -- climlab equilibria ----------------------------------------------------------------------------
def test_equilibrium_matches_climlab_ebm(ebm, equilibrium):
    climlab = _climlab()
    m = climlab.EBM()
    m.integrate_years(15.0, verbose=False)
    ref_mean, ref_ice, ref_T = _climlab_state(m)
    assert equilibrium.attrs["converged"] == 1
    assert abs(float(equilibrium.global_mean) - ref_mean) < 0.1  # the bar; measured 4e-9 K
    assert abs(float(equilibrium.global_mean) - ref_mean) < 1e-4
    assert abs(float(equilibrium.ice_edge_north) - ref_ice[1]) <= 1.0
    assert abs(float(equilibrium.ice_edge_south) - ref_ice[0]) <= 1.0
    assert np.abs(equilibrium.temperature.values - ref_T).max() < 1e-4
    # units and coordinates
    assert equilibrium.temperature.attrs["units"] == "degC"
    assert equilibrium["lat"].attrs["units"] == "degrees_north"
    np.testing.assert_allclose(equilibrium["lat"].values, np.squeeze(m.lat))


def test_another_self_consistent_equilibrium_is_not_climlabs(ebm, equilibrium):
    """Negative control: the discrete model has several equilibria (ice edge 70 ... 84 degrees);
    the 76-degree one is self-consistent but 0.8 K warmer, so the 0.1 K test can tell them apart."""
    start = np.where(np.abs(ebm.lat) > 76, -20.0, 10.0)
    T, ok = ebm.steady_state(start)
    assert ok
    assert ebm.ice_edges(T) == (-76.0, 76.0)
    assert np.array_equal(T < ebm.Tf, start < ebm.Tf)  # the same ice cells: self-consistent
    assert ebm.global_mean(T) - float(equilibrium.global_mean) > 0.5


def test_annual_mean_orbital_matches_climlab_ebm_annual():
    climlab = _climlab()
    m = climlab.EBM_annual(ai=0.62)
    m.integrate_years(4.0, verbose=False)  # ~1 s a model year; within 2e-4 K of its 15-year state
    ref_mean, ref_ice, ref_T = _climlab_state(m)
    ours = phys.EnergyBalance1D(insolation="orbital", a0=0.33, a2=0.25, ai=0.62).equilibrium()
    assert abs(float(ours.global_mean) - ref_mean) < 0.005
    assert np.abs(ours.temperature.values - ref_T).max() < 0.01
    assert abs(float(ours.ice_edge_north) - ref_ice[1]) <= 1.0
    assert abs(float(ours.ice_edge_south) - ref_ice[0]) <= 1.0


def test_no_ice_annual_model_is_the_time_mean_of_climlab_seasonal_model():
    """Without the ice-albedo feedback the model is linear, so the time mean of the periodic
    seasonal cycle is the equilibrium under the annual-mean insolation (climlab's EBM_seasonal())."""
    climlab = _climlab()
    m = climlab.EBM_seasonal()
    m.integrate_years(10.0, verbose=False)
    m.integrate_years(1.0, verbose=False)
    ref_T = np.squeeze(np.asarray(m.timeave["Ts"]))
    ours = phys.EnergyBalance1D(insolation="orbital", a0=0.33, a2=0.25, ai=None).equilibrium()
    assert abs(float(ours.global_mean) - float(climlab.global_mean(m.timeave["Ts"]))) < 0.005
    assert np.abs(ours.temperature.values - ref_T).max() < 0.01


def test_seasonal_cycle_matches_climlab_ebm_seasonal():
    """Daily insolation with the ice-albedo feedback: the annual-mean global temperature of the
    periodic cycle agrees with climlab's EBM_seasonal(ai=0.62) within 0.1 K (climlab steps the
    radiation by forward Euler 90 times a year; we integrate the continuous-time model)."""
    climlab = _climlab()
    m = climlab.EBM_seasonal(ai=0.62)
    m.integrate_years(6.0, verbose=False)
    m.integrate_years(1.0, verbose=False)
    ref = float(climlab.global_mean(m.timeave["Ts"]))
    ebm = phys.EnergyBalance1D(insolation="orbital", seasonal=True, a0=0.33, a2=0.25, ai=0.62)
    cycle = ebm.equilibrium(years=6)
    assert cycle.attrs["converged"] == 1
    assert abs(cycle.attrs["annual_global_mean"] - ref) < 0.1
    assert cycle.temperature.dims == ("time", "lat")
    # the edges move with the seasons: each hemisphere's cap is largest in its winter
    north = cycle.ice_edge_north.values
    assert north.max() - north.min() >= 10.0


# -- exact solutions -------------------------------------------------------------------------------
def test_steady_state_converges_to_legendre_solution_at_second_order():
    """With a P2 insolation and a uniform albedo, T = T0 + T2 P2(sin lat) exactly, with
    T2 = Q (1 - a0) s2 / (B + 6 D): P2 is an eigenfunction of the diffusion operator."""
    errors = []
    for n in (18, 36, 72):
        e = phys.EnergyBalance1D(n_lat=n, a2=0.0, ai=None)
        T, ok = e.steady_state(e.initial_state())
        assert ok
        Q, x = e.S0 / 4, np.sin(np.deg2rad(e.lat))
        exact = (Q * (1 - e.a0) - e.A) / e.B + Q * (1 - e.a0) * e.s2 / (e.B + 6 * e.diffusivity) * (1.5 * x * x - 0.5)
        errors.append(np.abs(T - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 1.9) & (orders < 2.1)), orders


def test_global_mean_relaxes_exactly_after_a_change_in_A(ebm, equilibrium):
    """Diffusion integrates to zero, so with the ice cells fixed the global mean obeys
    C dTm/dt = <(1 - alpha) S> - A - B Tm: after A -> A + dA it relaxes as dA/B (1 - exp(-t/tau))."""
    t = np.array([0.0, 0.25, 0.5, 1.0, 2.0, 4.0])
    dA = 0.5
    sol = ebm.trajectory(t, equilibrium.temperature.values, params={"A": ebm.A + dA}, rtol=1e-10, atol=1e-10)
    rate = SECONDS_PER_YEAR / ebm.heat_capacity * ebm.B
    exact = float(equilibrium.global_mean) - dA / ebm.B * (1.0 - np.exp(-rate * t))
    assert np.abs(ebm.global_mean(sol.u) - exact).max() < 1e-7
    assert all(ebm.ice_edges(u) == (-70.0, 70.0) for u in sol.u)


# -- gradients -------------------------------------------------------------------------------------
def test_gradient_of_global_mean_wrt_A_is_exact(ebm, equilibrium):
    T_eq = equilibrium.temperature.values
    w = jnp.asarray(ebm.weights)

    def mean_at(A, t=2.0):
        return ebm.trajectory(np.array([0.0, t]), T_eq, params={"A": A}).u[-1] @ w

    g = float(jax.grad(mean_at)(ebm.A))
    rate = SECONDS_PER_YEAR / ebm.heat_capacity * ebm.B
    exact = -(1.0 - np.exp(-rate * 2.0)) / ebm.B
    assert abs(g - exact) < 1e-6 * abs(exact)


def test_gradients_wrt_diffusivity_and_S0_match_finite_differences():
    """Reverse mode through ps.solve (Rodas5P, discrete adjoint) with a smooth ice albedo, so the
    ice edge moves with the parameters: the equator-to-pole contrast and the global mean after 30
    years (at equilibrium) with respect to D and S0, against central differences of the solve and
    against the implicit-function derivative of the steady state, -J^-1 df/dp (df/dp by complex step)."""
    e = phys.EnergyBalance1D(n_lat=30, albedo_width=2.0)
    w = jnp.asarray(e.weights)
    names, x0, steps = ("D", "S0"), (e.diffusivity, e.S0), (1e-5, 1e-2)

    def outputs(D, S0):
        u = e.trajectory(np.array([0.0, 30.0]), params={"D": D, "S0": S0}, rtol=1e-10, atol=1e-10).u[-1]
        return jnp.stack([u[15] - u[-1], u @ w])

    jac = np.stack([np.asarray(j) for j in jax.jacrev(outputs, argnums=(0, 1))(*x0)], axis=1)  # (output, param)
    T_eq, ok = e.steady_state(e.initial_state())
    assert ok
    J = e.jacobian(T_eq)
    for k, name in enumerate(names):
        up, down = list(x0), list(x0)
        up[k] += steps[k]
        down[k] -= steps[k]
        fd = (np.asarray(outputs(*up)) - np.asarray(outputs(*down))) / (2 * steps[k])
        np.testing.assert_allclose(jac[:, k], fd, rtol=1e-5)
        dfdp = e.tendency(T_eq, params={name: x0[k] + 1e-20j}).imag / 1e-20
        dT = -np.linalg.solve(J, dfdp)
        np.testing.assert_allclose(jac[:, k], [dT[15] - dT[-1], dT @ e.weights], rtol=1e-6)
    assert abs(jac[0, 0]) > 1.0
    # more than the fixed-ice response (1 - a0) / 4 B: the ice-albedo feedback amplifies it
    assert jac[1, 1] > 1.2 * (1 - e.a0) / (4 * e.B)


def test_ude_with_the_true_albedo_as_network_reproduces_the_model():
    """EnergyBalance1D.ude(): known physics plus a network albedo; with the network's last layer
    set to the true albedo change (a one-unit tanh layer) it reproduces the smooth-albedo model."""
    import pysciml as ps

    e = phys.EnergyBalance1D(n_lat=12, a2=0.0, albedo_width=2.5)
    net = ps.MLP(1, 1, width=1, depth=1, activation="tanh")
    # hidden = tanh(W0 x + b0), x = (T - Tf) / 10; out = W1 hidden + b1 = c (1 - tanh((T - Tf) / w))
    c = (e.ai - e.a0) / 2
    theta = np.array([10.0 / e.albedo_width, 0.0, -c, c])
    ude = e.ude(net)
    assert ude.n_states == 12 and ude.time_units == "years"
    t = np.array([0.0, 0.5, 1.0])
    ours = ps.solve(ude, e.initial_state(), t, params={"albedo_nn": theta}, solver=ps.Rodas5P(), rtol=1e-9, atol=1e-9)
    ref = e.trajectory(t, rtol=1e-9, atol=1e-9)
    assert np.abs(ours.u - ref.u).max() < 1e-6


# -- hysteresis ------------------------------------------------------------------------------------
def test_snowball_fold_matches_climlab(ebm):
    """Decreasing S0 by continuation: the partly ice-covered branch ends between 1245.2 and 1244.2
    W m-2 (ice edge 34 degrees) and the model falls into the snowball, as in climlab."""
    climlab = _climlab()
    path = [1300.0, 1260.0, 1250.0, 1245.2, 1244.2]
    ours = ebm.sweep("S0", path)
    assert bool(ours.converged.all())
    m = climlab.EBM()
    m.integrate_years(6.0, verbose=False)
    for k, S0 in enumerate(path):
        m.S0 = S0
        m.integrate_years(8.0 if k < len(path) - 1 else 25.0, verbose=False)  # the fall to snowball is slow
        ref_mean, ref_ice, _ = _climlab_state(m)
        assert abs(float(ours.global_mean[k]) - ref_mean) < 0.1, (S0, float(ours.global_mean[k]), ref_mean)
        assert abs(float(ours.ice_edge_north[k]) - ref_ice[1]) <= 1.0, S0
    assert float(ours.ice_edge_north[-2]) == 34.0
    assert float(ours.ice_edge_north[-1]) == 0.0  # snowball (all ice)


def test_hysteresis_loop_in_the_solar_constant(ebm):
    S0 = np.arange(1200.0, 1951.0, 50.0)
    loop = ebm.hysteresis(S0)
    assert loop.global_mean.dims == ("branch", "S0")
    down = loop.global_mean.sel(branch="decreasing").values
    up = loop.global_mean.sel(branch="increasing").values
    snow_up = loop.ice_edge_north.sel(branch="increasing").values == 0.0
    snow_down = loop.ice_edge_north.sel(branch="decreasing").values == 0.0
    # two branches over an interval of S0: partly ice-covered (going down) and snowball (going up)
    both = (~snow_down) & snow_up
    assert both.sum() >= 5
    assert np.all(down[both] - up[both] > 30.0)
    # the loop closes at both ends: snowball at 1200, ice-free at 1950 on both branches
    assert snow_down[0] and snow_up[0]
    assert abs(down[0] - up[0]) < 1e-6 and abs(down[-1] - up[-1]) < 1e-6
    assert float(loop.ice_edge_north.sel(branch="increasing")[-1]) == 90.0
    # the snowball branch ends (going up) near 1840 W m-2 (climlab: last frozen state at 1834)
    first_thaw = S0[np.argmax(~snow_up)]
    assert 1800.0 <= first_thaw <= 1900.0


# -- two-box model ---------------------------------------------------------------------------------
def _two_box_expm(box, t, u0):
    """Exact solution by the exponential of the augmented matrix of [T, T0, 1, t]."""
    M, b, c = box.matrix()
    Z = np.zeros((4, 4))
    Z[:2, :2], Z[:2, 2], Z[:2, 3], Z[3, 2] = M, b, c, 1.0
    z0 = np.array([u0[0], u0[1], 1.0, 0.0])
    return np.stack([(scipy.linalg.expm(Z * tk) @ z0)[:2] for tk in t])


@pytest.mark.parametrize("rate", [0.0, 0.04], ids=["step", "step+ramp"])
def test_two_box_matches_its_exact_solution(rate):
    box = phys.TwoBox(forcing=7.4, forcing_rate=rate)
    t = np.linspace(0.0, 500.0, 26)
    u0 = (0.3, -0.1)
    exact = _two_box_expm(box, t, u0)
    ds = box.simulate(t, u0)
    assert ds["T"].attrs["units"] == "K" and ds["time"].attrs["units"] == "years"
    scale = np.abs(exact).max()
    assert np.abs(np.c_[ds["T"].values, ds["T0"].values] - exact).max() < 1e-8 * scale
    assert np.abs(box.exact(t, u0) - exact).max() < 1e-10 * scale
    if rate == 0.0:
        assert abs(box.exact([1e4])[0, 0] - box.equilibrium_warming()) < 1e-9
    fast, slow = box.timescales()
    assert 1.0 < fast < 10.0 < 100.0 < slow


def test_two_box_gradient_matches_exact_derivative():
    box = phys.TwoBox()
    t = np.array([0.0, 20.0, 100.0])

    def warming(gamma):
        return box.trajectory(t, params={"gamma": gamma}).u[-1, 0]

    g = float(jax.grad(warming)(box.gamma))
    h = 1e-5
    fd = (box.replace(gamma=box.gamma + h).exact(t)[-1, 0] - box.replace(gamma=box.gamma - h).exact(t)[-1, 0]) / (2 * h)
    assert abs(g - fd) < 1e-6 * abs(fd)
