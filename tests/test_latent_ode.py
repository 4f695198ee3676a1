"""LatentODE: reconstruction and extrapolation beat a per-time-mean baseline on held-out damped oscillators;
the ELBO's KL is the closed-form Gaussian KL; masked points leave the loss unchanged; save/load is exact;
prior samples have the documented shapes."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.latent_data import oscillators, per_time_mean

import pysciml.latent as L

T_SPLIT = 10.0  # held-out series: observed up to here, forecast beyond


@pytest.fixture(scope="module")
def data():
    return oscillators(48, seed=0), oscillators(16, seed=1)


@pytest.fixture(scope="module")
def model(data):
    train, _ = data
    m = L.LatentODE(4, encoder_hidden=16, ode_hidden=16, decoder_hidden=16, seed=0)
    return m.fit([(d["t"], d["y"]) for d in train], steps=300, batch_size=16, learning_rate=1e-2)


def _mse(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def test_fit_records_history_and_elbo(model):
    assert model.status_.name == "SUCCESS"
    assert model.history_["loss"].shape == (300,)
    assert model.history_["beta"][0] < 0.02 and model.history_["beta"][-1] == 1.0  # KL annealing
    assert np.mean(model.history_["loss"][-20:]) < 0.2 * np.mean(model.history_["loss"][:20])
    assert np.isfinite(model.elbo_) and np.isclose(model.elbo_, model.loglik_ - model.kl_)
    # the learned noise std is near the true 0.05 (well below the signal's std ~0.6)
    assert np.all(model.noise_std_ < 0.2) and np.all(model.noise_std_ > 0.02)


def test_reconstruction_and_extrapolation_beat_per_time_mean(model, data):
    train, test = data
    baseline = per_time_mean(train)
    ts, ys = [d["t"] for d in test], [d["y"] for d in test]
    rec = model.predict(ts, ys, ts)
    mse_rec = np.mean([_mse(p, d["truth"]) for p, d in zip(rec, test)])
    mse_base = np.mean([_mse(baseline(d["t"]), d["truth"]) for d in test])
    assert mse_rec < 0.3 * mse_base, (mse_rec, mse_base)

    early = [d["t"] <= T_SPLIT for d in test]
    ext = model.predict([d["t"][k] for d, k in zip(test, early)], [d["y"][k] for d, k in zip(test, early)],
                        [d["t"][~k] for d, k in zip(test, early)])
    mse_ext = np.mean([_mse(p, d["truth"][~k]) for p, d, k in zip(ext, test, early)])
    mse_ext_base = np.mean([_mse(baseline(d["t"][~k]), d["truth"][~k]) for d, k in zip(test, early)])
    assert mse_ext < 0.5 * mse_ext_base, (mse_ext, mse_ext_base)


def test_forecast_matches_predict_on_its_grid(model, data):
    d = data[1][0]
    k = d["t"] <= T_SPLIT
    t_new, y_new = model.forecast(d["t"][k], d["y"][k], 3.0, n=11)
    assert t_new.shape == (11,) and y_new.shape == (11, 2)
    assert np.isclose(t_new[0], d["t"][k][-1]) and np.isclose(t_new[-1], d["t"][k][-1] + 3.0)
    np.testing.assert_allclose(y_new, model.predict(d["t"][k], d["y"][k], t_new), rtol=1e-12, atol=1e-12)


def test_predict_before_the_first_observation_solves_backwards(model, data):
    _, test = data
    later = [d["t"] > 2.0 for d in test]
    early = [d["t"][~k] for d, k in zip(test, later)]
    pred = model.predict([d["t"][k] for d, k in zip(test, later)], [d["y"][k] for d, k in zip(test, later)],
                         [np.concatenate([e, d["t"][k][:1]]) for e, d, k in zip(early, test, later)])
    at_first = model.predict([d["t"][k] for d, k in zip(test, later)], [d["y"][k] for d, k in zip(test, later)],
                             [d["t"][k][:1] for d, k in zip(test, later)])
    for p, a in zip(pred, at_first):  # the backward branch joins the forward one at the first observation
        np.testing.assert_allclose(p[-1], a[0], rtol=1e-12, atol=1e-12)
    mse = np.mean([_mse(p[:-1], d["truth"][~k]) for p, d, k in zip(pred, test, later) if (~k).any()])
    mse_zero = np.mean([_mse(0.0, d["truth"][~k]) for d, k in zip(test, later) if (~k).any()])
    assert mse < 0.5 * mse_zero, (mse, mse_zero)


def test_kl_term_is_the_closed_form_gaussian_kl(model, data):
    test = data[1]
    terms = model.elbo_terms([(d["t"], d["y"]) for d in test], seed=3)
    mu, sd = terms["mean"], terms["std"]
    kl_numpy = 0.5 * np.sum(sd**2 + mu**2 - 1.0 - np.log(sd**2), axis=1)
    np.testing.assert_allclose(terms["kl"], kl_numpy, rtol=1e-12)
    # the posterior reported by encode (a separate compiled path) is the one the ELBO used
    mu2, sd2 = model.encode([d["t"] for d in test], [d["y"] for d in test])
    np.testing.assert_allclose(mu2, mu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sd2, sd, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(terms["elbo"], terms["loglik"] - terms["kl"], rtol=1e-12)
    assert np.all(terms["kl"] > 0)


def test_masked_points_leave_the_loss_unchanged(model, data):
    from pysciml.engines.jax.latent.train import evaluate
    from pysciml.latent.data import padded_arrays, read_series

    series = [(d["t"][:20], d["y"][:20]) for d in data[1]]
    obs = read_series(series)
    T, Y, M = padded_arrays(obs, model.scaling_, 32)
    rng = np.random.default_rng(5)
    T2, Y2, M2 = T.copy(), np.full_like(Y, 1e3), np.zeros_like(M)  # garbage where masked
    for i, (t, _) in enumerate(series):
        extra = np.sort(rng.uniform(t[0], t[-1], 9))  # masked rows inside the span
        tt = np.concatenate([t, extra])
        order = np.argsort(tt, kind="stable")
        src = np.concatenate([np.arange(t.size), np.full(9, -1)])[order]
        T2[i, :tt.size], T2[i, tt.size:] = model.scaling_.times(tt[order]), model.scaling_.times(tt.max())
        for row, s in enumerate(src):
            if s >= 0:
                Y2[i, row], M2[i, row] = Y[i, s], M[i, s]
    a = evaluate(model.config_, model.weights_, T, Y, M, seed=7)
    b = evaluate(model.config_, model.weights_, T2, Y2, M2, seed=7)
    for k in ("loglik", "kl", "mean", "std"):
        np.testing.assert_allclose(b[k], a[k], rtol=1e-10, atol=1e-12, err_msg=k)
    # the public path: rows and values set to NaN are ignored the same way
    with_nan = [(np.concatenate([t, [t[0] + 0.123]]), np.concatenate([y, [[np.nan, np.nan]]])) for t, y in series]
    order = [np.argsort(t) for t, _ in with_nan]
    with_nan = [(t[o], y[o]) for (t, y), o in zip(with_nan, order)]
    e1 = model.elbo_terms(series, seed=2)["elbo"]
    e2 = model.elbo_terms(with_nan, seed=2)["elbo"]
    np.testing.assert_allclose(e2, e1, rtol=1e-10)


def test_save_load_round_trip_is_exact(model, data, tmp_path):
    d = data[1][2]
    model.save(tmp_path / "lat")
    back = L.LatentODE.load(tmp_path / "lat.json")
    assert back.get_params() == model.get_params()
    assert back.config_ == model.config_
    np.testing.assert_array_equal(back.predict(d["t"], d["y"], d["t"]), model.predict(d["t"], d["y"], d["t"]))
    np.testing.assert_array_equal(back.sample(d["t"], 3, seed=4), model.sample(d["t"], 3, seed=4))
    for k, v in model.history_.items():
        np.testing.assert_array_equal(back.history_[k], v)
    assert back.elbo_ == model.elbo_ and back.status_ is model.status_
    np.testing.assert_array_equal(back.noise_std_, model.noise_std_)
    assert [tr.t.tolist() for tr in back.observations_] == [tr.t.tolist() for tr in model.observations_]
    import pysciml as ps

    again = ps.load(tmp_path / "lat")  # ps.load reads latent ODE files too
    assert isinstance(again, L.LatentODE)
    np.testing.assert_array_equal(again.predict(d["t"], d["y"], d["t"]), model.predict(d["t"], d["y"], d["t"]))


def test_sample_shapes_and_seeds(model):
    t = np.linspace(0.0, 12.0, 25)
    a = model.sample(t, 5, seed=0)
    assert a.shape == (5, 25, 2) and np.all(np.isfinite(a))
    b = model.sample(t, 5, seed=1)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(model.sample(t, 5, seed=0), a)
    noisy = model.sample(t, 5, seed=0, noise=True)
    resid = noisy - a
    assert 0.3 < np.std(resid) / np.mean(model.noise_std_) < 3.0  # noise of the fitted std is added
    # different prior draws are different oscillations, of the data's size
    assert np.std(a[:, 0, 0]) > 0.1 and np.max(np.abs(a)) < 10.0


def test_predict_with_posterior_samples_gives_spread(model, data):
    d = data[1][3]
    mean, std = model.predict(d["t"], d["y"], d["t"], n_samples=8, seed=0, return_std=True)
    assert mean.shape == std.shape == (d["t"].size, 2)
    assert np.all(std >= 0) and np.any(std > 0)
    assert _mse(mean, d["truth"]) < 0.1


def test_xarray_input_reads_like_the_list(model, data):
    import xarray as xr

    series = [(d["t"], d["y"]) for d in data[1][:4]]
    times = np.unique(np.concatenate([t for t, _ in series]))
    vals = np.full((times.size, 4, 2), np.nan)
    for j, (t, y) in enumerate(series):
        vals[np.searchsorted(times, t), j] = y
    ds = xr.Dataset({"y0": (("time", "series"), vals[..., 0]), "y1": (("time", "series"), vals[..., 1])},
                    coords={"time": times, "series": ["a", "b", "c", "d"]})
    a = model.elbo_terms(series, seed=1)
    b = model.elbo_terms(ds, seed=1)
    np.testing.assert_allclose(b["elbo"], a["elbo"], rtol=1e-10)


def test_euler_error_falls_linearly_with_the_step(model, data):
    """The same posterior decoded with forward Euler at dt, dt/2, dt/4: the error against a tight adaptive
    decode is first order (measured 1.02-1.08 on this model; asserted within [0.8, 1.2])."""
    test = data[1][:6]
    ts, ys = [d["t"] for d in test], [d["y"] for d in test]
    grid = np.linspace(0.0, 15.0, 61)  # before the first observation too: the backward solve steps as well
    ref = model.with_solver("tsit5", rtol=1e-10, atol=1e-12).predict(ts, ys, grid)
    steps = (0.02, 0.01, 0.005)  # model time units
    errs = []
    for dt in steps:
        euler = model.with_solver("euler", dt=dt)
        assert euler.solver == "euler" and euler.dt == dt and euler.config_.dt == dt / model.scaling_.time_scale
        errs.append(np.sqrt(np.mean([_mse(p, r) for p, r in zip(euler.predict(ts, ys, grid), ref)])))
    order = np.polyfit(np.log(steps), np.log(errs), 1)[0]
    print("Euler errors", errs, "order", order)
    assert 0.8 <= order <= 1.2, (errs, order)
    adaptive = np.sqrt(np.mean([_mse(p, r) for p, r in zip(model.predict(ts, ys, grid), ref)]))
    assert adaptive < 0.05 * errs[-1], (adaptive, errs)
    assert model.solver == "tsit5" and model.dt is None and model.config_.dt is None  # the original is untouched


def test_euler_fits_samples_and_saves(data, tmp_path):
    train = data[0][:8]
    m = L.LatentODE(2, encoder_hidden=4, ode_hidden=4, decoder_hidden=0, encoder="gru", solver="euler", dt=0.1)
    m.fit([(d["t"], d["y"]) for d in train], steps=3, batch_size=8)
    assert m.status_.name == "SUCCESS" and m.config_.solver.name == "Euler"
    assert np.isclose(m.config_.dt, 0.1 / m.scaling_.time_scale)
    d, t = train[0], np.linspace(0.0, 15.0, 31)
    a, p = m.sample(t, 3, seed=1), m.predict(d["t"], d["y"], t)
    assert a.shape == (3, 31, 2) and np.all(np.isfinite(a)) and np.all(np.isfinite(p))
    m.save(tmp_path / "euler")
    back = L.LatentODE.load(tmp_path / "euler")
    assert back.get_params() == m.get_params() and back.config_ == m.config_
    np.testing.assert_array_equal(back.sample(t, 3, seed=1), a)
    np.testing.assert_array_equal(back.predict(d["t"], d["y"], t), p)
    # a fixed step with an adaptive-capable method: fixed steps of that method
    fixed = m.with_solver("tsit5", dt=0.1)
    assert fixed.config_.solver.name == "Tsit5" and fixed.config_.dt == m.config_.dt
