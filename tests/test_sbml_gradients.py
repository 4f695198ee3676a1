"""Gradients of imported SBML models' outputs with respect to their parameters, and ``fit`` on one.

* Forward mode: ``ps.sensitivity`` and ``jax.jacfwd`` through ``ps.solve(differentiation="forward")``.
* Reverse mode (adjoint): ``jax.grad`` through ``ps.solve`` — the Rosenbrock machine's discrete
  adjoint (Rodas5P) and diffrax's checkpointed adjoint (Dopri5).

Each is compared with central finite differences of ``ps.solve`` at rtol 1e-12 (step 1e-4
relative), on a Hill-type gene cascade exported with ``net.to_sbml()`` and on SBML Test Suite
case 00058 (a local parameter shadowing a global one).  ``fit`` recovers three kinetic
constants of the imported cascade from 2 % noisy libRoadRunner trajectories, with the default
adjoint and with ``ps.Backsolve()`` (continuous adjoint).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pysciml as ps
from pysciml import bio

jax = pytest.importorskip("jax")
pytest.importorskip("libsbml", reason="python-libsbml (sbml extra) reads the SBML")

TIGHT = {"rtol": 1e-12, "atol": 1e-14}
T = np.linspace(0.0, 6.0, 13)
WRT = ("v0", "K", "h", "g1")


@pytest.fixture(scope="module")
def cascade():
    return bio.from_sbml(bio.gene_cascade(n_genes=3).to_sbml())


def _solve(model, params, solver=None, **kw):
    return ps.solve(model, t=T, params=params, solver=solver or ps.Dopri8(), **TIGHT, **kw)


def _fd(model, name: str, output) -> np.ndarray:
    base = float(model.param_specs[name].default)
    h = 1e-4 * abs(base)  # truncation error ~1e-8, solver noise ~ rtol / 1e-4 = 1e-8 (relative)
    plus = output(_solve(model, {name: base + h}))
    minus = output(_solve(model, {name: base - h}))
    return (np.asarray(plus) - np.asarray(minus)) / (2 * h)


def _trajectory(sol):
    return np.asarray(sol.u)


def test_forward_sensitivities_match_finite_differences(cascade):
    sens = ps.sensitivity(cascade, t=T, wrt=WRT, solver=ps.Dopri8(), **TIGHT)
    for name in WRT:
        fd = _fd(cascade, name, _trajectory)
        got = np.asarray(sens["params"][name])
        assert np.abs(fd).max() > 1e-2, name  # the outputs depend on the parameter
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7 * np.abs(fd).max(), err_msg=name)
    # negative control: the sensitivities to two parameters are different functions
    assert not np.allclose(sens["params"]["v0"], sens["params"]["g1"], rtol=1e-2)


def test_jacfwd_through_solve_matches_finite_differences(cascade):
    def final_protein(v0):
        sol = ps.solve(cascade, t=T, params={"v0": v0}, solver=ps.Dopri8(), differentiation="forward", **TIGHT)
        return sol.u[-1]

    got = np.asarray(jax.jacfwd(final_protein)(float(cascade.param_specs["v0"].default)))
    fd = _fd(cascade, "v0", lambda s: np.asarray(s.u)[-1])
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("solver", [ps.Rodas5P, ps.Dopri5], ids=["rodas5p-discrete-adjoint", "dopri5-checkpointed"])
def test_reverse_mode_gradient_matches_finite_differences(cascade, solver):
    weights = np.linspace(0.5, 1.5, len(cascade.sbml.states))

    def loss(p):
        sol = _solve(cascade, dict(zip(WRT, p, strict=True)), solver=solver())
        return (sol.u[-1] * weights).sum() + (sol.u[4] ** 2).sum()

    p0 = np.array([float(cascade.param_specs[n].default) for n in WRT])
    grad = np.asarray(jax.grad(loss)(p0))

    def scalar(sol):
        u = np.asarray(sol.u)
        return (u[-1] * weights).sum() + (u[4] ** 2).sum()

    fd = np.array([_fd(cascade, n, scalar) for n in WRT])
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8 * np.abs(fd).max())


SUITE = Path(__file__).resolve().parents[2] / "shared" / "data" / "sbml-test-suite"
if not SUITE.is_dir():
    SUITE = Path("/work/shared/data/sbml-test-suite")
CASE_00058 = SUITE / "00058" / "00058-sbml-l3v2.xml"


@pytest.mark.skipif(not CASE_00058.exists(), reason=f"SBML Test Suite case 00058 is not at {CASE_00058}")
def test_gradient_with_respect_to_a_local_parameter_matches_finite_differences_and_the_exact_one():
    """S1 -> S2 (k = 1, global), S2 -> S3 (local k = 2, imported as ``reaction2_k``), S1(0) = 3e-4."""
    model = bio.from_sbml(CASE_00058)
    assert {"k", "reaction2_k"} <= set(model.param_names)
    s2 = model.sbml.states.index("S2")

    def final_s2(p):
        return _solve(model, {"k": p[0], "reaction2_k": p[1]}, solver=ps.Rodas5P()).u[-1, s2]

    grad = np.asarray(jax.grad(final_s2)(np.array([1.0, 2.0])))
    fd = np.array([_fd(model, n, lambda s: np.asarray(s.u)[-1, s2]) for n in ("k", "reaction2_k")])
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
    # exact: S2 = a k1 / (k2 - k1) (exp(-k1 t) - exp(-k2 t)), differentiated by sympy
    import sympy

    a, k1, k2, t = sympy.symbols("a k1 k2 t")
    s2_exact = a * k1 / (k2 - k1) * (sympy.exp(-k1 * t) - sympy.exp(-k2 * t))
    at = {a: 3e-4, k1: 1.0, k2: 2.0, t: T[-1]}
    exact = [float(sympy.diff(s2_exact, k).subs(at)) for k in (k1, k2)]
    np.testing.assert_allclose(grad, exact, rtol=1e-7)


@pytest.mark.parametrize("adjoint", [None, ps.Backsolve()], ids=["default-adjoint", "backsolve-continuous-adjoint"])
def test_fit_recovers_kinetic_constants_of_an_imported_model_from_noisy_data(adjoint):
    """Data: libRoadRunner's trajectories of the exported cascade with 2 % noise; the imported
    model starts 30 % off in v0, b1 and g2 and ``fit`` recovers them within 3 % — with the
    default (discrete, checkpointed) adjoint and with the continuous adjoint solved backwards."""
    roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner makes the data")
    text = bio.gene_cascade(n_genes=3).to_sbml()
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = 1e-10, 1e-12
    model = bio.from_sbml(text)
    rr.timeCourseSelections = ["time", *model.sbml.states]  # compartment size 1: amounts = concentrations
    t = np.linspace(0.0, 10.0, 21)
    clean = np.asarray(rr.simulate(0.0, 10.0, len(t)))[:, 1:]
    noisy = clean * (1 + 0.02 * np.random.default_rng(1).standard_normal(clean.shape))
    truth = {n: float(model.param_specs[n].default) for n in ("v0", "b1", "g2")}
    start = {n: v * (1.3 if i % 2 else 0.7) for i, (n, v) in enumerate(truth.items())}
    model.fit(
        (t, noisy),
        params=start,
        fit=list(truth),
        u0=model.u0,
        strategy=ps.SingleShooting(),
        optimizers=[ps.LBFGS(steps=60)],
        solver=ps.Dopri5(),
        adjoint=adjoint,
        verbose=0,
    )
    assert model.status_ is ps.Status.SUCCESS, model.message_
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 0.03 * value, (name, model.params_[name], value)
    assert model.params_["K"] == 1.0  # not fitted


def test_power_exponent_derivative_is_finite_just_below_zero():
    """The jax engine's m.power: d/dy x**y = x**y log|x| (finite at x = -1e-30, 0 at x = 0), also
    at second order; jnp.power gives NaN there (negative control)."""
    import jax.numpy as jnp

    from pysciml.engines.jax.numerics import jax_math

    jax.config.update("jax_enable_x64", True)
    for x in (-1e-30, 0.0, 0.5):
        d = float(jax.grad(lambda y, _x=x: jax_math.power(_x, y))(2.0))
        assert d == pytest.approx(x**2 * np.log(abs(x)) if x else 0.0, rel=1e-12, abs=1e-300)
        dd = float(jax.grad(lambda y, _x=x: jax.grad(lambda b: jax_math.power(b, y))(_x))(2.0))
        assert np.isfinite(dd)
        if x > 0:  # d/dy (y x^(y-1)) = x^(y-1) (1 + y log x)
            assert dd == pytest.approx(x * (1 + 2 * np.log(x)), rel=1e-12)
    assert np.isnan(float(jax.grad(lambda y: jnp.power(-1e-30, y))(2.0)))
