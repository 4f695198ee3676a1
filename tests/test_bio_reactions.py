"""ps.bio reaction networks: stoichiometry, conservation laws, exact solutions, gradients,
compartments, the ready gene-regulatory models, both engines' views of the physics, and
libRoadRunner's trajectories of the repressilator."""

from __future__ import annotations

import subprocess
import sys

import jax
import numpy as np
import pytest
import sympy

import pysciml as ps
from pysciml import bio
from pysciml.data.ingest import DataWarning

TIGHT = {"rtol": 1e-11, "atol": 1e-13, "solver": ps.Dopri5()}  # non-stiff; cheapest to compile


def _michaelis_menten(open_enzyme: bool = False) -> bio.ReactionNetwork:
    net = bio.ReactionNetwork("mm")
    net.parameters(kf=1.0, kr=0.5, kcat=0.3)
    net.reaction("E + S <-> ES", k=("kf", "kr"), name="binding")
    net.reaction("ES -> E + P", k="kcat", name="catalysis")
    if open_enzyme:
        net.reaction("0 -> E", k=0.1, name="synthesis")  # negative control: enzyme no longer conserved
    return net


# -- structure ----------------------------------------------------------------------------------------
def test_stoichiometry_of_michaelis_menten():
    net = _michaelis_menten()
    assert net.species_names == ("E", "S", "ES", "P")
    np.testing.assert_array_equal(net.stoichiometry, [[-1, 1], [-1, 0], [1, -1], [0, 1]])
    two = bio.ReactionNetwork()
    two.parameter("k", 1.0)
    two.reaction("2 A + B -> 3/2 C + A", k="k")
    np.testing.assert_array_equal(two.stoichiometry, [[-1], [-1], [1.5]])
    assert str(two.reactions[0].equation) == "2 A + B -> 3/2 C + A"


def _spans(basis: np.ndarray, known: np.ndarray) -> bool:
    r = np.linalg.matrix_rank
    return r(basis) == r(np.vstack([basis, known])) == r(known)


def test_conservation_laws_found_for_a_known_network_and_not_for_an_open_one():
    net = _michaelis_menten()
    laws = net.conservation_laws()
    assert laws.dtype.kind == "i" and laws.shape == (2, 4)
    assert not np.any(laws @ net.stoichiometry)
    # total enzyme E + ES and total substrate S + ES + P
    assert _spans(laws, np.array([[1, 0, 1, 0], [0, 1, 1, 1]]))
    # negative control: enzyme synthesis leaves only the substrate law
    open_net = _michaelis_menten(open_enzyme=True)
    laws = open_net.conservation_laws()
    assert laws.shape == (1, 4) and _spans(laws, np.array([[0, 1, 1, 1]]))
    chain = bio.ReactionNetwork()
    chain.parameters(k=1.0)
    chain.reaction("0 -> A", k="k")
    chain.reaction("A -> B", k="k")
    chain.reaction("B -> 0", k="k")
    assert chain.conservation_laws().shape == (0, 2)
    # non-unit coefficients: 2 H2 + O2 -> 2 H2O conserves H (2 H2 + 2 H2O) and O (2 O2 + H2O)
    water = bio.ReactionNetwork()
    water.parameter("k", 1.0)
    water.reaction("2 H2 + O2 -> 2 H2O", k="k")
    assert _spans(water.conservation_laws(), np.array([[1, 0, 1], [0, 2, 1]]))


def test_conserved_totals_hold_along_a_solution():
    model = _michaelis_menten().to_model()
    sol = ps.solve(model, [1.0, 5.0, 0.0, 0.0], (0.0, 20.0), **TIGHT)
    totals = np.asarray(sol.u) @ _michaelis_menten().conservation_laws().T
    np.testing.assert_allclose(totals, np.broadcast_to(totals[0], totals.shape), rtol=0, atol=1e-10)


# -- exact solutions and gradients ------------------------------------------------------------------
def test_reversible_first_order_matches_the_exact_solution():
    net = bio.ReactionNetwork()
    net.parameters(kf=2.0, kr=0.5)
    net.reaction("A <-> B", k=("kf", "kr"))
    net.species("A", 1.0)
    net.species("B", 0.25)
    t = np.linspace(0, 3, 13)
    sol = ps.solve(net.to_model(), t=t, **TIGHT)
    total, s = 1.25, 2.5
    a = (0.5 * total + (2.0 * 1.0 - 0.5 * 0.25) * np.exp(-s * t)) / s
    np.testing.assert_allclose(np.asarray(sol.u), np.c_[a, total - a], rtol=1e-9, atol=1e-12)


def _chain():
    net = bio.ReactionNetwork("chain")
    net.parameters(k1=1.3, k2=0.4)
    net.reaction("A -> B", k="k1")
    net.reaction("B -> C", k="k2")
    net.species("A", 2.0)
    return net.to_model()


def _b_exact(k1, k2, t, a0=2.0):
    return k1 * a0 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t))


def test_sequential_chain_exact_solution_and_gradient_vs_finite_differences():
    model = _chain()
    t = np.linspace(0, 5, 11)

    def b_at(k1, k2):
        return ps.solve(model, t=t, params={"k1": k1, "k2": k2}, **TIGHT).u[:, 1]

    np.testing.assert_allclose(b_at(1.3, 0.4), _b_exact(1.3, 0.4, t), rtol=1e-9, atol=1e-12)
    g = jax.grad(lambda k1, k2: b_at(k1, k2)[4], argnums=(0, 1))(1.3, 0.4)  # t = 2
    eps = 1e-5
    fd = [(_b_exact(1.3 + eps, 0.4, 2.0) - _b_exact(1.3 - eps, 0.4, 2.0)) / (2 * eps),
          (_b_exact(1.3, 0.4 + eps, 2.0) - _b_exact(1.3, 0.4 - eps, 2.0)) / (2 * eps)]
    np.testing.assert_allclose(g, fd, rtol=1e-7)
    fd_solve = (float(b_at(1.3 + eps, 0.4)[4]) - float(b_at(1.3 - eps, 0.4)[4])) / (2 * eps)
    np.testing.assert_allclose(g[0], fd_solve, rtol=1e-6)


def _two_compartments() -> bio.ReactionNetwork:
    net = bio.ReactionNetwork()
    net.compartment("cytoplasm", 2.0)
    net.compartment("nucleus", 0.5)
    net.parameter("k", 0.7)
    net.species("A_cyt", 1.0, compartment="cytoplasm")
    net.species("A_nuc", 0.0, compartment="nucleus")
    net.reaction("A_cyt -> A_nuc", k="k", compartment="cytoplasm")
    return net


def test_compartments_scale_fluxes_by_volume_and_conserve_amounts():
    model = _two_compartments().to_model()
    assert set(model.param_names) == {"k", "cytoplasm", "nucleus"}
    t = np.linspace(0, 4, 9)
    u = np.asarray(ps.solve(model, t=t, **TIGHT).u)
    cyt = np.exp(-0.7 * t)
    np.testing.assert_allclose(u[:, 0], cyt, rtol=1e-9)
    np.testing.assert_allclose(u[:, 1], (1 - cyt) * 2.0 / 0.5, rtol=1e-9, atol=1e-12)  # 4x concentrated
    np.testing.assert_allclose(u @ [2.0, 0.5], 2.0, rtol=1e-10)  # amounts conserved
    # the volume is a parameter: doubling the nucleus halves its concentration
    u2 = np.asarray(ps.solve(model, t=t, params={"nucleus": 1.0}, **TIGHT).u)
    np.testing.assert_allclose(u2[:, 1], u[:, 1] / 2, rtol=1e-9, atol=1e-12)


# -- rate laws ------------------------------------------------------------------------------------------
def test_text_function_and_mass_action_rate_laws_agree():
    def build(kind):
        net = bio.ReactionNetwork()
        net.parameters(k=0.8, K=0.3)
        net.species("S", 2.0)
        if kind == "text":
            net.reaction("S + E -> E + P", "k * E * S / (K + S)")
        else:
            net.reaction("S + E -> E + P", lambda c, p, t, m: p.k * c["E"] * c["S"] / (p.K + c["S"]))
        net.species("E", 0.1)
        return net

    a, b = build("text").to_model(), build("function").to_model()
    u0 = np.array([2.0, 0.1, 0.0])
    np.testing.assert_allclose(a.rhs_numpy(u0), b.rhs_numpy(u0), rtol=1e-15)
    np.testing.assert_allclose(a.rhs_numpy(u0), [-0.8 * 0.1 * 2 / 2.3, 0, 0.8 * 0.1 * 2 / 2.3], rtol=1e-14)
    S, E, k, K = sympy.symbols("S E k K")
    assert sympy.simplify(build("text").rate_law("r1") - k * E * S / (K + S)) == 0
    assert sympy.simplify(_michaelis_menten().rate_law("binding") - (sympy.Symbol("kf") * E * S
                                                                      - sympy.Symbol("kr") * sympy.Symbol("ES"))) == 0


def test_hill_helpers_text_and_values_agree():
    x = np.array([0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(bio.hill_activation(x, 1.0, 2.0), x**2 / (1 + x**2))
    np.testing.assert_allclose(bio.hill_repression(x, 1.0, 2.0), 1 / (1 + x**2))
    assert bio.hill_activation(2.0, 2.0, 4) == bio.hill_repression(2.0, 2.0, 4) == 0.5
    for helper in (bio.hill_activation, bio.hill_repression):
        net = bio.ReactionNetwork()
        net.parameters(K=0.7, n=2.5)
        net.reaction("0 -> Y", helper("X", "K", "n"))
        net.species("X", 1.3, constant=True)
        np.testing.assert_allclose(net.to_model().rhs_numpy([0.0]), helper(1.3, 0.7, 2.5), rtol=1e-14)


def test_time_in_a_rate_law_and_constant_species_are_parameters():
    net = bio.ReactionNetwork()
    net.species("I", 2.0, constant=True)
    net.reaction("0 -> A", "I * time")
    model = net.to_model()
    assert model.state_names == ("A",) and "I" in model.param_names
    u = ps.solve(model, [0.0], (0.0, 2.0), saveat=[2.0], params={"I": 3.0}, **TIGHT).u
    np.testing.assert_allclose(u[-1, 0], 3.0 * 2.0**2 / 2, rtol=1e-10)


def test_dosing_events_on_a_network_model():
    """ps.At doses act on the network's states by species name (events are ps.solve's, unchanged)."""
    model = _chain()
    dose = ps.At([1.0, 2.0], affect=lambda u, p, t, m: {"A": u[0] + 1.0, "B": u[1], "C": u[2]}, name="dose")
    t = np.array([0.0, 1.0, 2.0, 3.0])
    sol = ps.solve(model, t=t, events=[dose], **TIGHT)
    a1 = 2.0 * np.exp(-1.3) + 1.0
    a2 = a1 * np.exp(-1.3) + 1.0
    np.testing.assert_allclose(np.asarray(sol.u)[:, 0], [2.0, a1, a2, a2 * np.exp(-1.3)], rtol=1e-9)
    np.testing.assert_allclose(np.asarray(sol.u)[-1].sum(), 4.0, rtol=1e-10)  # two doses of 1 added to 2


# -- ready models -------------------------------------------------------------------------------------
def _toggle_fixed_point_residual(u, v, a1=10.0, a2=10.0, b=2.0, g=2.0):
    return max(abs(a1 / (1 + v**b) - u), abs(a2 / (1 + u**g) - v))


def test_toggle_switch_is_bistable_and_monostable_without_cooperativity():
    model = bio.toggle_switch().to_model()
    ends = []
    for u0 in ([5.0, 0.0], [0.0, 5.0]):
        sol = ps.solve(model, u0, (0.0, 60.0), saveat=[60.0], **TIGHT)
        u, v = np.asarray(sol.u)[-1]
        assert _toggle_fixed_point_residual(u, v) < 1e-9
        ends.append((u, v))
    (u1, v1), (u2, v2) = ends
    assert u1 > 9.8 and v1 < 0.11 and u2 < 0.11 and v2 > 9.8  # two distinct steady states
    np.testing.assert_allclose([u1, v1], [v2, u2], rtol=1e-8)  # mirror images (symmetric parameters)
    # negative control: Hill coefficients 1 -> a single stable state, reached from both sides
    mono = bio.toggle_switch(beta=1.0, gamma=1.0).to_model()
    a, b = (np.asarray(ps.solve(mono, u0, (0.0, 60.0), saveat=[60.0], **TIGHT).u)[-1]
            for u0 in ([5.0, 0.0], [0.0, 5.0]))
    fixed = (np.sqrt(41.0) - 1) / 2  # u = v, u (1 + u) = 10
    np.testing.assert_allclose([a, b], fixed, rtol=1e-5)  # still creeping in (eigenvalue ~ -0.27)


def test_repressilator_oscillates_with_the_papers_period():
    net = bio.repressilator()
    assert net.species_names == ("m1", "m2", "m3", "p1", "p2", "p3")
    assert net.conservation_laws().shape == (0, 6)
    t = np.linspace(0, 100, 2001)
    p1 = np.asarray(ps.solve(net.to_model(), t=t, rtol=1e-8, atol=1e-10, solver=ps.Dopri5()).u)[:, 3]
    late = t > 50
    peaks = np.where(late[1:-1] & (p1[1:-1] > p1[:-2]) & (p1[1:-1] > p1[2:]))[0] + 1
    assert len(peaks) >= 3 and p1[peaks].min() > 10 * p1[late].min()  # sustained large oscillation
    period = np.diff(t[peaks]).mean()
    assert 5.0 < period < 15.0, period  # about 3 x 2.7 mRNA lifetimes for alpha=216, beta=5
    # negative control: weak repression (alpha small) settles to a fixed point
    calm = np.asarray(ps.solve(bio.repressilator(alpha=1.0).to_model(), t=t, rtol=1e-8, atol=1e-10, solver=ps.Dopri5()).u)[late, 3]
    assert np.ptp(calm) < 1e-3


def test_feed_forward_loop_steady_state_and_delay():
    net = bio.feed_forward_loop()
    model = net.to_model()
    assert model.state_names == ("Y", "Z")
    f = lambda x, K: x**2 / (K**2 + x**2)  # noqa: E731
    y_ss = f(1.0, 0.5)
    z_ss = f(1.0, 0.5) * f(y_ss, 0.5)
    t = np.linspace(0, 30, 301)
    u = np.asarray(ps.solve(model, t=t, **TIGHT).u)
    np.testing.assert_allclose(u[-1], [y_ss, z_ss], rtol=1e-9)
    # Z waits for Y (AND gate): its early rise is slower than a gene driven by X alone
    assert u[5, 1] < 0.25 * (1 - np.exp(-t[5])) * z_ss / f(y_ss, 0.5)


def test_fit_recovers_repressilator_kinetics_from_noisy_data():
    """ps.fit on the network's ODEModel: alpha and beta from 2 % noisy trajectories, started 25-30 % off."""
    truth = bio.repressilator().to_model()
    t = np.linspace(0, 15, 61)
    y = np.asarray(ps.solve(truth, t=t, **TIGHT).u)
    noisy = y * (1 + 0.02 * np.random.default_rng(0).standard_normal(y.shape))
    model = bio.repressilator().to_model()
    model.fit((t, noisy), params={"alpha": 160.0, "beta": 3.5}, fit=["alpha", "beta"], u0=truth.u0,
              strategy=ps.SingleShooting(), optimizers=[ps.LBFGS(steps=100)], solver=ps.Dopri5(), verbose=0)
    assert model.status_ is ps.Status.SUCCESS, model.message_
    for name, true in (("alpha", 216.0), ("beta", 5.0)):  # measured 215.65 +- 0.28, 5.0039 +- 0.0057
        assert abs(model.params_[name] - true) < 0.01 * true, (name, model.params_[name])
        assert abs(model.params_[name] - true) < 4 * model.param_std_[name], (name, model.param_std_[name])
    assert model.params_["n"] == 2.0 and model.params_["alpha0"] == 0.216  # not fitted


def _autorepressor(transcription) -> bio.ReactionNetwork:
    net = bio.ReactionNetwork("autorepression")
    net.parameters(beta=2.0)
    net.species("m", 0.0)
    net.species("p", 0.0)
    net.reaction("0 -> m", transcription, name="transcription")
    net.reaction("m -> 0", "m", name="mrna_decay")
    net.reaction("0 -> p", "beta * m", name="translation")
    net.reaction("p -> 0", k="beta", name="protein_decay")
    return net


def test_ude_learns_an_unknown_repression_and_discovery_names_the_hill_function():
    """A gene repressing itself, 5 / (1 + p^2) unknown: a network learns it from noisy protein data
    alone (the mRNA is never observed) and sparse regression on Hill features reads it back."""
    known = _autorepressor("alpha / (1 + p**2)")
    known.parameter("alpha", 5.0)
    t = np.linspace(0, 10, 41)
    y = np.asarray(ps.solve(known.to_model(), t=t, **TIGHT).u)
    noisy = y + 0.02 * y.std(0) * np.random.default_rng(0).standard_normal(y.shape)
    noisy[:, 0] = np.nan  # protein only
    ude = _autorepressor(lambda c, p, t, m: p.nn(m.stack([c["p"]]))[0]).to_model(
        networks={"nn": ps.MLP(1, 1, width=16, depth=2, activation="tanh", inputs=["p"])})
    assert isinstance(ude, ps.UDE)
    with pytest.warns(DataWarning, match="never observed"):
        ude.fit((t, noisy), u0=[0.0, 0.0], fixed=["beta"], strategy=ps.SingleShooting(),
                optimizers=[ps.Adam(2e-2, steps=150), ps.LBFGS(steps=100)], verbose=0)
    assert ude.status_ is ps.Status.SUCCESS, ude.message_
    hill = ps.Custom({"hill1": "1/(1 + p)", "hill2": "1/(1 + p**2)", "hill3": "1/(1 + p**3)",
                      "act2": "p**2/(1 + p**2)", "one": "1 + 0*p"})
    eqs = ude.discover("nn", library=hill, threshold=0.3)
    terms = eqs.terms(0)
    assert [f.name for f, _ in terms] == ["hill2"], str(eqs)  # measured: nn[0] = 5.01*hill2
    assert abs(terms[0][1] - 5.0) < 0.15, str(eqs)


def test_the_julia_engine_traces_the_network_physics():
    """The Julia engine runs what the sympy trace records; its numpy evaluation equals rhs_numpy."""
    from pysciml.engines.julia.emit import build_program
    from pysciml.engines.julia.evaluate import evaluate_program
    from pysciml.engines.julia.trace import trace_model

    for net in (bio.repressilator(), bio.feed_forward_loop(), _michaelis_menten(), _two_compartments()):
        model = net.to_model()
        u = np.linspace(0.3, 1.7, model.n_states)
        phys = np.concatenate([v.ravel() for v in model.default_params().values()])
        got = evaluate_program(build_program(trace_model(model)), u, phys, 0.0)
        np.testing.assert_allclose(got, model.rhs_numpy(u), rtol=1e-13)


def test_import_bio_loads_neither_jax_nor_sympy():
    code = "import sys, pysciml as ps; ps.bio.repressilator().to_model(); print('jax' in sys.modules, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# -- libRoadRunner ----------------------------------------------------------------------------------
REPRESSILATOR_ANTIMONY = """
model repressilator
  alpha = 216; alpha0 = 0.216; beta = 5; n = 2
  m1 = 0; m2 = 0; m3 = 0; p1 = 5; p2 = 0; p3 = 15
  -> m1; alpha0 + alpha/(1 + p3^n)
  -> m2; alpha0 + alpha/(1 + p1^n)
  -> m3; alpha0 + alpha/(1 + p2^n)
  m1 -> ; m1
  m2 -> ; m2
  m3 -> ; m3
  -> p1; beta*m1
  -> p2; beta*m2
  -> p3; beta*m3
  p1 -> ; beta*p1
  p2 -> ; beta*p2
  p3 -> ; beta*p3
end
"""


def test_repressilator_agrees_with_libroadrunner():
    roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner (test extra) checks ps.bio trajectories")
    antimony = pytest.importorskip("antimony", reason="antimony (test extra) writes the roadrunner model")
    assert antimony.loadAntimonyString(REPRESSILATOR_ANTIMONY) >= 0, antimony.getLastError()
    rr = roadrunner.RoadRunner(antimony.getSBMLString("repressilator"))
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-14
    rr.timeCourseSelections = ["time", "m1", "m2", "m3", "p1", "p2", "p3"]
    ref = np.asarray(rr.simulate(0, 30, 61))
    model = bio.repressilator().to_model()
    for solver in (ps.Dopri8(), ps.Rodas5P()):
        sol = ps.solve(model, t=ref[:, 0], solver=solver, rtol=1e-12, atol=1e-14)
        assert sol.ok
        np.testing.assert_allclose(np.asarray(sol.u), ref[:, 1:], rtol=1e-6, atol=1e-9)  # measured 3e-10 rel
    # negative control: a 1% change in alpha is seen
    off = ps.solve(model, t=ref[:, 0], params={"alpha": 218.16}, rtol=1e-12, atol=1e-14)
    assert not np.allclose(np.asarray(off.u), ref[:, 1:], rtol=1e-6, atol=1e-9)


def _gene_ring(n_genes: int, seed: int = 0) -> tuple[bio.ReactionNetwork, str]:
    """A ring of ``n_genes`` repressors with scattered rates, as a ps.bio network and as Antimony."""
    rng = np.random.default_rng(seed)
    alpha, beta = rng.uniform(150, 250, n_genes).tolist(), rng.uniform(3, 7, n_genes).tolist()
    net = bio.ReactionNetwork("gene_ring")
    net.parameters(a0=0.2, n=2.0)
    lines = ["model gene_ring", "  a0 = 0.2; n = 2"]
    for i in range(n_genes):
        net.parameters(**{f"alpha{i}": alpha[i], f"beta{i}": beta[i]})
        lines.append(f"  alpha{i} = {alpha[i]!r}; beta{i} = {beta[i]!r}")
    for prefix, value in (("m", lambda i: float(i % 3)), ("p", lambda i: float(5 * (i % 4)))):
        for i in range(n_genes):
            net.species(f"{prefix}{i}", value(i))
            lines.append(f"  {prefix}{i} = {value(i)!r}")
    for i in range(n_genes):
        j = (i - 1) % n_genes
        net.reaction(f"0 -> m{i}", f"a0 + alpha{i} / (1 + p{j}**n)")
        net.reaction(f"m{i} -> 0", f"m{i}")
        net.reaction(f"0 -> p{i}", f"beta{i} * m{i}")
        net.reaction(f"p{i} -> 0", k=f"beta{i}")
        lines += [f"  -> m{i}; a0 + alpha{i}/(1 + p{j}^n)", f"  m{i} -> ; m{i}", f"  -> p{i}; beta{i}*m{i}",
                  f"  p{i} -> ; beta{i}*p{i}"]
    return net, "\n".join([*lines, "end"])


def test_a_50_species_gene_ring_agrees_with_libroadrunner():
    roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner (test extra) checks ps.bio trajectories")
    antimony = pytest.importorskip("antimony", reason="antimony (test extra) writes the roadrunner model")
    net, text = _gene_ring(25)
    assert len(net.species_names) == 50 and net.stoichiometry.shape == (50, 100)
    assert antimony.loadAntimonyString(text) >= 0, antimony.getLastError()
    rr = roadrunner.RoadRunner(antimony.getSBMLString("gene_ring"))
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-14
    rr.timeCourseSelections = ["time", *net.species_names]
    ref = np.asarray(rr.simulate(0, 20, 41))
    sol = ps.solve(net.to_model(), t=ref[:, 0], solver=ps.Dopri8(), rtol=1e-12, atol=1e-14)
    assert sol.ok
    np.testing.assert_allclose(np.asarray(sol.u), ref[:, 1:], rtol=1e-6, atol=1e-9)  # measured 2e-9 rel
