"""ps.solve_ensemble: exact solutions per member, agreement with ps.solve, events and symplectic
solvers per member, memory budgets (batch sizes and the measured peak of a fresh process, with a
negative control), the estimate told after the first batch, the xarray result."""

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import pysciml as ps
from pysciml.engines.jax.cells.batch import MemoryBudgetWarning


def _decay():
    return ps.ODEModel(lambda u, p, t, m: -p.k * u, states=["y"], params={"k": 0.5}, name="decay")


def test_each_member_matches_its_exact_solution():
    rng = np.random.default_rng(1)
    n = 40
    k = rng.uniform(0.1, 2.0, n)
    u0 = rng.uniform(0.5, 3.0, (n, 1))
    t = np.linspace(0.0, 4.0, 9)
    ens = ps.solve_ensemble(_decay(), u0, t=(0.0, 4.0), saveat=t, vary={"k": k}, rtol=1e-10, atol=1e-12)
    assert ens.ok and ens.n_members == n and ens.u.shape == (n, 9, 1)
    exact = u0 * np.exp(-k[:, None] * t[None, :])
    np.testing.assert_allclose(ens["y"], exact, rtol=1e-8, atol=0)
    assert (ens.member_status == 0).all()
    # negative control: a member's parameter out of order breaks the check
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(ens["y"][::-1], exact, rtol=1e-8, atol=0)


def test_members_agree_with_ps_solve_and_the_budget_splits_batches():
    rep = ps.bio.repressilator().to_model()
    rng = np.random.default_rng(0)
    a = rng.uniform(100, 300, 200)
    t = np.linspace(0, 30, 31)
    kw = dict(t=(0, 30), saveat=t, vary={"alpha": a}, solver=ps.Tsit5(), rtol=1e-8, atol=1e-10)
    whole = ps.solve_ensemble(rep, max_memory=None, **kw)
    assert whole.stats["batches"] == 1 and whole.stats["batch_size"] == 200
    budget = whole.stats["predicted_batch_bytes"] // 4
    split = ps.solve_ensemble(rep, max_memory=budget, **kw)
    assert split.stats["batches"] > 1 and split.stats["predicted_batch_bytes"] <= budget
    np.testing.assert_allclose(split.u, whole.u, rtol=1e-12, atol=1e-12)
    for i in (0, 57, 199):
        one = ps.solve(rep, t=(0, 30), saveat=t, params={"alpha": a[i]}, solver=ps.Tsit5(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(whole.u[i], one.u, rtol=1e-12, atol=1e-12)
    assert whole.stats["steps"].shape == (200,) and (whole.stats["steps"] > 0).all()
    # a fixed batch size is kept, and a budget it exceeds only warns
    with pytest.warns(MemoryBudgetWarning, match="lower batch_size"):
        fixed = ps.solve_ensemble(rep, max_memory=budget, batch_size=200, **kw)
    assert fixed.stats["batch_size"] == 200


def test_events_fire_per_member():
    """A bouncing ball per member (own height and restitution): the saved heights follow the exact
    piecewise parabola of each member."""
    g = 9.81
    model = ps.ODEModel(lambda u, p, t, m: [u[1], -p.g], states=["x", "v"], params={"g": g, "e": 0.9})
    bounce = ps.Event(condition=lambda u, p, t, m: u[0], affect=lambda u, p, t, m: {"v": -p.e * u[1]}, direction=-1)
    h0 = np.array([10.0, 5.0, 2.0, 7.5])
    e = np.array([0.9, 0.8, 0.85, 0.95])  # none reaches its accumulation of bounces before t = 5
    t = np.linspace(0.0, 5.0, 51)
    u0 = np.stack([h0, np.zeros(4)], axis=1)
    ens = ps.solve_ensemble(
        model, u0, t=(0.0, 5.0), saveat=t, vary={"e": e}, events=[bounce], solver=ps.Tsit5(), rtol=1e-10, atol=1e-12
    )
    assert ens.ok

    def exact(h, r):
        tb, v = np.sqrt(2 * h / g), np.sqrt(2 * g * h)
        out = np.empty_like(t)
        start, v_up = 0.0, None
        for j, s in enumerate(t):
            while s > tb:  # past the next bounce: the next arc starts there
                start, v_up = tb, (v if v_up is None else v_up) * r
                tb = start + 2 * v_up / g
            dt = s - start
            out[j] = h - 0.5 * g * dt * dt if v_up is None else v_up * dt - 0.5 * g * dt * dt
        return out

    for i in range(4):
        np.testing.assert_allclose(ens["x"][i], exact(h0[i], e[i]), atol=1e-8)
    with pytest.raises(AssertionError):  # negative control: another member's restitution
        np.testing.assert_allclose(ens["x"][1], exact(h0[1], e[0]), atol=1e-8)


def test_symplectic_ensemble_over_initial_states_conserves_each_orbit_s_energy():
    from pysciml import physics as phys

    sky = phys.NBody(np.array([1.0, 1e-3]), G=1.0, dim=2)
    rng = np.random.default_rng(3)
    ecc = rng.uniform(0.0, 0.5, 6)
    u0 = []
    for e in ecc:  # a light body at perihelion of an orbit with eccentricity e (a = 1)
        q = np.array([[0.0, 0.0], [1.0 - e, 0.0]])
        v = np.array([[0.0, 0.0], [0.0, np.sqrt((1.0 + e) / (1.0 - e))]])
        u0.append(sky.state(q, v))
    u0 = np.array(u0)
    t = np.linspace(0.0, 20.0, 21)
    ens = ps.solve_ensemble(sky.model(), u0, t=(0.0, 20.0), saveat=t, solver=ps.Yoshida4(dt=1e-3))
    assert ens.ok and ens.vary == {}
    energy = sky.energy(ens.u)  # (members, times)
    drift = np.abs(energy - energy[:, :1]) / np.abs(energy[:, :1])
    assert drift.max() < 1e-6
    one = ps.solve(sky.model(), u0[4], (0.0, 20.0), saveat=t, solver=ps.Yoshida4(dt=1e-3))
    np.testing.assert_allclose(ens.u[4], one.u, rtol=1e-12, atol=1e-12)
    # a physics ensemble honours a memory budget as a gridded fit does: smaller batches, same orbits
    budget = ens.stats["predicted_batch_bytes"] * 2 // 3  # one orbit alone needs about half of it
    small = ps.solve_ensemble(sky.model(), u0, t=(0.0, 20.0), saveat=t, solver=ps.Yoshida4(dt=1e-3),
                              max_memory=budget)
    assert small.stats["batches"] > 1 and small.stats["predicted_batch_bytes"] <= budget
    np.testing.assert_allclose(small.u, ens.u, rtol=1e-12, atol=1e-12)


def test_the_estimate_is_told_after_the_first_batch(caplog, capsys):
    n = 64
    with caplog.at_level(logging.INFO, logger="pysciml.ensemble"):
        ens = ps.solve_ensemble(_decay(), np.ones((n, 1)), t=(0.0, 1.0), vary={"k": np.linspace(0.1, 1.0, n)},
                                batch_size=16, verbose=1)
    assert ens.stats["batches"] == 4 and ens.stats["estimated_seconds"] >= 0.0
    told = [r.getMessage() for r in caplog.records if r.name == "pysciml.ensemble"]
    assert len(told) == 1 and "16 members/batch x 4" in told[0] and "MiB/batch predicted" in told[0]
    assert "s in all" in told[0] and "peak RSS" in told[0]
    assert "members/batch" in capsys.readouterr().err  # the progress bar's postfix


def test_failed_members_are_reported_and_the_others_kept():
    model = ps.ODEModel(lambda u, p, t, m: p.k * u * u, states=["y"], params={"k": 1.0}, name="blowup")
    k = np.array([0.1, 1.0, 0.2])  # y' = k y^2, y0 = 1 blows up at t = 1/k: member 1 before t = 2
    ens = ps.solve_ensemble(model, [1.0], t=(0.0, 2.0), saveat=[0.5, 2.0], vary={"k": k}, solver=ps.Tsit5())
    assert not ens.ok and ens.member_status[1] != 0 and (ens.member_status[[0, 2]] == 0).all()
    np.testing.assert_allclose(ens["y"][[0, 2], -1], 1.0 / (1.0 - k[[0, 2]] * 2.0), rtol=1e-5)
    assert "1 of 3 members failed" in ens.message


def test_to_xarray_has_members_varied_parameters_and_status():
    ens = ps.solve_ensemble(_decay(), np.array([[1.0], [2.0], [3.0]]), t=(0.0, 1.0), saveat=[0.0, 1.0],
                            vary={"k": [0.1, 0.2, 0.3]})
    ds = ens.to_xarray()
    assert ds["y"].dims == ("member", "time") and ds.sizes["member"] == 3
    np.testing.assert_array_equal(ds["k"].values, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(ds["u0"].values[:, 0], [1.0, 2.0, 3.0])
    assert (ds["status"].values == 0).all() and ds.attrs["varied_parameters"] == "k"
    assert "members=3" in repr(ens) and "vary=['k']" in repr(ens)


_SCRIPT = r"""
import json, sys
import numpy as np
import pysciml as ps
from pysciml.memory import peak_bytes, reset_peak
budget = None if sys.argv[1] == "none" else int(sys.argv[1])
m = ps.bio.metabolic_pathway().to_model()   # 60 species: Rodas5P's Jacobians make a batch large
rng = np.random.default_rng(0)
n = 1024
name = m.param_names[0]
vary = {name: m.default_params()[name] * rng.uniform(0.8, 1.2, n)}
kw = dict(t=(0.0, 1.0), saveat=np.linspace(0.0, 1.0, 11), vary=vary, max_memory=budget, solver=ps.Rodas5P())
ps.solve_ensemble(m, **kw)                  # compile at the batch size the budget gives
assert reset_peak(), "cannot reset the peak (no /proc/self/clear_refs)"
base = peak_bytes()
ens = ps.solve_ensemble(m, **kw)
print(json.dumps({"growth": peak_bytes() - base, "batch": ens.stats["batch_size"],
                  "predicted": ens.stats["predicted_batch_bytes"], "result": ens.u.nbytes, "ok": bool(ens.ok)}))
"""


def _ensemble_growth(budget) -> dict:
    """Peak RSS growth of a 1024-member ensemble, measured by the solving process itself (VmHWM reset
    after a warm-up run: not ``ru_maxrss``, which a child inherits from its parent)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(budget)], capture_output=True, text=True, env=env,
                         timeout=900)
    if out.returncode != 0 and "cannot reset the peak" in out.stderr:
        pytest.skip("this system cannot reset a process's peak RSS (/proc/self/clear_refs)")
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _within(got: dict, budget: int) -> bool:
    # the run's peak above the warmed-up process stays within the budget plus the host copy of the
    # result and allocator slack
    return got["growth"] <= budget + got["result"] + 16 * 2**20


BUDGET = 8 * 2**20


def test_peak_memory_of_an_ensemble_stays_within_a_small_budget():
    got = _ensemble_growth(BUDGET)
    assert got["ok"] and got["batch"] < 1024 and got["predicted"] <= BUDGET  # the budget decided the batch
    assert _within(got, BUDGET), got


def test_without_a_budget_the_same_ensemble_exceeds_it():
    """Negative control for the check above: one batch of all 1024 members (no budget) grows the
    process by more than the budget allows."""
    got = _ensemble_growth("none")
    assert got["ok"] and got["batch"] == 1024 and got["predicted"] > BUDGET
    assert not _within(got, BUDGET), got


_SUITE = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data" / "sbml-test-suite"
CASE_00348 = _SUITE / "00348" / "00348-sbml-l3v2.xml"


@pytest.mark.skipif(not CASE_00348.exists(), reason=f"SBML Test Suite case 00348 is not at {CASE_00348}")
def test_an_sbml_model_s_events_fire_in_every_member():
    """Case 00348 (an event with an assignment): each member equals ps.solve with its own value of C."""
    m = ps.bio.from_sbml(CASE_00348)
    assert m.events and "C" in m.param_names
    t = np.linspace(0.0, 5.0, 11)
    values = np.array([1.0, 1.5, 0.7]) * float(m.default_params()["C"])
    ens = ps.solve_ensemble(m, t=(0.0, 5.0), saveat=t, vary={"C": values}, rtol=1e-10, atol=1e-12)
    assert ens.ok
    for i, v in enumerate(values):
        one = ps.solve(m, t=(0.0, 5.0), saveat=t, params={"C": v}, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ens.u[i], one.u, rtol=1e-12, atol=1e-12)
    assert np.abs(ens.u[0] - ens.u[1]).max() > 1e-6  # the members differ (else the check proves nothing)
