"""Rosenbrock tableaus: order conditions, stage times, dense output, stability, measured orders."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import problems as P  # noqa: E402

from pysciml.solvers.rosenbrock.rodas4 import RODAS4
from pysciml.solvers.rosenbrock.rodas5p import RODAS5P
from pysciml.solvers.rosenbrock.rosenbrock23 import ROSENBROCK23  # noqa: E402
from pysciml.solvers.rosenbrock.tableau import achieved_order, order_residuals, rooted_trees  # noqa: E402

TABLEAUS = [RODAS5P, RODAS4, ROSENBROCK23]
IDS = [t.name for t in TABLEAUS]


def test_rooted_tree_counts():
    # OEIS A000081: 1, 1, 2, 4, 9, 20 rooted trees with 1..6 vertices
    assert [len(rooted_trees(k)) for k in range(1, 7)] == [1, 1, 2, 4, 9, 20]


@pytest.mark.parametrize("tab", TABLEAUS, ids=IDS)
def test_order_conditions(tab):
    o = tab.original_form()
    res = order_residuals(o["b"], o["alpha"], o["Gamma"], tab.order)
    assert max(abs(v) for v in res.values()) < 1e-12
    res_hat = order_residuals(o["b_hat"], o["alpha"], o["Gamma"], tab.error_order)
    assert max(abs(v) for v in res_hat.values()) < 1e-12
    # and not one order more (the nominal orders are exact)
    assert achieved_order(o["b"], o["alpha"], o["Gamma"]) == tab.order
    assert achieved_order(o["b_hat"], o["alpha"], o["Gamma"]) == tab.error_order


@pytest.mark.parametrize("tab", TABLEAUS, ids=IDS)
def test_stage_times_and_time_derivative_weights(tab):
    o = tab.original_form()
    arr = tab.arrays()
    np.testing.assert_allclose(o["alpha"].sum(axis=1), arr["c"], atol=1e-12)
    np.testing.assert_allclose(o["Gamma"].sum(axis=1), arr["d"], atol=1e-12)
    np.testing.assert_allclose(np.diag(o["Gamma"]), tab.gamma, atol=1e-14)
    assert np.all(np.triu(arr["a"]) == 0) and np.all(np.triu(arr["C"]) == 0)


@pytest.mark.parametrize("tab", TABLEAUS, ids=IDS)
def test_dense_output_conditions(tab):
    o = tab.original_form()
    arr = tab.arrays()
    for theta in (0.1, 0.3, 0.5, 0.8, 1.0):
        w = o["Gamma"].T @ arr["P"] @ theta ** np.arange(arr["P"].shape[1])
        res = order_residuals(w, o["alpha"], o["Gamma"], tab.dense_order, theta)
        assert max(abs(v) for v in res.values()) < 1e-12, theta
    # at theta = 1 the interpolant is the step's solution
    np.testing.assert_allclose(arr["P"].sum(axis=1), arr["m"], atol=1e-12)


@pytest.mark.parametrize("tab", TABLEAUS, ids=IDS)
def test_l_stability_at_infinity(tab):
    # R(z) = 1 + z b^T (I - z B)^-1 1 with B = alpha + Gamma; R(inf) = 1 - b^T B^-1 1
    o = tab.original_form()
    B = o["alpha"] + o["Gamma"]
    r_inf = 1.0 - o["b"] @ np.linalg.solve(B, np.ones(tab.stages))
    assert abs(r_inf) < 1e-12
    # A-stability sampled on the imaginary axis and the left half-plane
    for z in [1j * 10.0 ** k for k in range(-2, 6)] + [-(10.0 ** k) for k in range(-2, 6)]:
        R = 1 + z * o["b"] @ np.linalg.solve(np.eye(tab.stages) - z * B, np.ones(tab.stages))
        assert abs(R) <= 1 + 1e-12


def test_perturbed_tableau_fails_the_check():
    # the checks can fail: a typo in one coefficient breaks the order conditions
    a = [list(r) for r in RODAS5P.a]
    a[3][1] += 1e-6
    bad = dataclasses.replace(RODAS5P, a=tuple(tuple(r) for r in a))
    o = bad.original_form()
    assert achieved_order(o["b"], o["alpha"], o["Gamma"]) < 5


# -- measured convergence orders (fixed steps) ---------------------------------------------
def _fixed_step_errors(tab, ns, save_mid=False):
    import jax
    import jax.numpy as jnp

    from pysciml.engines.jax.rosenbrock.solve import rosenbrock_solve

    jax.config.update("jax_enable_x64", True)
    prob = P.PROBLEMS["smooth"]
    f = P.for_jax(prob)
    T = prob.t1
    run = jax.jit(lambda dt, ts: rosenbrock_solve(f, 0.0, T, jnp.array(prob.y0), jnp.array(prob.p),
                                                  ts, tableau=tab, adaptive=False, dt0=dt,
                                                  max_steps=10_000).ys)
    errs = []
    for n in ns:
        # inside steps: at theta = 0.5 of the steps near 0.4 T and 0.7 T (same theta for every n)
        ts = np.array([(round(0.4 * n) + 0.5) * T / n, (round(0.7 * n) + 0.5) * T / n]) if save_mid \
            else np.array([T])
        exact = np.stack([prob.exact(t, prob.y0, prob.p) for t in ts])
        ys = np.asarray(run(T / n, ts))
        errs.append(np.max(np.abs(ys - exact)))
    return np.array(errs)


@pytest.mark.parametrize("tab", TABLEAUS, ids=IDS)
def test_measured_convergence_order(tab):
    ns = {5: [8, 11, 16, 23, 32], 4: [32, 64, 128, 256], 2: [16, 32, 64, 128]}[tab.order]
    errs = _fixed_step_errors(tab, ns)
    slope = -np.polyfit(np.log(ns), np.log(errs), 1)[0]
    print(tab.name, "measured order", slope, errs)
    assert abs(slope - tab.order) < 0.2, (slope, errs)


@pytest.mark.parametrize("tab", TABLEAUS, ids=IDS)
def test_measured_dense_output_order(tab):
    # the error at save times inside steps: global error (order p) plus the local
    # interpolation error (order dense_order + 1), so the slope is min(p, dense_order + 1)
    ns = {5: [8, 11, 16, 23, 32], 4: [16, 32, 64, 128], 2: [16, 32, 64, 128]}[tab.order]
    errs = _fixed_step_errors(tab, ns, save_mid=True)
    slope = -np.polyfit(np.log(ns), np.log(errs), 1)[0]
    expected = min(tab.order, tab.dense_order + 1)
    print(tab.name, "measured dense-output order", slope, errs)
    assert abs(slope - expected) < 0.3, (slope, errs)
