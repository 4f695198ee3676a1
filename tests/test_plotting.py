"""Pictures, drawn headless: non-empty PNGs whose content is checked (panels, labels, lines, values).

Each test reads back what was drawn (the lines' data, axis labels and scales) and compares it
with the numbers the picture stands for (exact solutions, the model's own predictions).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib", reason="pictures need the plot extra (matplotlib)")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from helpers.pictures import png_pixels  # noqa: E402

import pysciml as ps  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _decay(u, p, t, m):
    return -p.k * u


def _rober(u, p, t, m):
    y1, y2, y3 = u
    return [-p.k1 * y1 + p.k3 * y2 * y3, p.k1 * y1 - p.k3 * y2 * y3 - p.k2 * y2**2, p.k2 * y2**2]


# -- sol.plot() ------------------------------------------------------------------------------------
def test_solution_plot_scalar_states_log_time(tmp_path):
    model = ps.ODEModel(_rober, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4}, name="rober", time_units="s")
    t = np.concatenate([[0.0], np.logspace(-4, 4, 40)])
    sol = ps.solve(model, [1.0, 0.0, 0.0], (0.0, 1e4), saveat=t, solver=ps.Rodas5P(), rtol=1e-6, atol=1e-10)
    fig, axes = sol.plot(log_time=True)
    assert len(axes) == 1
    ax = axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "time (s)"
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["y1", "y2", "y3"]
    np.testing.assert_allclose(lines[2].get_ydata(), sol["y3"][1:])  # t = 0 left out on a log axis
    assert len(lines[0].get_xdata()) == 40
    png_pixels(fig, tmp_path)
    fig2, (ax2,) = sol.plot("y1")
    assert len(ax2.get_lines()) == 1 and ax2.get_xscale() == "linear" and ax2.get_ylabel() == "y1"


def test_solution_plot_vector_and_grid_states_get_their_own_panels(tmp_path):
    def rhs(u, p, t, m):
        return [-p.k * u.a, -p.k * u.v, -p.k * u.g]

    model = ps.ODEModel(rhs, {"a": (), "v": 3, "g": (4, 5)}, {"k": 0.5}, name="mixed")
    u0 = [1.0] + [1.0, 2.0, 3.0] + list(np.arange(20.0))
    sol = ps.solve(model, u0, np.linspace(0, 2, 11))
    fig, axes = sol.plot()
    assert len(axes) == 3
    assert len(axes[0].get_lines()) == 1 and axes[0].get_ylabel() == "a"
    assert [ln.get_label() for ln in axes[1].get_lines()] == ["v[0]", "v[1]", "v[2]"]
    np.testing.assert_allclose(axes[1].get_lines()[2].get_ydata(), 3.0 * np.exp(-0.5 * sol.t), rtol=1e-4)
    (image,) = axes[2].get_images()  # the grid state at the last time
    np.testing.assert_allclose(image.get_array(), np.arange(20.0).reshape(4, 5) * np.exp(-1.0), rtol=1e-4)
    png_pixels(fig, tmp_path)
    with pytest.raises(ps.InputError, match="unknown states"):
        sol.plot("nope")


# -- fitted.plot(data), fitted.plot_loss() -----------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_decay():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4, 25)
    y = 2.0 * np.exp(-0.7 * t) * (1 + 0.03 * rng.standard_normal(t.size))
    model = ps.ODEModel(_decay, ["y"], {"k": 0.3}, name="decay", time_units="s")
    model.fit((t, y), u0=[2.0], strategy=ps.SingleShooting(), optimizers=[ps.Adam(5e-2, steps=60), ps.LBFGS(steps=40)],
              verbose=0)
    return model, t, y


def test_fit_plot_data_fit_band_and_forecast(tmp_path, fitted_decay):
    model, t, y = fitted_decay
    fig, (ax,) = model.plot(horizon=2.0, n_draws=12, n=120)
    data, fit = ax.get_lines()[:2]
    np.testing.assert_allclose(data.get_ydata(), y)
    assert fit.get_xdata()[-1] == pytest.approx(6.0)  # drawn 2 s past the data
    pred = model.predict(fit.get_xdata())["y"].values
    np.testing.assert_allclose(fit.get_ydata(), pred, rtol=1e-6)
    labels = [c.get_label() for c in ax.collections] + [p.get_label() for p in ax.patches]
    assert "90 % band" in labels and "forecast" in labels
    band = next(c for c in ax.collections if c.get_label() == "90 % band")
    verts = band.get_paths()[0].vertices  # the band brackets the fit
    assert verts[:, 1].min() <= pred.min() and verts[:, 1].max() >= pred.max()
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "y"
    png_pixels(fig, tmp_path)
    fig2, (ax2,) = model.plot((t[:10], y[:10]), bands=False)  # other data, no band, no forecast
    assert len(ax2.get_lines()[0].get_xdata()) == 10 and not ax2.collections and not ax2.patches


def test_plot_loss_marks_stages_and_rejected_steps(tmp_path, fitted_decay):
    model, _, _ = fitted_decay
    fig, (ax,) = model.plot_loss()
    (loss,) = [ln for ln in ax.get_lines() if ln.get_label() == "loss"]
    np.testing.assert_allclose(loss.get_ydata(), model.loss_history_)
    boundaries = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert [ln.get_xdata()[0] for ln in boundaries] == [model.phases_[1]["start"]]  # Adam -> LBFGS
    assert {t.get_text() for t in ax.texts} >= {str(p["optimizer"]) for p in model.phases_}
    assert ax.get_yscale() == "log"
    png_pixels(fig, tmp_path)
    from pysciml.plotting.fit import plot_loss_history

    events = [{"step": 3, "kind": "rejected-step"}, {"step": 7, "kind": "rejected-step"}]
    _, (ax2,) = plot_loss_history(np.geomspace(10, 0.1, 20), [], events)
    (crosses,) = [ln for ln in ax2.get_lines() if ln.get_label().startswith("rejected")]
    assert list(crosses.get_xdata()) == [3, 7] and crosses.get_label() == "rejected steps (2)"


# -- eqs.plot() -------------------------------------------------------------------------------------
def test_equations_plot_network_vs_equation(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (80, 2))
    Y = np.stack([2.0 * X[:, 0] - X[:, 0] * X[:, 1], 0.5 * X[:, 1] ** 2], axis=1)
    Y_net = Y + 0.01 * rng.standard_normal(Y.shape)  # a network's imperfect output
    eqs = ps.discover(X, Y_net, input_names=["a", "b"], output_name="nn", threshold=0.1)
    fig, axes = eqs.plot(X, Y_net)
    assert len(axes) == 2
    for j, ax in enumerate(axes):
        net, eq = ax.get_lines()
        np.testing.assert_allclose(net.get_ydata(), Y_net[:, j])
        np.testing.assert_allclose(eq.get_ydata(), eqs.predict(X)[:, j])
        assert np.max(np.abs(eq.get_ydata() - Y[:, j])) < 0.05  # the equation is the truth
        assert ax.get_title() == eqs.equation(j)
    png_pixels(fig, tmp_path)
    with pytest.raises(ps.InputError, match="eqs.plot"):
        eqs.plot()


# -- gridded maps and the cell picker -------------------------------------------------------------------
@pytest.fixture(scope="module")
def gridded_fit():
    from helpers.gridded_data import gridded, shared_model

    da, ocean, truth = gridded(ny=3, nx=4, nt=12)
    model = shared_model()
    res = da.sciml.fit(model, per_cell=["lam", "forcing"], time_units="days", mask=ocean, verbose=0)
    return da, model, res, truth


def test_gridded_maps(tmp_path, gridded_fit):
    da, model, res, truth = gridded_fit
    fig, axes = res.sciml.plot("lam")
    (ax,) = axes
    (mesh,) = ax.collections
    np.testing.assert_allclose(np.ma.filled(mesh.get_array(), np.nan).reshape(3, 4), res["lam"].values)
    assert ax.get_xlabel().startswith("lon") and ax.get_ylabel().startswith("lat")
    assert "1/day" in mesh.colorbar.ax.get_ylabel()
    png_pixels(fig, tmp_path)
    fig2, axes2 = res.sciml.plot()  # every per-cell parameter
    assert [a.get_title() for a in axes2] == ["damping rate", res["forcing"].attrs.get("long_name", "forcing")]
    fig3, axes3 = res.sciml.plot_quality()
    assert [a.get_title() for a in axes3][:1] == [res["status"].attrs["long_name"]]
    assert len(axes3) == 3  # status, loss, rmse_sst
    ticks = [t.get_text() for t in axes3[0].collections[0].colorbar.ax.get_yticklabels()]
    assert set(ticks) == {"success", "skipped"}
    png_pixels(fig3, tmp_path, "quality.png")
    with pytest.raises(ps.InputError, match="no variables"):
        res.sciml.plot("nope")


def test_gridded_coastlines_need_cartopy(gridded_fit):
    from pysciml.plotting.cells import has_cartopy

    if has_cartopy():
        pytest.skip("cartopy is installed: the error path cannot be reached")
    _, _, res, _ = gridded_fit
    with pytest.raises(ps.InputError, match="cartopy"):
        res.sciml.plot("lam", coastlines=True)


def test_gridded_cell_picker_draws_the_exact_solution(tmp_path, gridded_fit):
    from helpers.gridded_data import exact

    da, model, res, truth = gridded_fit
    lat, lon = float(da["lat"][2]), float(da["lon"][1])
    fig, (ax,) = res.sciml.plot_cell(data=da, model=model, lat=lat + 0.1, lon=lon - 0.1)  # nearest cell
    data, fit = ax.get_lines()
    np.testing.assert_allclose(data.get_ydata(), da.values[:, 2, 1])
    t = fit.get_xdata()
    expected = exact(truth["lam"][2, 1], truth["forcing"][2, 1], truth["T0"][2, 1], t)
    np.testing.assert_allclose(fit.get_ydata(), expected, rtol=1e-3, atol=1e-4)
    assert f"lat={lat:.4g}" in ax.get_title() and ax.get_xlabel().startswith("time (days")
    png_pixels(fig, tmp_path)
    with pytest.raises(ps.InputError, match="grid coordinates"):
        res.sciml.plot_cell(data=da, model=model, depth=3)


# -- latent models: samples vs data ---------------------------------------------------------------------
def test_latent_samples_vs_data(tmp_path):
    from helpers.latent_data import oscillators

    from pysciml.latent import LatentODE

    train = oscillators(8, seed=0)
    model = LatentODE(2, encoder_hidden=8, ode_hidden=8, decoder_hidden=8, seed=0)
    model.fit([(d["t"], d["y"]) for d in train], steps=5, batch_size=8)
    d = train[0]
    fig, axes = model.plot(d["t"], d["y"], n_samples=4, n_prior=3)
    assert len(axes) == d["y"].shape[1]
    ax = axes[0]
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels.count("prior samples") == 1 and len(ax.get_lines()) == 3 + 1 + 1  # prior, mean, data
    mean = model.predict(d["t"], d["y"], ax.get_lines()[3].get_xdata(), n_samples=4, seed=0)
    np.testing.assert_allclose(ax.get_lines()[3].get_ydata(), mean[:, 0], rtol=1e-5)
    seen = np.isfinite(d["y"][:, 0])
    np.testing.assert_allclose(ax.get_lines()[4].get_ydata(), d["y"][seen, 0])
    png_pixels(fig, tmp_path)


# -- without matplotlib; import cost ---------------------------------------------------------------------
def test_missing_matplotlib_names_the_plot_extra():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import pysciml as ps\n"
        "m = ps.ODEModel(lambda u, p, t, m: -p.k * u, ['y'], {'k': 1.0})\n"
        "sol = ps.solve(m, [1.0], [0.0, 1.0])\n"
        "try:\n"
        "    sol.plot()\n"
        "except ps.PySciMLError as e:\n"
        "    print(type(e).__name__, isinstance(e, ImportError), e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("PlotExtraMissing True") and 'pip install "pysciml[plot]"' in out.stdout


def test_result_modules_import_no_matplotlib():
    code = ("import sys, pysciml, pysciml.solution, pysciml.fitting.estimator, pysciml.discovery.equations, "
            "pysciml.cells.accessor, pysciml.latent.estimator, pysciml.sde.solution, pysciml.plotting, "
            "pysciml.physics; print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "False"
