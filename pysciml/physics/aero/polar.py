"""``panel_method``: an inviscid polar of a section as xarray; ``panel_coefficients``: the same in jax."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np
import xarray as xr

from ...errors import InputError
from ..tracing import is_traced
from .geometry import Airfoil
from .panels import coefficients_jit

#: Largest |angle of attack| (degrees) taken without a warning: beyond it an inviscid polar means
#: little (real sections stall near 15 degrees) and the angles are more likely in the wrong units.
RADIANS_SUSPECT_DEG = 30.0


class AngleUnitsWarning(UserWarning):
    """An angle of attack beyond ±30 degrees: perhaps not in degrees (radians mixed with degrees)."""


def _check_foil(foil) -> Airfoil:
    if not isinstance(foil, Airfoil):
        raise InputError(f"must be a physics.Airfoil (Airfoil.naca('2412')), got {type(foil).__name__}.",
                         argument="foil")  # fmt: skip
    return foil


def _alpha_radians(alpha_deg):
    if is_traced(alpha_deg):
        return jnp.deg2rad(jnp.atleast_1d(alpha_deg))
    a = np.atleast_1d(np.asarray(alpha_deg, dtype=float))
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise InputError(f"must be a finite angle or 1-D array of angles in degrees, got shape {a.shape}.",
                         argument="alpha_deg")  # fmt: skip
    worst = float(np.max(np.abs(a)))
    if worst > RADIANS_SUSPECT_DEG:
        warnings.warn(
            f"alpha_deg reaches {worst:g} degrees, beyond ±{RADIANS_SUSPECT_DEG:g}: are the angles in degrees? "
            "(np.degrees(alpha) converts radians; degrees converted twice look like this.) An inviscid panel "
            "method knows nothing of stall, so results this far out mean little anyway.",
            AngleUnitsWarning,
            stacklevel=3,
        )
    return jnp.deg2rad(jnp.asarray(a))


def panel_coefficients(foil: Airfoil, alpha_deg, *, kutta: bool = True):
    """Lift and pitching-moment coefficients ``(Cl, Cm)`` as jax arrays of shape ``(k,)``; differentiable.

    Use inside ``jax.grad`` / ``jax.vmap`` (shape parameters through :meth:`Airfoil.naca4`).

    Args:
        foil: the section.
        alpha_deg: angle(s) of attack (degrees), scalar or ``(k,)``.
        kutta: enforce the Kutta condition (``False`` only as a demonstration of why it is needed:
            zero circulation instead, hence no lift).
    """
    foil = _check_foil(foil)
    cl, cm, _, _ = coefficients_jit(jnp.asarray(foil.x), jnp.asarray(foil.y), _alpha_radians(alpha_deg),
                                    foil.chord, foil.moment_point, kutta=kutta,
                                    open_te=foil.open_trailing_edge)  # fmt: skip
    return cl, cm


def panel_method(foil: Airfoil, alpha_deg, *, kutta: bool = True) -> xr.Dataset:
    """Inviscid polar of a 2-D section by the linear-strength vortex panel method with the Kutta condition.

    Args:
        foil: the section (:meth:`Airfoil.naca`, :meth:`Airfoil.naca4`, :meth:`Airfoil.circle`, ...).
        alpha_deg: angle(s) of attack (degrees), scalar or ``(k,)``; beyond ±30 an
            :class:`AngleUnitsWarning` (radians passed as degrees?).
        kutta: as in :func:`panel_coefficients`.

    Returns:
        Dataset over ``alpha`` (degrees) and ``point`` (panel midpoints): ``Cl (alpha)`` from the
        circulation (Kutta-Joukowski), ``Cm (alpha)`` about ``foil.moment_point`` (the quarter chord,
        positive nose up), ``Cl_pressure (alpha)`` from integrating ``Cp`` (a consistency check) and
        ``Cp (alpha, point)``, with coordinates ``x``, ``y`` (chords) and ``surface`` of each point.
    """
    foil = _check_foil(foil)
    if is_traced((foil.x, foil.y, alpha_deg)):
        raise InputError("cannot be traced into xarray; call panel_coefficients(...) inside jax transforms.",
                         argument="panel_method")  # fmt: skip
    alpha = _alpha_radians(alpha_deg)
    x, y = jnp.asarray(foil.x, dtype=float), jnp.asarray(foil.y, dtype=float)
    cl, cm, cp, cl_p = (np.asarray(v) for v in coefficients_jit(x, y, alpha, foil.chord, foil.moment_point,
                                                                  kutta=kutta, open_te=foil.open_trailing_edge))  # fmt: skip
    xm, ym = np.asarray(0.5 * (x[:-1] + x[1:])), np.asarray(0.5 * (y[:-1] + y[1:]))
    leading = int(np.argmin(np.asarray(x)))
    surface = np.where(np.arange(xm.size) < leading, "upper", "lower")
    one = {"units": "1"}
    coords = {
        "alpha": ("alpha", np.degrees(np.asarray(alpha)), {"units": "degree", "long_name": "angle of attack"}),
        "x": ("point", xm, {"units": "chord", "long_name": "panel midpoint x"}),
        "y": ("point", ym, {"units": "chord", "long_name": "panel midpoint y"}),
        "surface": ("point", surface, {"long_name": "upper or lower surface"}),
    }
    data = {
        "Cl": ("alpha", cl, {**one, "long_name": "lift coefficient (Kutta-Joukowski)"}),
        "Cm": ("alpha", cm, {**one, "long_name": f"pitching moment coefficient about {foil.moment_point}, nose up"}),
        "Cl_pressure": ("alpha", cl_p, {**one, "long_name": "lift coefficient from the integrated pressure"}),
        "Cp": (("alpha", "point"), cp, {**one, "long_name": "surface pressure coefficient at panel midpoints"}),
    }
    attrs = {
        "model": "linear-strength vortex panel method" + (" with the Kutta condition" if kutta else " (no Kutta)"),
        "airfoil": foil.name,
        "n_panels": foil.n_panels,
        "chord": float(foil.chord),
        "inviscid": "yes: no drag, no stall",
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)
