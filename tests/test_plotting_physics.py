"""Pictures of SDE paths, vorticity snapshots, N-body orbits and animations, drawn headless.

Each test reads back what was drawn (line data, band vertices, image arrays, colour limits,
tick labels, titles, frame counts) and compares it with the numbers it stands for: exact
solutions (Taylor-Green decay, lognormal quantiles of geometric Brownian motion, a circular
orbit) or the solution values themselves.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib", reason="pictures need the plot extra (matplotlib)")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from helpers.pictures import png_pixels  # noqa: E402
from PIL import Image  # noqa: E402  (pillow comes with matplotlib)

import pysciml as ps  # noqa: E402
from pysciml import physics as phys  # noqa: E402
from pysciml.errors import InputError  # noqa: E402
from pysciml.physics.fluids import taylor_green  # noqa: E402
from pysciml.plotting import animate, plot_orbits, plot_snapshots, save_animation  # noqa: E402
from pysciml.plotting.animation import ffmpeg_executable  # noqa: E402
from pysciml.sde.solution import SDESolution  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _band(axis):
    """The (lo, hi) curves of the one fill_between band in ``axis``, from its polygon."""
    (poly,) = axis.collections
    v = poly.get_paths()[0].vertices
    return v


# -- SDE paths ------------------------------------------------------------------------------------------
MU, SIGMA = 0.4, 0.5


@pytest.fixture(scope="module")
def gbm_sol():
    gbm = ps.SDEModel(lambda u, p, t, m: [p.mu * u[0]], lambda u, p, t, m: [p.sigma * u[0]], states=["x"],
                      params={"mu": MU, "sigma": SIGMA}, name="gbm", time_units="s")
    t = np.linspace(0.0, 1.0, 17)
    return ps.solve(gbm, [1.0], (0, 1), saveat=t, solver=ps.Milstein(), dt0=1 / 64, seed=4, n_paths=2000)


def test_sde_plot_median_band_and_samples_match_the_paths_and_the_exact_law(gbm_sol, tmp_path):
    sol = gbm_sol
    assert sol.ok
    fig, axes = sol.plot(samples=4)
    assert len(axes) == 1
    ax = axes[0]
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "x"
    assert fig.get_suptitle() == "gbm: 2000 paths"
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert sorted(lines) == ["_x path 0", "_x path 1", "_x path 2", "_x path 3", "x median"]
    x = sol["x"]
    np.testing.assert_allclose(lines["_x path 2"].get_ydata(), x[2])
    np.testing.assert_allclose(lines["x median"].get_xdata(), sol.t)
    median = lines["x median"].get_ydata()
    np.testing.assert_allclose(median, np.median(x, axis=0))
    # the exact law: X_t = exp((mu - s^2/2) t + s W_t), lognormal; its quantiles at 50, 5, 95 %
    drift = (MU - SIGMA**2 / 2) * sol.t
    np.testing.assert_allclose(median, np.exp(drift), rtol=0.04)
    # the band: its polygon runs along the 5 % curve and back along the 95 % curve
    v = _band(ax)
    n = len(sol.t)
    lo = np.interp(sol.t, v[1 : n + 1, 0], v[1 : n + 1, 1])
    hi = np.interp(sol.t, v[n + 2 : 2 * n + 2, 0][::-1], v[n + 2 : 2 * n + 2, 1][::-1])
    np.testing.assert_allclose(lo, np.quantile(x, 0.05, axis=0), rtol=1e-12)
    np.testing.assert_allclose(hi, np.quantile(x, 0.95, axis=0), rtol=1e-12)
    z = 1.6448536269514722
    np.testing.assert_allclose(lo[1:], np.exp(drift - z * SIGMA * np.sqrt(sol.t))[1:], rtol=0.05)
    np.testing.assert_allclose(hi[1:], np.exp(drift + z * SIGMA * np.sqrt(sol.t))[1:], rtol=0.05)
    # it brackets the paths: 90 % of them inside at every time after the start, the median inside
    inside = ((x >= lo - 1e-12) & (x <= hi + 1e-12)).mean(axis=0)
    assert np.all(np.abs(inside[1:] - 0.90) < 0.002), inside
    assert np.all((lo <= median) & (median <= hi))
    assert ax.get_legend() is not None
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["x 5-95 %", "x median"]
    png_pixels(fig, tmp_path)


def test_sde_plot_options_log_time_other_band_no_samples_and_own_axes(gbm_sol, tmp_path):
    sol = gbm_sol
    fig, (ax,) = sol.plot(band=(0.25, 0.75), samples=0, log_time=True)
    assert ax.get_xscale() == "log"
    (median,) = ax.get_lines()  # no sample paths
    assert len(median.get_xdata()) == len(sol.t) - 1  # t = 0 left out on a log axis
    v = _band(ax)
    assert v[:, 0].min() > 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x 25-75 %", "x median"]
    fig2, own = plt.subplots()
    got_fig, got_axes = sol.plot(band=None, samples=2, ax=own)
    assert got_fig is fig2 and got_axes == [own]
    assert len(own.collections) == 0 and len(own.get_lines()) == 3
    png_pixels(fig2, tmp_path)


def test_sde_plot_vector_state_and_failed_paths_left_out(tmp_path):
    model = ps.SDEModel(lambda u, p, t, m: [0.0 * u.v], lambda u, p, t, m: [1.0 + 0.0 * u.v], states={"v": 3},
                        name="walk", noise="diagonal")
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 6)
    u = rng.normal(size=(50, 6, 3)) + np.array([0.0, 10.0, 20.0])
    u[7] = 1e6  # a failed path's garbage: must not move the median or the band
    status = np.zeros(50, int)
    status[7] = int(ps.Status.MAX_STEPS)
    sol = SDESolution(model, t, u, status, {"solver": "test"})
    fig, (ax,) = sol.plot(samples=1)
    assert fig.get_suptitle() == "walk: 49 of 50 paths (1 failed, left out)"
    assert len(ax.collections) == 3  # a band per component
    medians = [ln for ln in ax.get_lines() if ln.get_label().endswith("median")]
    assert [ln.get_label() for ln in medians] == ["v[0] median", "v[1] median", "v[2] median"]
    good = np.delete(u, 7, axis=0)
    for i, ln in enumerate(medians):
        np.testing.assert_allclose(ln.get_ydata(), np.median(good[:, :, i], axis=0))
        # the band of a component has its median's colour
        np.testing.assert_allclose(mpl.colors.to_rgb(ln.get_color()), ax.collections[i].get_facecolor()[0][:3])
    assert max(np.abs(ln.get_ydata()).max() for ln in ax.get_lines()) < 1e3
    png_pixels(fig, tmp_path)
    # every path failed: nothing to draw, and the error says why
    dead = SDESolution(model, t, u, np.full(50, int(ps.Status.NONFINITE)), {"solver": "test"})
    with pytest.raises(ps.SolverFailure, match="nothing to draw: 50 of 50 paths failed") as info:
        dead.plot()
    assert info.value.solution is dead


def test_sde_plot_bad_arguments(gbm_sol):
    with pytest.raises(InputError, match="^band"):
        gbm_sol.plot(band=(0.9, 0.1))
    with pytest.raises(InputError, match="^samples"):
        gbm_sol.plot(samples=-1)
    with pytest.raises(InputError, match="^states"):
        gbm_sol.plot("nope")


# -- vorticity snapshots ----------------------------------------------------------------------------------
NU = 0.05


@pytest.fixture(scope="module")
def taylor_green_run():
    flow = phys.NavierStokes2D(n=32, viscosity=NU)
    return flow.simulate(taylor_green(32), np.linspace(0.0, 2.0, 9))


def test_vorticity_snapshots_show_the_exact_decay_on_a_symmetric_scale(taylor_green_run, tmp_path):
    w = taylor_green_run
    fig, axes = plot_snapshots(w, times=[0.0, 1.0, 2.0])
    assert len(axes) == 3
    assert [a.get_title() for a in axes] == ["t = 0 s", "t = 1 s", "t = 2 s"]
    for a, t in zip(axes, [0.0, 1.0, 2.0]):
        (image,) = a.get_images()
        np.testing.assert_allclose(image.get_array(), taylor_green(32, t=t, viscosity=NU), atol=1e-8)
        assert image.get_clim() == pytest.approx((-2.0, 2.0))  # |w| peaks at 2 k = 2 at t = 0
        assert image.get_extent() == pytest.approx([0.0, 2 * np.pi, 0.0, 2 * np.pi])
        assert [t.get_text() for t in a.get_xticklabels()] == ["0", "π", "2π"]
        assert a.get_xlabel() == "x (m, periodic)"
    assert axes[0].get_ylabel() == "y (m, periodic)"
    (cbar,) = [a for a in fig.axes if a not in axes]
    assert cbar.get_ylabel() == "relative vorticity (s-1)"
    png_pixels(fig, tmp_path)
    # default: 4 snapshots from the first to the last time; nearest saved times for others
    fig, axes = plot_snapshots(w)
    assert [a.get_title() for a in axes] == ["t = 0 s", "t = 0.75 s", "t = 1.25 s", "t = 2 s"]
    fig, (a,) = plot_snapshots(w, times=[0.8], symmetric=False)
    assert a.get_title() == "t = 0.75 s"
    lo, hi = a.get_images()[0].get_clim()
    assert lo == pytest.approx(w.sel(time=0.75).min()) and hi == pytest.approx(w.sel(time=0.75).max())


def test_snapshots_of_a_dataset_and_of_plain_arrays(taylor_green_run, tmp_path):
    ds = taylor_green_run.to_dataset()
    fig, axes = plot_snapshots(ds, n=2)
    assert len(axes) == 2
    frames = np.stack([taylor_green(16, length=1.0, t=s, viscosity=0.1) for s in (0.0, 0.01)])
    fig, axes = plot_snapshots(frames, t=[0.0, 0.01], n=2)
    assert axes[1].get_title() == "t = 0.01" and axes[0].get_xlabel() == "x index"
    np.testing.assert_allclose(axes[1].get_images()[0].get_array(), frames[1])
    with pytest.raises(InputError, match="^times"):
        plot_snapshots(taylor_green_run, times=[5.0])
    with pytest.raises(InputError, match="^variable"):
        plot_snapshots(ds, variable="tracer")
    with pytest.raises(InputError, match=r"^field.*field\.isel\(tracer=0\)"):
        plot_snapshots(taylor_green_run.expand_dims(tracer=2, axis=1))


# -- N-body orbits ------------------------------------------------------------------------------------
def test_nbody_orbits_trace_the_solution_and_a_circle(tmp_path):
    sky = phys.NBody([1.0, 1e-9, 1e-9], G=1.0, dim=3, units={"length": "AU", "time": "day", "mass": "Msun"})
    # test particles on circles of radius 1 and 2 (speeds 1 and 1/sqrt 2), the second tilted out of plane
    r2 = 2.0
    q = [[0, 0, 0], [1, 0, 0], [0, r2, 0]]
    v = [[0, 0, 0], [0, 1, 0], [-np.sqrt(1 / r2) * np.cos(0.3), 0, np.sqrt(1 / r2) * np.sin(0.3)]]
    t = np.linspace(0, 2 * np.pi, 101)
    sol = ps.solve(sky.model(), sky.state(q, v), (0, t[-1]), saveat=t, solver=ps.Yoshida4(dt=2 * np.pi / 1000))
    fig, (ax,) = sky.plot(sol, names=["sun", "a", "b"])
    assert [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")] == ["sun", "a", "b"]
    pos, _ = sky.unpack(sol.u)
    line = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(line["a"].get_xdata(), pos[:, 1, 0])
    np.testing.assert_allclose(line["a"].get_ydata(), pos[:, 1, 1])
    np.testing.assert_allclose(np.hypot(line["a"].get_xdata(), line["a"].get_ydata()), 1.0, atol=1e-6)
    # after one period of a (2 pi), it is back at its start marker
    np.testing.assert_allclose(line["_a end"].get_xydata(), line["_a start"].get_xydata(), atol=1e-5)
    assert ax.get_xlabel() == "x (AU)" and ax.get_ylabel() == "y (AU)"
    assert ax.get_aspect() == 1.0
    assert fig.get_suptitle() == "3 bodies, t = 0 to 6.283 day"
    png_pixels(fig, tmp_path)
    # the same from the xarray form, projected on x-z and in 3-D
    ds = sky.to_xarray(sol)
    fig, (ax,) = sky.plot(ds, projection="xz", bodies=[2])
    (b,) = [ln for ln in ax.get_lines() if ln.get_label() == "body 2"]
    np.testing.assert_allclose(b.get_ydata(), pos[:, 2, 2])
    assert ax.get_ylabel() == "z (AU)"
    fig, (ax,) = sky.plot(sol, projection="3d")
    assert ax.name == "3d" and ax.get_zlabel() == "z (AU)" and ax.get_aspect() == "equal"
    xs, ys, zs = ax.get_lines()[6].get_data_3d()  # body 2's path
    np.testing.assert_allclose(zs, pos[:, 2, 2])
    png_pixels(fig, tmp_path, "orbits3d.png")


def test_orbits_bad_arguments():
    planar = np.zeros((5, 2, 2))
    with pytest.raises(InputError, match="^projection"):
        plot_orbits(planar, projection="3d")
    with pytest.raises(InputError, match="^projection"):
        plot_orbits(planar, projection="top")
    with pytest.raises(InputError, match="^names"):
        plot_orbits(planar, names=["one"])
    with pytest.raises(InputError, match="^sol"):
        # a solution of some other model (states of size 4, not 2 * 3 * 2)
        phys.NBody([1.0, 1.0, 1.0], dim=2).plot(SimpleNamespace(u=np.zeros((5, 4)), t=np.arange(5.0)))


# -- animations -----------------------------------------------------------------------------------------
def test_animate_writes_a_gif_frame_per_time_with_the_users_umask(taylor_green_run, tmp_path):
    old = os.umask(0o027)
    try:
        path = animate(taylor_green_run, tmp_path / "w.gif", fps=5)
    finally:
        os.umask(old)
    assert path == tmp_path / "w.gif"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.gif"]  # no temporary left
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == taylor_green_run.sizes["time"]
        assert im.info["duration"] == 200  # ms per frame at 5 fps
        im.seek(0)
        first = np.asarray(im.convert("RGB"), dtype=float)
        im.seek(im.n_frames - 1)
        last = np.asarray(im.convert("RGB"), dtype=float)
    assert first.std() > 10 and np.abs(first - last).mean() > 0.5  # the field decays between them


def test_save_animation_records_any_figure(tmp_path):
    fig, ax = plt.subplots()
    (dot,) = ax.plot([0.0], [0.0], "o")
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    seen = []

    def update(i):
        seen.append(i)
        dot.set_data([np.cos(i)], [np.sin(i)])

    path = save_animation(fig, update, 6, tmp_path / "dot.GIF", fps=20)
    with Image.open(path) as im:
        assert im.n_frames == 6
    assert set(seen) == set(range(6))


def test_animation_formats_and_errors(taylor_green_run, tmp_path, monkeypatch):
    with pytest.raises(InputError, match=r"^path.*'\.avi'.*\.gif or \.mp4"):
        animate(taylor_green_run, tmp_path / "w.avi")
    with pytest.raises(InputError, match="^fps"):
        animate(taylor_green_run, tmp_path / "w.gif", fps=0)
    import pysciml.plotting.animation as animation_module

    monkeypatch.setattr(animation_module, "ffmpeg_executable", lambda: None)
    with pytest.raises(InputError, match=r"^path.*\.mp4 video, which needs ffmpeg.*pysciml\[video\].*w\.gif"):
        animate(taylor_green_run, tmp_path / "w.mp4")
    assert list(tmp_path.iterdir()) == []


def test_animate_writes_mp4_when_ffmpeg_is_there(taylor_green_run, tmp_path):
    if ffmpeg_executable() is None:
        pytest.skip("no ffmpeg on PATH and no imageio-ffmpeg (pip install imageio-ffmpeg): MP4 not written")
    path = animate(taylor_green_run, tmp_path / "w.mp4", fps=4)
    raw = path.read_bytes()
    assert raw[4:8] == b"ftyp" and len(raw) > 1000  # an MP4 container
    try:
        import imageio_ffmpeg
    except ImportError:
        return
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == taylor_green_run.sizes["time"] and seconds == pytest.approx(9 / 4, abs=0.3)


def test_without_matplotlib_animations_and_orbits_name_the_plot_extra(tmp_path):
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np\n"
        "from pysciml.plotting import animate, plot_orbits\n"
        "for call in (lambda: animate(np.ones((2, 8, 8)), sys.argv[1] + '/w.mp4'),\n"
        "             lambda: animate(np.ones((2, 8, 8)), sys.argv[1] + '/w.gif'),\n"
        "             lambda: plot_orbits(np.zeros((3, 2, 3)), projection='3d')):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as e:\n"
        "        print(type(e).__name__, 'pysciml[plot]' in str(e))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:3] == ["PlotExtraMissing True"] * 3
    assert list(tmp_path.iterdir()) == []
