"""Sparse regression: STLSQ, the threshold path, bootstrap, and discover() recovering known systems."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from pysciml.discovery import Custom, Fourier, Polynomial, bootstrap, discover, stlsq
from pysciml.errors import InputError
from pysciml.networks import MLP

NAMES = ["prey", "predator"]


def lv_rhs(t, u):
    x, y = u
    return [1.3 * x - 0.9 * x * y, 0.8 * x * y - 1.8 * y]


def lv_samples(n=120, seed=0):
    """(prey, predator) at irregular times on [0, 5] along the SciML tutorial's Lotka-Volterra trajectory."""
    t = np.sort(np.random.default_rng(seed).uniform(0.0, 5.0, n))
    sol = solve_ivp(lv_rhs, (0.0, 5.0), [0.44249296, 4.6280594], t_eval=t, rtol=1e-11, atol=1e-12)
    return sol.y.T


X_LV = lv_samples()
Y_LV = np.c_[-0.9 * X_LV[:, 0] * X_LV[:, 1], 0.8 * X_LV[:, 0] * X_LV[:, 1]]


def noisy(Y, level, seed=1):
    """Y plus Gaussian noise of ``level`` times each column's RMS."""
    rng = np.random.default_rng(seed)
    return Y + level * np.sqrt(np.mean(Y**2, axis=0)) * rng.standard_normal(Y.shape)


def wrong_network(Y, X, level, seed):
    """Y plus a smooth error shaped like a small tanh network of X, ``level`` times each column's RMS."""
    net = MLP(2, 2, width=8, depth=1, last_layer_scale=1.0)
    err = net.apply_numpy(net.init(seed), X)
    err = err / np.sqrt(np.mean(err**2, axis=0))
    return Y + level * np.sqrt(np.mean(Y**2, axis=0)) * err


def assert_lv_interaction(eqs, tol=0.05):
    assert eqs.n_terms == [1, 1], str(eqs)
    c = eqs.coefficients
    assert list(c[0]) == ["prey*predator"] and list(c[1]) == ["prey*predator"], str(eqs)
    assert abs(c[0]["prey*predator"] / -0.9 - 1) < tol, str(eqs)
    assert abs(c[1]["prey*predator"] / 0.8 - 1) < tol, str(eqs)


# -- Lotka-Volterra interaction -----------------------------------------------------------
@pytest.mark.parametrize("level", [0.0, 0.01, 0.05])
def test_lv_interaction_noise(level):
    eqs = discover(X_LV, noisy(Y_LV, level), input_names=NAMES, library=Polynomial(2), threshold=0.05)
    assert_lv_interaction(eqs)
    if level == 0:
        np.testing.assert_allclose([eqs.coefficients[0]["prey*predator"], eqs.coefficients[1]["prey*predator"]],
                                   [-0.9, 0.8], rtol=1e-12)
        np.testing.assert_allclose(eqs.r2, 1.0, rtol=1e-12)


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
@pytest.mark.parametrize("level", [0.03, 0.05])
def test_lv_interaction_from_slightly_wrong_network(level, seed):
    Y = noisy(wrong_network(Y_LV, X_LV, level, seed), 0.01, seed)
    eqs = discover(X_LV, Y, input_names=NAMES, library=Polynomial(2), threshold=0.05)
    assert_lv_interaction(eqs)


def test_pruning_is_what_removes_cancelling_spurious_terms():
    # correlated columns along one trajectory: textbook STLSQ keeps pairs of spurious terms
    Y = wrong_network(Y_LV, X_LV, 0.05, 5)
    theta = Polynomial(2).evaluate(X_LV, NAMES)
    textbook = stlsq(theta, Y, 0.05, prune=False)
    pruned = stlsq(theta, Y, 0.05)
    assert np.count_nonzero(textbook) > 2
    assert np.count_nonzero(pruned) == 2 and pruned[4, 0] != 0 and pruned[4, 1] != 0


# -- other known systems ------------------------------------------------------------------
def lorenz(t, u, s=10.0, r=28.0, b=8.0 / 3.0):
    x, y, z = u
    return [s * (y - x), x * (r - z) - y, x * y - b * z]


def lorenz_samples():
    t = np.linspace(0.0, 10.0, 1500)
    X = solve_ivp(lorenz, (0.0, 10.0), [-8.0, 8.0, 27.0], t_eval=t, rtol=1e-10, atol=1e-10).y.T
    return X, np.array([lorenz(0.0, u) for u in X])


@pytest.mark.parametrize("options", [dict(threshold=0.04), dict(threshold=0.05, prune=0.02),
                                     dict(threshold=0.1, prune=False)])
def test_lorenz_recovered_exactly(options):
    X, Y = lorenz_samples()
    eqs = discover(X, Y, input_names=["x", "y", "z"], output_name="f", library=Polynomial(2), **options)
    assert eqs.coefficients[0] == pytest.approx({"x": -10.0, "y": 10.0}, rel=1e-10)
    assert eqs.coefficients[1] == pytest.approx({"x": 28.0, "y": -1.0, "x*z": -1.0}, rel=1e-10)
    assert eqs.coefficients[2] == pytest.approx({"z": -8.0 / 3.0, "x*y": 1.0}, rel=1e-10)


def test_unique_share_is_what_the_docs_say():
    # Lorenz y' = 28x - xz - y: the -y term's unique share, computed here by two refits,
    # decides whether it is kept (the figure 0.048 is quoted in the module doc)
    X, Y = lorenz_samples()
    theta = Polynomial(2).evaluate(X)
    y = Y[:, 1]
    rss = lambda cols: np.sum((y - theta[:, cols] @ np.linalg.lstsq(theta[:, cols], y, rcond=None)[0]) ** 2)  # noqa: E731
    share = np.sqrt((rss([1, 6]) - rss([1, 2, 6])) / len(y)) / np.sqrt(np.mean(y**2))
    assert 0.045 < share < 0.05
    below = stlsq(theta, y, share * 0.99)
    above = stlsq(theta, y, share * 1.01)
    assert np.count_nonzero(below) == 3 and below[2] != 0
    assert np.count_nonzero(above) == 2 and above[2] == 0


def test_fourier_terms_recovered():
    rng = np.random.default_rng(2)
    X = rng.uniform(-3, 3, size=(300, 2))
    a, b = X.T
    Y = np.c_[2.0 * np.sin(a) - 0.5 * np.cos(b) + 0.3 * a, 1.5 * np.cos(2 * a) * 1.0 - 0.7 * b * np.sin(b)]
    lib = Polynomial(1) + Fourier(2) + Polynomial(1, include_bias=False) * Fourier(1)
    eqs = discover(X, noisy(Y, 0.01), input_names=["a", "b"], library=lib, threshold=0.05)
    assert set(eqs.coefficients[0]) == {"a", "sin(a)", "cos(b)"}
    assert eqs.coefficients[0] == pytest.approx({"a": 0.3, "sin(a)": 2.0, "cos(b)": -0.5}, rel=0.03)
    assert set(eqs.coefficients[1]) == {"cos(2*a)", "b*sin(b)"}
    assert eqs.coefficients[1] == pytest.approx({"cos(2*a)": 1.5, "b*sin(b)": -0.7}, rel=0.03)


def test_custom_terms_recovered():
    X = lv_samples()
    x, y = X.T
    Y = 2.0 * x / (1.0 + x) - 0.4 * np.exp(-y)
    lib = Polynomial(1) + Custom({"sat": "prey/(1 + prey)", "decay": (lambda v: np.exp(-v), "exp(-{x})")})
    eqs = discover(X, Y, input_names=NAMES, library=lib, threshold=0.05)
    assert eqs.coefficients[0] == pytest.approx({"sat": 2.0, "decay(predator)": -0.4}, rel=1e-9)


# -- what the threshold means -------------------------------------------------------------
def test_threshold_is_a_share_of_the_output_rms():
    # y = x1 + c*x2 with orthogonal unit-RMS columns: the term of x2 carries a share |c| of ... its own RMS
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.standard_normal((400, 2)))
    cols = q * np.sqrt(400)  # orthogonal, unit RMS
    for c in (0.04, 0.08):
        y = cols[:, 0] + c * cols[:, 1]
        share = c / np.sqrt(1 + c**2)  # scaled coefficient of x2 once y is scaled to unit RMS
        xi = stlsq(cols, y, 0.06)
        assert (xi[1] != 0) == (share >= 0.06)
    # the share is unit-free: rescaling inputs or outputs changes no support
    y = cols[:, 0] + 0.08 * cols[:, 1]
    base = stlsq(cols, y, 0.06)
    scaled = stlsq(cols * [1e3, 1e-4], y * 1e6, 0.06)
    np.testing.assert_allclose(scaled, base * 1e6 / np.array([1e3, 1e-4]), rtol=1e-10)


def test_normalize_false_thresholds_raw_coefficients():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, size=(200, 2)) * [1.0, 1000.0]
    y = 1.0 * X[:, 0] + 0.01 * X[:, 1]  # the second term is small in raw units, large in share
    raw = stlsq(X, y, 0.05, normalize=False)
    scaled = stlsq(X, y, 0.05)
    assert raw[1] == 0 and raw[0] != 0
    np.testing.assert_allclose(scaled, [1.0, 0.01], rtol=1e-10)


def test_per_output_thresholds_and_vector_target():
    theta = Polynomial(2).evaluate(X_LV, NAMES)
    Y = np.c_[Y_LV[:, 0] + 0.1 * np.sqrt(np.mean(Y_LV[:, 0] ** 2)) / np.sqrt(np.mean(X_LV[:, 0] ** 2)) * X_LV[:, 0],
              Y_LV[:, 1]]
    both = stlsq(theta, Y, [0.01, 0.01])
    strict = stlsq(theta, Y, [0.5, 0.01])
    assert np.count_nonzero(both[:, 0]) == 2 and np.count_nonzero(strict[:, 0]) == 1
    v = stlsq(theta, Y_LV[:, 1], 0.05)
    assert v.shape == (6,) and np.count_nonzero(v) == 1


def test_zero_target_and_zero_column():
    theta = np.c_[Polynomial(2).evaluate(X_LV, NAMES), np.zeros(len(X_LV))]
    Y = np.c_[Y_LV[:, 0], np.zeros(len(X_LV))]
    xi = stlsq(theta, Y, 0.05)
    assert xi[-1, 0] == 0 and np.all(xi[:, 1] == 0)
    np.testing.assert_allclose(xi[4, 0], -0.9, rtol=1e-12)


# -- threshold="auto" ---------------------------------------------------------------------
@pytest.mark.parametrize("criterion", ["knee", "bic", "aic"])
def test_auto_picks_true_sparsity_on_clean_data(criterion):
    eqs = discover(X_LV, Y_LV, input_names=NAMES, threshold="auto", criterion=criterion)
    assert eqs.coefficients == [pytest.approx({"prey*predator": -0.9}, rel=1e-12),
                                pytest.approx({"prey*predator": 0.8}, rel=1e-12)]
    X, Y = lorenz_samples()
    eqs = discover(X, Y, input_names=["x", "y", "z"], threshold="auto", criterion=criterion)
    assert eqs.n_terms == [2, 3, 2]


def test_auto_reports_the_path():
    eqs = discover(X_LV, noisy(Y_LV, 0.01), input_names=NAMES, threshold="auto")
    assert eqs.n_terms == [1, 1]
    for info, thr in zip(eqs.path, eqs.thresholds):
        path = info["path"]
        sizes = [e["n_terms"] for e in path]
        assert 0 in sizes and 6 in sizes and info["criterion"] == "knee"
        chosen = path[info["selected"]]
        assert chosen["n_terms"] == 1 and chosen["threshold"] == thr
        # errors fall as terms are added
        by_size = {e["n_terms"]: e["rmse"] for e in path}
        assert by_size[0] == pytest.approx(1.0, abs=1e-12) and by_size[6] <= by_size[1] < 0.05
    # re-running at the chosen threshold reproduces the choice
    again = discover(X_LV, noisy(Y_LV, 0.01), input_names=NAMES, threshold=eqs.thresholds)
    np.testing.assert_array_equal(again.coefficient_matrix, eqs.coefficient_matrix)


def test_knee_beats_information_criteria_on_network_error():
    # a smooth, library-representable misfit fools likelihood criteria, not the knee
    Y = wrong_network(Y_LV, X_LV, 0.03, 3)
    assert discover(X_LV, Y, input_names=NAMES, threshold="auto").n_terms == [1, 1]
    assert sum(discover(X_LV, Y, input_names=NAMES, threshold="auto", criterion="bic").n_terms) > 2


# -- bootstrap ----------------------------------------------------------------------------
def test_bootstrap_inclusion_probabilities():
    theta = Polynomial(2).evaluate(X_LV, NAMES)
    inclusion, median = bootstrap(theta, noisy(Y_LV, 0.02), 0.05, n_models=30, seed=0)
    expected = np.zeros((6, 2))
    expected[4] = 1.0
    np.testing.assert_array_equal(inclusion, expected)
    np.testing.assert_allclose(median[4], [-0.9, 0.8], rtol=0.02)
    assert np.all(median[expected == 0] == 0)
    with pytest.raises(InputError):
        bootstrap(theta, Y_LV, "auto")


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,argument", [
    (dict(X=X_LV[:-1]), "Y"),
    (dict(input_names=["prey"]), "input_names"),
    (dict(input_names=["prey", "predator", "extra"]), "input_names"),
    (dict(threshold=-0.1), "threshold"),
    (dict(threshold=float("nan")), "threshold"),
    (dict(threshold="big"), "threshold"),
    (dict(threshold=[0.1, 0.1, 0.1]), "threshold"),
    (dict(library="poly2"), "library"),
    (dict(library=Custom({"l": "log(prey - 1)"})), "library"),
    (dict(alpha=-1.0), "alpha"),
    (dict(max_iter=0), "max_iter"),
    (dict(criterion="cv"), "criterion"),
    (dict(prune=-0.5), "prune"),
    (dict(prune="yes"), "prune"),
    (dict(X=np.where(np.arange(120)[:, None] == 7, np.nan, X_LV)), "X"),
    (dict(Y=np.where(np.arange(120)[:, None] == 9, np.inf, Y_LV)), "Y"),
    (dict(X=X_LV[:, :, None]), "X"),
    (dict(X=np.zeros((0, 2)), Y=np.zeros((0, 2))), "X"),
])
def test_bad_input_names_the_argument(kwargs, argument):
    args = dict(X=X_LV, Y=Y_LV, input_names=NAMES)
    args.update(kwargs)
    X, Y = args.pop("X"), args.pop("Y")
    with pytest.raises(InputError) as err:
        discover(X, Y, **args)
    assert err.value.argument == argument
    assert str(err.value).startswith(argument)


def test_empty_library():
    from pysciml.discovery import ConcatLibrary

    with pytest.raises(InputError) as err:
        discover(X_LV, Y_LV, input_names=NAMES, library=ConcatLibrary(()))
    assert err.value.argument == "library"
    with pytest.raises(InputError) as err:
        discover(X_LV, Y_LV, input_names=NAMES, library=Custom({}))
    assert err.value.argument == "Custom.functions"


def test_stlsq_bad_input():
    theta = Polynomial(2).evaluate(X_LV, NAMES)
    for args, argument in [((theta, Y_LV[:-3]), "Y"), ((theta[:, :, None], Y_LV), "Theta"),
                           ((np.where(theta > 5, np.nan, theta), Y_LV), "Theta")]:
        with pytest.raises(InputError) as err:
            stlsq(*args, 0.05)
        assert err.value.argument == argument


# -- property: exact sparse data is recovered exactly -----------------------------------------
X_RANDOM = np.random.default_rng(7).uniform(-2.0, 2.0, size=(300, 3))
THETA_RANDOM = Polynomial(2).evaluate(X_RANDOM)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.floats(0.2, 5.0), st.booleans()), min_size=1, max_size=4),
       st.floats(-3, 3))
def test_exact_sparse_polynomials_are_recovered(terms, log_scale):
    xi = np.zeros(10)
    for j, mag, neg in terms:
        xi[j] = -mag if neg else mag
    y = THETA_RANDOM @ xi * 10.0**log_scale
    got = stlsq(THETA_RANDOM, y, 1e-3)
    np.testing.assert_array_equal(got != 0, xi != 0)
    np.testing.assert_allclose(got, xi * 10.0**log_scale, rtol=1e-9, atol=1e-12 * 10.0**log_scale)
