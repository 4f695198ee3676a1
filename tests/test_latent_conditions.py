"""Conditional latent models (issue 17 item 5): a condition (one vector per series) enters the encoder, the latent
dynamics and the decoder; samples generated at held-out conditions honour them.

Oscillators whose angular frequency w ~ U(0.8, 1.6) is their (scalar) condition; after a short fit, prior samples
at w = 0.9 and w = 1.5 have FFT-peak frequencies within 10 % of w (measured: 0.905 and 1.488, under 1 %); the
same fit with the conditions shuffled across series (the negative control) gives 1.06 and 1.24 (17-18 % off) and
fails the check.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.latent_data import conditioned_oscillators, dominant_frequency

import pysciml as ps

HELD_OUT = (0.9, 1.5)
TOL = 0.1  # relative error allowed on each generated frequency
T = np.linspace(0.0, 12.0, 241)


@pytest.fixture(scope="module")
def data():
    return conditioned_oscillators(64, seed=0)


def _fit(series, condition):
    m = ps.LatentODE(2, encoder_hidden=16, ode_hidden=16, decoder_hidden=16, seed=0)
    return m.fit(series, condition=condition, steps=600, batch_size=32)


@pytest.fixture(scope="module")
def model(data):
    series, omegas = data
    return _fit(series, omegas[:, None])


def _frequencies(model):
    return [dominant_frequency(model.sample(T, 64, seed=1, condition=[w])[:, :, 0], T) for w in HELD_OUT]


def _honoured(freqs):
    return freqs[1] - freqs[0] > 0.3 and all(abs(f - w) < TOL * w for f, w in zip(freqs, HELD_OUT))


def test_samples_honour_the_condition(model):
    freqs = _frequencies(model)
    print("generated frequencies at", HELD_OUT, ":", freqs)
    assert model.n_condition_ == 1 and model.config_.n_condition == 1
    assert _honoured(freqs), freqs


def test_negative_control_shuffled_conditions_fail_the_check(data):
    series, omegas = data
    shuffled = _fit(series, np.random.default_rng(5).permutation(omegas)[:, None])
    freqs = _frequencies(shuffled)
    print("negative control (conditions shuffled at training):", freqs)
    assert not _honoured(freqs), freqs


def test_condition_per_sample_and_per_series(model, data):
    series, omegas = data
    a = model.sample(T, 4, seed=2, condition=[1.2])
    b = model.sample(T, 4, seed=2, condition=np.full((4, 1), 1.2))
    np.testing.assert_array_equal(a, b)
    mixed = model.sample(T, 4, seed=2, condition=[[1.2], [1.2], [0.9], [0.9]])
    np.testing.assert_array_equal(mixed[:2], a[:2])
    assert not np.allclose(mixed[2:], a[2:])
    (t0, y0), (t1, y1) = series[:2]
    one = model.predict(t0, y0, t0, condition=[omegas[0]])
    both = model.predict([t0, t1], [y0, y1], [t0, t1], condition=omegas[:2, None])
    np.testing.assert_allclose(both[0], one, rtol=1e-10, atol=1e-12)
    rec = model.predict(
        [t for t, _ in series[:8]], [y for _, y in series[:8]], [t for t, _ in series[:8]], condition=omegas[:8]
    )
    rms = np.sqrt(np.mean([np.mean((p - y) ** 2) for p, (_, y) in zip(rec, series[:8])]))
    assert rms < 0.25, rms  # the posterior follows its series (measured 0.12; amplitudes 0.7-1.3, noise 0.05)
    mean, _ = model.encode(t0, y0, condition=[omegas[0]])
    assert mean.shape == (2,)
    terms = model.elbo_terms(series[:3], condition=omegas[:3])
    assert terms["elbo"].shape == (3,) and np.all(np.isfinite(terms["elbo"]))


def test_xarray_condition_reads_like_the_array(model, data):
    import xarray as xr

    series, omegas = data
    series, omegas = series[:4], omegas[:4]
    times = np.unique(np.concatenate([t for t, _ in series]))
    vals = np.full((times.size, 4, 2), np.nan)
    for j, (t, y) in enumerate(series):
        vals[np.searchsorted(times, t), j] = y
    labels = ["a", "b", "c", "d"]
    ds = xr.Dataset(
        {"y0": (("time", "series"), vals[..., 0]), "y1": (("time", "series"), vals[..., 1]), "w": ("series", omegas)},
        coords={"time": times, "series": labels},
    )
    a = model.elbo_terms(series, condition=omegas, seed=1)["elbo"]
    b = model.elbo_terms(ds, condition="w", seed=1)["elbo"]  # a per-series variable of the Dataset
    c = model.elbo_terms(ds[["y0", "y1"]], condition=ds["w"].isel(series=[3, 2, 1, 0]), seed=1)["elbo"]  # by label
    np.testing.assert_allclose(b, a, rtol=1e-10)
    np.testing.assert_allclose(c, a, rtol=1e-10)


def test_save_load_keeps_the_condition(model, tmp_path):
    model.save(tmp_path / "cond")
    back = ps.load(tmp_path / "cond")
    assert back.config_ == model.config_ and back.n_condition_ == 1
    np.testing.assert_array_equal(back.scaling_.cond_mean, model.scaling_.cond_mean)
    np.testing.assert_array_equal(back.conditions_, model.conditions_)
    np.testing.assert_array_equal(
        back.sample(T, 3, seed=4, condition=[1.1]), model.sample(T, 3, seed=4, condition=[1.1])
    )


def test_latent_sde_takes_a_condition(data, tmp_path):
    """LatentSDE: the condition enters the encoder, both drifts and the decoder (a smoke test: shapes, effect, files)."""
    series, omegas = data
    m = ps.LatentSDE(
        2, encoder_hidden=8, drift_hidden=8, diffusion_hidden=0, context_size=2, decoder_hidden=8, encoder="gru", seed=0
    )
    m.fit(series[:16], condition=omegas[:16], steps=5, batch_size=16)
    assert m.status_.name == "SUCCESS" and m.config_.n_condition == 1
    a, b = m.sample(T, 3, seed=1, condition=[0.9]), m.sample(T, 3, seed=1, condition=[1.5])
    assert a.shape == (3, T.size, 2) and not np.allclose(a, b)
    t0, y0 = series[0]
    p = m.predict(t0, y0, t0, n_samples=2, condition=[omegas[0]])
    assert p.shape == (t0.size, 2) and np.all(np.isfinite(p))
    m.save(tmp_path / "sde")
    back = ps.load(tmp_path / "sde")
    np.testing.assert_array_equal(back.sample(T, 3, seed=1, condition=[0.9]), a)
    with pytest.raises(ps.errors.InputError, match="condition"):
        m.sample(T, 3)
