"""The energy-balance model's output fitted band by band with the gridded ``.sciml`` accessor.

Without ice, a uniform step forcing F (outgoing longwave ``A - F + B T``) excites only the
global-mean Legendre mode, which diffusion does not act on, so every latitude band answers
exactly as ``dT/dt = lam (amp - T)`` with ``lam = B / C`` (per year) and ``amp = F / B``: a
per-band relaxation fit must find those two numbers in every band.  With the ice-albedo
feedback on, the answer differs from band to band (negative control: the same fit then spreads).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")
import pysciml as ps  # noqa: E402
from pysciml import physics as phys  # noqa: E402
from pysciml.physics.climate.energy_balance import SECONDS_PER_YEAR  # noqa: E402

FORCING = 4.0  # W m-2


def _relax(u, p, t, m):
    return [p.lam * (p.amp - u[0])]


RELAX = ps.ODEModel(_relax, states=["dT"], params={"lam": 1.0, "amp": 1.0})


def _step_response(ebm):
    """Temperature anomaly (time, lat) after the forcing is switched on at equilibrium."""
    eq = ebm.equilibrium()
    t = np.linspace(0.0, 4.0, 33)
    run = ebm.simulate(t, eq.temperature.values, params={"A": ebm.A - FORCING})
    return (run - eq.temperature.values).rename("dT")


def test_each_band_gives_back_the_feedback_and_heat_capacity():
    ebm = phys.EnergyBalance1D(n_lat=18, ai=None)
    anom = _step_response(ebm)
    assert anom.dims[0] == "time" and anom.sizes["lat"] == 18
    res = anom.sciml.fit(RELAX, verbose=0)
    assert (res["status"] == 0).all()
    lam = ebm.B * SECONDS_PER_YEAR / ebm.heat_capacity  # per year (about 1.5)
    np.testing.assert_allclose(res["lam"].values, lam, rtol=1e-5)  # measured 1.6e-7
    np.testing.assert_allclose(res["amp"].values, FORCING / ebm.B, rtol=1e-5)  # measured 1.2e-8


def test_with_ice_the_bands_answer_differently():
    """Negative control: the ice-albedo feedback makes the response depend on latitude, so the
    same per-band fit no longer finds one feedback everywhere."""
    ebm = phys.EnergyBalance1D(n_lat=18)
    res = _step_response(ebm).sciml.fit(RELAX, verbose=0)
    amp = res["amp"].values[np.isfinite(res["amp"].values)]
    assert amp.max() / amp.min() > 2  # measured 3.7: 3.4 K at the equator, 12.7 K near the poles
