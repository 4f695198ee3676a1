"""Top-of-atmosphere insolation for the energy-balance models (W m-2).

* :func:`p2_insolation`: the annual mean approximated by the second Legendre polynomial,
  ``S0/4 (1 + s2 P2(sin lat))`` (North 1975; ``s2 = -0.48`` for the present Earth).
* :func:`daily_insolation`: the daily-mean insolation of Berger (1978), from the orbital
  elements (eccentricity, obliquity, longitude of perihelion).  The day of the year is turned
  into the true solar longitude by Berger's series for Kepler's equation (day 80 is the
  March equinox, ``lambda = 0``); the daily mean of the cosine of the zenith angle is
  ``(h0 sin phi sin delta + cos phi cos delta sin h0) / pi`` with ``h0`` the hour angle at
  sunset (``pi`` in polar day, 0 in polar night).
* :func:`annual_mean_insolation`: the mean of :func:`daily_insolation` over evenly spaced days.

Every function takes a math namespace ``m`` (numpy by default; the engine's ``m`` inside a
model's physics), so the seasonal model evaluates the same formula under jax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...numerics import numpy_math

__all__ = ["Orbit", "DAYS_PER_YEAR", "p2_insolation", "daily_insolation", "annual_mean_insolation", "legendre_p2"]

#: Length of the (tropical) year in days, the model's time unit is this year.
DAYS_PER_YEAR = 365.2422
#: Day of the year of the March equinox in the calendar-day convention used here.
EQUINOX_DAY = 80.0


@dataclass(frozen=True)
class Orbit:
    """Orbital elements: eccentricity, obliquity (degrees) and longitude of perihelion (degrees).

    The defaults are the present-day values (Berger 1978), the ones climlab uses.
    """

    eccentricity: float = 0.017236
    obliquity: float = 23.446
    perihelion: float = 281.37


def legendre_p2(x, m=numpy_math):
    """The second Legendre polynomial ``(3 x^2 - 1) / 2``."""
    return 1.5 * x * x - 0.5


def p2_insolation(lat_deg, S0, s2: float = -0.48, m=numpy_math):
    """Annual-mean insolation ``S0/4 (1 + s2 P2(sin lat))`` at latitudes in degrees."""
    x = m.sin(np.deg2rad(np.asarray(lat_deg, dtype=float)))
    return S0 / 4.0 * (1.0 + s2 * legendre_p2(x, m))


def solar_longitude(day, orbit: Orbit, m=numpy_math):
    """True solar longitude (radians, 0 at the March equinox) on calendar ``day``."""
    e = orbit.eccentricity
    w = np.deg2rad(orbit.perihelion)
    beta = np.sqrt(1.0 - e * e)
    # mean longitude at the equinox (Berger 1978, section 3), then the equation of the centre
    lm0 = -2.0 * (
        (e / 2 + e**3 / 8) * (1 + beta) * np.sin(-w)
        - e**2 / 4 * (0.5 + beta) * np.sin(-2 * w)
        + e**3 / 8 * (1 / 3 + beta) * np.sin(-3 * w)
    )
    lm = lm0 + (day - EQUINOX_DAY) * (2 * np.pi / DAYS_PER_YEAR)
    return (
        lm
        + (2 * e - e**3 / 4) * m.sin(lm - w)
        + 1.25 * e**2 * m.sin(2 * (lm - w))
        + 13.0 / 12.0 * e**3 * m.sin(3 * (lm - w))
    )


def daily_insolation(lat_deg, day, S0, orbit: Orbit | None = None, m=numpy_math):
    """Daily-mean insolation (W m-2) at latitudes ``lat_deg`` on calendar ``day``.

    ``lat_deg`` and ``day`` broadcast against each other (numpy rules).
    """
    orbit = orbit or Orbit()
    phi = np.deg2rad(np.asarray(lat_deg, dtype=float))
    lam = solar_longitude(day, orbit, m)
    delta = m.arcsin(np.sin(np.deg2rad(orbit.obliquity)) * m.sin(lam))
    # Earth-Sun distance over the semi-major axis, and the hour angle of sunset
    rho = (1.0 - orbit.eccentricity**2) / (1.0 + orbit.eccentricity * m.cos(lam - np.deg2rad(orbit.perihelion)))
    arg = -m.tan(phi) * m.tan(delta)
    h0 = m.where(arg <= -1.0, np.pi, m.where(arg >= 1.0, 0.0, m.arccos(m.clip(arg, -1.0, 1.0))))
    coszen = (h0 * m.sin(phi) * m.sin(delta) + m.cos(phi) * m.cos(delta) * m.sin(h0)) / np.pi
    return S0 * m.maximum(coszen, 0.0) / (rho * rho)


def annual_mean_insolation(lat_deg, S0, orbit: Orbit | None = None, *, n_days: int = 90) -> np.ndarray:
    """Mean of :func:`daily_insolation` over ``n_days`` evenly spaced days from day 0 (numpy)."""
    days = np.arange(n_days) * (DAYS_PER_YEAR / n_days)
    lat = np.asarray(lat_deg, dtype=float)
    return np.mean(daily_insolation(lat[:, None], days[None, :], S0, orbit), axis=1)
