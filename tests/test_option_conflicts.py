"""Options that used to be accepted and then ignored or misread (issue 19), and the combinations that
still mean something.  The refusals themselves are rows of the bad-input table (area ``options``)."""

from __future__ import annotations

import numpy as np
import pytest

import pysciml as ps
from pysciml.training.losses import to_unconstrained


def _decay(u, p, t, m):
    return -p.k * u


def test_infinite_bounds_are_open_ends_not_nan():
    # negative control: the transform with an infinite pair of ends gives NaN, which a fit then used
    with np.errstate(invalid="ignore"):
        assert np.isnan(to_unconstrained(0.3, (-np.inf, np.inf)))
    model = ps.ODEModel(_decay, ["y"], {"k": ps.Param(0.3, bounds=(-np.inf, np.inf))})
    assert model.param_specs["k"].bounds is None
    half = ps.ODEModel(_decay, ["y"], {"k": ps.Param(0.3, bounds=(0.0, np.inf))})
    assert half.param_specs["k"].bounds == (0.0, None)
    t = np.linspace(0.0, 2.0, 12)
    model.fit((t, np.exp(-0.7 * t)), fit_u0=False, u0=[1.0], strategy=ps.SingleShooting(),
              optimizers=[ps.LBFGS(steps=50)], verbose=0)
    assert model.params_["k"] == pytest.approx(0.7, rel=1e-4)


@pytest.mark.parametrize("make", [
    lambda: ps.Auto(stiff_hint=True, linsolve="sparse"),
    lambda: ps.Auto(linsolve=ps.DenseLU()),
    lambda: ps.Adam(steps=10, patience=5, min_delta=0.0),
    lambda: ps.Adam(steps=1e3),  # an integral float still counts as a step count
    lambda: ps.GMRES(preconditioner="jacobi", restart=5),
    lambda: ps.Checkpointed(checkpoints=None),
    lambda: ps.GaussianNLL(sigma=[0.1, 0.2]),
    lambda: ps.MLP(2, 1, inputs=["x", "y"], last_layer_scale=0.0),
    lambda: ps.Collocation(smoothing=0),
], ids=["auto-stiff-sparse", "auto-dense", "adam-patience", "adam-float-steps", "gmres-jacobi",
        "checkpointed-none", "nll-per-state", "mlp-zero-scale", "collocation-zero-smoothing"])
def test_meaningful_combinations_are_accepted(make):
    make()


def test_option_checks_name_the_argument_and_allow_none():
    from pysciml.errors import InputError
    from pysciml.options import check_bool, check_int, check_number

    check_int(None, "x", allow_none=True)
    check_number(0.5, "x", low=0, high=1)
    check_bool(np.bool_(True), "x")
    for call in (lambda: check_int(np.True_, "x"), lambda: check_number(1.0, "x", low=0, high=1, high_open=True),
                 lambda: check_number(np.nan, "x"), lambda: check_bool(1, "x")):
        with pytest.raises(InputError) as info:
            call()
        assert info.value.argument == "x"
