"""Fitting SDEs to observed paths (issue 17, item 2): ``ps.fit_sde`` by the Euler-Maruyama transition likelihood.

Data are simulated with ShARK (strong order 1.5 for additive noise) on a step five times finer than the
observations, so what the fits see is close to the exact process; the fits must recover the parameters within
5 %.  The likelihood is checked against scipy's Gaussian density and its gradient against central differences.
"""

import warnings

import numpy as np
import pytest

import pysciml as ps

FAST = [ps.Adam(5e-2, steps=100), ps.LBFGS(steps=100)]
T_END, DT_OBS, N_PATHS = 20.0, 0.01, 200


def ou_drift(u, p, t, m):
    return [p.theta * (p.mu - u[0])]


def const_diffusion(u, p, t, m):
    return [p.sigma + 0.0 * u[0]]


def ou(theta=2.0, mu=1.0, sigma=0.5, positive=True):
    sig = ps.Param(sigma, bounds=(0, None)) if positive else sigma
    return ps.SDEModel(ou_drift, const_diffusion, ["x"], {"theta": theta, "mu": mu, "sigma": sig}, noise="additive")


OU = ou()  # the simulator (one compiled solve, parameters passed per call)


def simulate(model, u0, seed, t_obs, n_paths=N_PATHS, dt=DT_OBS / 2, **kw):
    """Paths saved at ``t_obs``, which lie on the step grid (ShARK: strong order 1.5 for additive noise)."""
    sol = ps.solve(model, u0, (0.0, t_obs[-1]), saveat=t_obs, solver=ps.ShARK(), dt0=dt, seed=seed,
                   n_paths=n_paths, brownian="grid", **kw)
    assert sol.ok
    return sol


def irregular_times():
    """About 1,000 unevenly spaced observation times on the simulation's step grid (every 1, 2 or 3 steps)."""
    rng = np.random.default_rng(7)
    steps = np.cumsum(rng.integers(1, 4, size=4000))
    steps = steps[steps <= int(round(T_END / (DT_OBS / 2)))]
    return np.concatenate([[0.0], steps * (DT_OBS / 2)])


@pytest.fixture(scope="module")
def ou_data():
    """200 OU paths (theta=2, mu=1, sigma=0.5) from 0 over 20 time units, observed at irregular times (mean
    step 0.01): about 400,000 transitions.  Statistical error of theta: sqrt(2 theta / (200 * 20)) = 2.2 %/sqrt(2)."""
    t = irregular_times()
    return t, simulate(OU, [0.0], 11, t).u


@pytest.fixture(scope="module")
def ou_fit(ou_data):
    """The fit, and the CoarseDataWarnings it raised (none expected: theta dt is about 0.02)."""
    t, x = ou_data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = ps.fit_sde(ou(theta=1.0, mu=0.0, sigma=1.0), x, t, optimizers=FAST, verbose=0)
    fit.coarse_warnings = [w for w in caught if issubclass(w.category, ps.CoarseDataWarning)]
    return fit


def test_ou_parameters_recovered_within_5_percent(ou_fit):
    assert ou_fit.ok, ou_fit.message
    assert ou_fit.coarse_warnings == []
    for name, true in {"theta": 2.0, "mu": 1.0, "sigma": 0.5}.items():
        assert abs(ou_fit.params_[name] / true - 1) < 0.05, (name, ou_fit.params_)
    assert ou_fit.n_transitions_ == N_PATHS * (len(irregular_times()) - 1)
    assert ou_fit.loss_history_[-1] < ou_fit.loss_history_[0]
    assert "theta=" in repr(ou_fit) and "SUCCESS" in repr(ou_fit)


def test_fitted_model_simulates_the_data_moments(ou_fit, ou_data):
    """The fitted SDE's paths have the data's mean and spread at the end time (within 4 standard errors)."""
    t, x = ou_data
    sim = ou_fit.simulate([0.0], (0.0, T_END), saveat=[T_END], n_paths=1000, seed=5, dt0=0.01)
    end_data, end_sim = x[:, -1, 0], sim["x"][:, -1]
    se = np.sqrt(end_data.var() / N_PATHS + end_sim.var() / 1000)
    assert abs(end_data.mean() - end_sim.mean()) < 4 * se
    assert abs(end_sim.std() / end_data.std() - 1) < 0.15
    assert ou_fit.model.param_specs["theta"].default == pytest.approx(ou_fit.params_["theta"])


def test_a_different_diffusion_is_told_apart(ou_fit, ou_data):
    """Negative control: 50 of 200 paths simulated with sigma=1.0 give sigma near 1.0 (the 200 sigma=0.5 paths gave
    0.5), and the likelihood ratio test of sigma=0.5 against the free fit rejects it by a wide margin."""
    t, _ = ou_data
    chi2_1_99 = 6.635  # 99% quantile of chi-square with one degree of freedom
    x1 = simulate(OU, [0.0], 12, t, params={"sigma": 1.0}).u[:50]
    wide = ps.fit_sde(ou(theta=1.0, mu=0.0, sigma=0.5), x1, t, optimizers=FAST, verbose=0)
    assert abs(wide.params_["sigma"] - 1.0) < 0.05 and abs(wide.params_["sigma"] - ou_fit.params_["sigma"]) > 0.4
    restricted = ps.fit_sde(ou(theta=1.0, mu=0.0, sigma=0.5), x1, t, fit=["theta", "mu"], optimizers=FAST,
                            verbose=0)
    assert restricted.fitted_ == ("theta", "mu") and restricted.params_["sigma"] == 0.5
    assert 2 * (restricted.nll_ - wide.nll_) > 1000 * chi2_1_99


def double_well(a=1.0, b=1.0, s=0.7):
    return ps.SDEModel(lambda u, p, t, m: [p.a * u[0] - p.b * u[0] ** 3], lambda u, p, t, m: [p.s + 0.0 * u[0]],
                       ["x"], {"a": a, "b": b, "s": ps.Param(s, bounds=(0, None))}, noise="additive")


def test_double_well_parameters_recovered_within_5_percent():
    """200 paths over 60 time units observed every 0.01 (1.2 million transitions).  u and u^3 are nearly collinear
    near the wells (+-1), so a and b are the hard ones: their statistical errors (inverse Fisher information on
    these paths) are about 1.7 % and 1.2 %; over 10 time units they would be 4.2 % and 3 %, too close to 5 %."""
    t = np.linspace(0.0, 60.0, 6001)
    sol = simulate(double_well(), [0.0], 21, t, dt=DT_OBS)
    # the data set as xarray (what SDESolution.to_xarray writes): one variable per state over (path, time)
    fit = ps.fit_sde(double_well(a=0.5, b=0.5, s=1.0), sol.to_xarray(), optimizers=FAST, verbose=0)
    assert fit.ok, fit.message
    for name, true in {"a": 1.0, "b": 1.0, "s": 0.7}.items():
        assert abs(fit.params_[name] / true - 1) < 0.05, (name, fit.params_)


def general_model():
    """Two states, three Brownian motions, state-dependent general noise (Ito)."""

    def drift(u, p, t, m):
        return [p.k * (1.0 - u[0]) + p.c * u[1], -p.k * u[1] + p.c * m.sin(u[0])]

    def diffusion(u, p, t, m):
        return [[p.s, 0.1 * p.s * u[1], 0.2], [0.3 * p.c, p.s * (1.0 + 0.1 * u[0] ** 2), 0.1 * p.k]]

    return ps.SDEModel(drift, diffusion, ["x", "y"], {"k": 1.3, "c": 0.4, "s": 0.6}, noise="general", n_noise=3)


def test_general_noise_likelihood_equals_scipy_and_its_gradient_central_differences():
    import jax
    import jax.numpy as jnp
    from scipy.stats import multivariate_normal

    from pysciml.engines.jax.sde.fit import transition_nll

    model = general_model()
    rng = np.random.default_rng(3)
    t = np.cumsum(np.concatenate([[0.0], rng.uniform(0.01, 0.05, 6)]))
    x = rng.normal(size=(3, 7, 2))
    values = {"k": 1.3, "c": 0.4, "s": 0.6}
    nll = transition_nll(model)
    got = np.asarray(nll({k: jnp.float64(v) for k, v in values.items()}, {}, t, x))
    ref = np.zeros((3, 6))
    for p in range(3):
        for i in range(6):
            f = np.asarray(model.rhs_numpy(x[p, i], t[i], values))
            u0, u1 = x[p, i]
            g = np.array([[0.6, 0.06 * u1, 0.2], [0.12, 0.6 * (1 + 0.1 * u0**2), 0.13]])
            dt = t[i + 1] - t[i]
            ref[p, i] = -multivariate_normal(x[p, i] + f * dt, g @ g.T * dt).logpdf(x[p, i + 1])
    np.testing.assert_allclose(got, ref, rtol=1e-10)

    def total(v):
        return float(np.sum(nll({k: jnp.float64(q) for k, q in v.items()}, {}, t, x)))

    grad = jax.grad(lambda v: jnp.sum(nll(v, {}, t, x)))({k: jnp.float64(v) for k, v in values.items()})
    for name in values:
        h = 1e-5
        fd = (total({**values, name: values[name] + h}) - total({**values, name: values[name] - h})) / (2 * h)
        assert float(grad[name]) == pytest.approx(fd, rel=1e-6), name


def test_neural_drift_learns_the_ou_drift_on_the_data_range(ou_data):
    t, x = ou_data
    sub_t, sub_x = t[::2], x[:40, ::2]  # 40 paths, every second observation: a quick fit
    model = ps.SDEModel(lambda u, p, t, m: p.f(u), const_diffusion, ["x"],
                        {"sigma": ps.Param(1.0, bounds=(0, None))},
                        networks={"f": ps.MLP(1, 1, width=8, depth=1, last_layer_scale=1.0)}, noise="additive")
    fit = ps.fit_sde(model, sub_x, sub_t, optimizers=[ps.Adam(3e-2, steps=300), ps.LBFGS(steps=200)], verbose=0)
    assert fit.ok, fit.message
    lo, hi = np.quantile(sub_x, [0.05, 0.95])
    grid = np.linspace(lo, hi, 41)
    learned = np.array([fit.model.rhs_numpy([u], 0.0, network_params=fit.network_params_)[0] for u in grid])
    true = 2.0 * (1.0 - grid)
    rel = np.sqrt(np.mean((learned - true) ** 2)) / np.sqrt(np.mean(true**2))
    assert rel < 0.1, (rel, learned, true)
    assert abs(fit.params_["sigma"] / 0.5 - 1) < 0.05


def test_coarse_data_warn(ou_data):
    """Every 20th observation (about 0.2 apart, theta dt = 0.4) warns; all of them (0.01 apart) did not (``ou_fit``)."""
    t, x = ou_data
    with pytest.warns(ps.CoarseDataWarning, match="coarse"):
        fit = ps.fit_sde(ou(), x[:, ::20], t[::20], optimizers=[ps.LBFGS(steps=50)], verbose=0)
    assert fit.params_["theta"] < 2.0 * 0.9  # the bias the warning speaks of: (1 - e^{-theta dt}) / dt = 1.65


def test_save_and_load_give_the_same_fit(ou_fit, tmp_path):
    """Through the shared file format: same values, same likelihood, the same paths from the same seed."""
    ou_fit.save(tmp_path / "ou_fit")
    back = ps.load(tmp_path / "ou_fit")  # drift and diffusion found in this (imported) module
    assert isinstance(back, ps.SDEFit) and back.status is ou_fit.status
    assert back.params_ == ou_fit.params_ and back.nll_ == ou_fit.nll_ and back.fitted_ == ou_fit.fitted_
    np.testing.assert_array_equal(back.loss_history_, ou_fit.loss_history_)
    a = ou_fit.simulate([0.0], (0.0, 1.0), n_paths=8, seed=3, dt0=0.01)
    b = back.simulate([0.0], (0.0, 1.0), n_paths=8, seed=3, dt0=0.01)
    np.testing.assert_array_equal(a.u, b.u)
    # negative control: other parameters give other paths from the same seed
    c = ps.solve(back.model, [0.0], (0.0, 1.0), params={"sigma": 0.3}, dt0=0.01, seed=3, n_paths=8)
    assert np.max(np.abs(c.u - a.u)) > 1e-3


def test_a_diffusion_at_zero_is_a_failed_status_with_advice(ou_data):
    """Numerical failure is a status: an unbounded sigma started at 0 makes every transition density singular."""
    t, x = ou_data
    fit = ps.fit_sde(ou(sigma=0.0, positive=False), x[:5, :50], t[:50], optimizers=[ps.Adam(1e-2, steps=5)],
                     verbose=0)
    assert fit.status is ps.Status.FAILED and not fit.ok
    assert "bounds=(0, None)" in fit.message and not np.isfinite(fit.nll_)


def test_stratonovich_model_is_fitted_through_its_ito_drift():
    """GBM simulated in Ito form (mu=1, sigma=0.5) and fitted with the model declared Stratonovich: the fitted
    Stratonovich mu is near mu_Ito - sigma^2 / 2 = 0.875 (statistical error of mu about 0.016 on these 1,000 paths:
    the bound 0.05 is three of them), and exactly the Ito fit's mu minus its sigma^2 / 2."""
    gbm = ps.SDEModel(lambda u, p, t, m: [p.mu * u[0]], lambda u, p, t, m: [p.sigma * u[0]], ["x"],
                      {"mu": 1.0, "sigma": 0.5})
    t = np.linspace(0.0, 1.0, 101)
    sol = ps.solve(gbm, [1.0], (0.0, 1.0), saveat=t, solver=ps.Milstein(), dt0=0.005, seed=4, n_paths=1000,
                   brownian="grid")
    strat = ps.SDEModel(gbm.drift, gbm.diffusion, ["x"], {"mu": 0.5, "sigma": ps.Param(1.0, bounds=(0, None))},
                        calculus="stratonovich")
    fit = ps.fit_sde(strat, sol.u, t, optimizers=FAST, verbose=0)
    assert abs(fit.params_["mu"] - 0.875) < 0.05 and abs(fit.params_["sigma"] - 0.5) < 0.025
    # negative control: the same data read as Ito give the Ito drift
    ito = ps.fit_sde(ps.SDEModel(gbm.drift, gbm.diffusion, ["x"], {"mu": 0.5, "sigma": ps.Param(1.0, bounds=(0, None))}),
                     sol.u, t, optimizers=FAST, verbose=0)
    assert abs(ito.params_["mu"] - 1.0) < 0.05
    assert ito.params_["mu"] - fit.params_["mu"] == pytest.approx(fit.params_["sigma"] ** 2 / 2, abs=1e-6)


def test_every_data_form_gives_the_same_paths():
    """Array + t, Dataset, DataArray with state labels in another order, and 2-D for one state: the same (t, x)."""
    import xarray as xr

    from pysciml.sde.observed import observed_paths

    model = ps.SDEModel(lambda u, p, t, m: [-u[0], -u[1]], lambda u, p, t, m: [0.1 + 0.0 * u[0], 0.1 + 0.0 * u[1]],
                        ["a", "b"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 2))
    t = np.array([0.0, 0.1, 0.3, 0.35, 0.9])  # uneven
    ds = xr.Dataset({"a": (("path", "time"), x[:, :, 0]), "b": (("path", "time"), x[:, :, 1])}, coords={"time": t})
    da = xr.DataArray(x[:, :, ::-1].transpose(1, 0, 2), dims=("time", "path", "state"),
                      coords={"time": t, "state": ["b", "a"]})
    for data, tt in ((x, t), (ds, None), (da, None)):
        t_got, x_got = observed_paths(model, data, tt)
        np.testing.assert_array_equal(t_got, t)
        np.testing.assert_array_equal(x_got, x)
    one = ps.SDEModel(lambda u, p, t, m: [-u[0]], lambda u, p, t, m: [0.1 + 0.0 * u[0]], ["a"])
    np.testing.assert_array_equal(observed_paths(one, x[:, :, 0], t)[1], x[:, :, :1])
    # negative control: unlabelled states are taken in the order given
    unlabelled = xr.DataArray(x[:, :, ::-1], dims=("path", "time", "state"), coords={"time": t})
    assert not np.array_equal(observed_paths(model, unlabelled)[1], x)
