"""Fuzzed option values (hypothesis): every public option object either builds or raises a
:class:`PySciMLError` naming its argument, never another exception (issue 19, item 3, first part)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the test extra")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import pysciml as ps  # noqa: E402
from pysciml.errors import PySciMLError  # noqa: E402

CLASSES = [ps.Adam, ps.LBFGS, ps.LevenbergMarquardt, ps.MultipleShooting, ps.Collocation, ps.GrowingHorizon,
           ps.GaussianNLL, ps.Auto, ps.GMRES, ps.Checkpointed, ps.Gauss, ps.Polynomial, ps.Fourier]

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
    st.lists(st.floats(allow_nan=True), max_size=3), st.just(np.float32(0.5)), st.just(np.int64(3)),
)


def _build(cls, field, value):
    try:
        cls(**{field: value})
    except PySciMLError as exc:
        assert exc.argument, str(exc)
        assert field in str(exc) or cls.__name__ in str(exc) or exc.argument in str(exc), str(exc)


FIELDS = [(cls, f.name) for cls in CLASSES for f in dataclasses.fields(cls) if f.init]


@pytest.mark.parametrize("cls, field", FIELDS, ids=[f"{c.__name__}.{f}" for c, f in FIELDS])
@settings(max_examples=60, deadline=None, derandomize=True)
@given(value=VALUES)
def test_option_values_build_or_name_the_argument(cls, field, value):
    _build(cls, field, value)


@pytest.mark.slow
@pytest.mark.parametrize("cls, field", FIELDS, ids=[f"{c.__name__}.{f}" for c, f in FIELDS])
@settings(max_examples=1000, deadline=None)
@given(value=VALUES)
def test_option_values_long_run(cls, field, value):
    _build(cls, field, value)
