"""Notebook display: ``_repr_html_`` of Solution, fitted estimators and Equations."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import pysciml as ps


def _decay(u, p, t, m):
    return -p.k * u


def _text(markup: str) -> str:
    """The visible text of an HTML snippet."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def _rows(markup: str) -> list[list[str]]:
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", markup)]


def test_solution_html():
    model = ps.ODEModel(_decay, ["y"], {"k": 0.5}, name="decay<1>")
    sol = ps.solve(model, [2.0], np.linspace(0, 2, 5))
    out = sol._repr_html_()
    assert "decay&lt;1&gt;" in out and "<script" not in out  # names are escaped
    assert "SUCCESS" in out and "5 saved points" in _text(out)
    (row,) = [r for r in _rows(out) if r]
    assert row[0] == "y" and row[1] == "scalar" and float(row[2]) == pytest.approx(2 * np.exp(-1.0), rel=1e-5)


def test_fitted_estimator_html_has_parameters_with_standard_errors():
    t = np.linspace(0, 3, 20)
    y = np.exp(-0.8 * t) * (1 + 0.02 * np.random.default_rng(0).standard_normal(t.size))
    model = ps.ODEModel(_decay, ["y"], {"k": 0.3, "c": ps.Param(1.0, fixed=True)}, name="decay")
    assert "not fitted" in model._repr_html_()
    model.fit((t, y), u0=[1.0], strategy=ps.SingleShooting(), optimizers=[ps.LBFGS(steps=60)], verbose=0)
    out = model._repr_html_()
    rows = {r[0]: r for r in _rows(out) if r}
    assert float(rows["k"][1]) == pytest.approx(model.params_["k"], rel=1e-5)
    assert float(rows["k"][2]) == pytest.approx(model.param_std_["k"], rel=1e-2)
    assert model.status_.name in out and f"{model.loss_:.6g}" in _text(out)


def test_equations_html_is_latex():
    pytest.importorskip("sympy")
    X = np.random.default_rng(0).uniform(-1, 1, (60, 2))
    Y = (1.5 * X[:, 0] * X[:, 1])[:, None]
    eqs = ps.discover(X, Y, input_names=["prey", "predator"], output_name="nn", threshold=0.1)
    out = eqs._repr_html_()
    assert re.search(r"\$\$nn_\{0\} = 1\.5 .*prey.*\$\$", out)
    (row,) = [r for r in _rows(out) if r]
    assert float(row[1]) == pytest.approx(1.0) and row[3] == "1"
