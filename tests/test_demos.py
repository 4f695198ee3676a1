"""``pysciml demo --list`` and ``pysciml demo NAME``: each demo writes readable files with the user's umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from pysciml.demos.catalog import DEFAULT, DEMOS


def _cli(*args, timeout=600):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "pysciml", "demo", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _check_outputs(out, expected):
    names = {p.name for p in out.iterdir()}
    assert set(expected) <= names and not [n for n in names if n.startswith(".")]
    mask = os.umask(0o022)
    os.umask(mask)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask for p in out.iterdir())
    for name in expected:
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_list_names_every_demo_and_loads_no_engine():
    proc = _cli("--list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == list(DEMOS)
    assert any(ln.startswith(DEFAULT) and ln.endswith("(default)") for ln in lines)
    code = ("import sys; from pysciml.cli import main; main(['demo', '--list']); "
            "print(sorted(m for m in ('jax', 'matplotlib', 'xarray', 'pysciml.demos.flagship') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_unknown_demo_is_refused_before_anything_is_written(tmp_path):
    proc = _cli("nope", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "no demo 'nope'" in proc.stderr and "pysciml demo --list" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_demo_sst(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("matplotlib")
    out = tmp_path / "sst"
    proc = _cli("sst", "--quick", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(out, ["sst_fit.nc", "sst_maps.png", "sst_cell.png"])
    with xr.open_dataset(out / "sst_fit.nc") as res:
        ok = res["status"].values == 0
        assert ok.sum() > 10 and np.all(res["damping"].values[ok] >= 0)
        assert res["damping"].attrs["units"] == "1/year"


def test_demo_latent(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("matplotlib")
    out = tmp_path / "latent"
    proc = _cli("latent", "--quick", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(out, ["latent_forecast.nc", "latent_model.json", "latent_model.npz", "latent_samples.png"])
    with xr.open_dataset(out / "latent_forecast.nc") as ds:
        assert ds["mean"].shape == (151, 2) and np.all(ds["std"].values >= 0)


def test_demo_arm_reaches_its_target(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("matplotlib")
    out = tmp_path / "arm"
    proc = _cli("arm", "--quick", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(out, ["arm_motion.nc", "arm_motion.png"])
    from pysciml.demos.arm import LENGTHS, TARGET

    with xr.open_dataset(out / "arm_motion.nc") as ds:
        q = ds["position"].values
        # the saved hand is the textbook two-link hand of the saved angles, and ends on the target
        l1, l2 = LENGTHS
        hand = np.stack([l1 * np.cos(q[:, 0]) + l2 * np.cos(q[:, 0] + q[:, 1]),
                         l1 * np.sin(q[:, 0]) + l2 * np.sin(q[:, 0] + q[:, 1])], axis=1)  # fmt: skip
        np.testing.assert_allclose(ds["tip"].values[:, :2], hand, atol=1e-12)
        assert np.hypot(*(hand[-1] - np.asarray(TARGET))) < 1e-3
        assert np.hypot(*(hand[0] - np.asarray(TARGET))) > 1.0  # it started far away (hanging)


def test_demo_repressilator_period_matches_scipy(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("matplotlib")
    from scipy.integrate import solve_ivp

    from pysciml.demos.repressilator import period

    out = tmp_path / "rep"
    proc = _cli("repressilator", "--quick", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(out, ["repressilator.nc", "repressilator.png"])
    with xr.open_dataset(out / "repressilator.nc") as ds:
        t, p1 = ds["time"].values, ds["p1"].values
        got = float(ds.attrs["period"])

    # the Elowitz-Leibler equations written out by hand, solved by scipy
    a, a0, beta, n = 216.0, 0.216, 5.0, 2.0

    def rhs(_, u):
        m, p = u[:3], u[3:]
        rep = p[[2, 0, 1]]
        return np.concatenate([a0 + a / (1 + rep**n) - m, beta * (m - p)])

    ref = solve_ivp(rhs, (0, t[-1]), [0, 0, 0, 5, 0, 15], t_eval=t, rtol=1e-10, atol=1e-10, method="LSODA")
    np.testing.assert_allclose(p1, ref.y[3], rtol=1e-4, atol=1e-4 * np.abs(ref.y[3]).max())
    assert got == pytest.approx(period(t, ref.y[3]), rel=1e-3)
    assert 5.0 < got < 15.0  # it oscillates: a period was found
    if "repressilator.xml" in {p.name for p in out.iterdir()}:
        assert (out / "repressilator.xml").read_text().lstrip().startswith("<?xml")


def test_demo_climate_has_two_branches(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("matplotlib")
    out = tmp_path / "climate"
    proc = _cli("climate", "--quick", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(out, ["climate_equilibrium.nc", "climate_hysteresis.nc", "climate.png"])
    with xr.open_dataset(out / "climate_equilibrium.nc") as eq, xr.open_dataset(out / "climate_hysteresis.nc") as h:
        assert 10.0 < float(eq["global_mean"]) < 20.0  # today's climate, climlab's EBM defaults: about 14 degC
        top = h.isel(S0=-1)  # today's sun: warm going down, snowball coming back up
        warm, cold = (float(top.sel(branch=b)["global_mean"]) for b in ("decreasing", "increasing"))
        assert warm == pytest.approx(float(eq["global_mean"]), abs=0.1) and warm - cold > 20.0


def test_demo_fluids_keeps_the_mean_vorticity(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("matplotlib")
    from PIL import Image

    out = tmp_path / "fluids"
    proc = _cli("fluids", "--quick", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(out, ["vorticity.nc", "vorticity.png", "vorticity.gif"])
    with xr.open_dataset(out / "vorticity.nc") as ds:
        w = ds["vorticity"].values
        assert w.shape == (21, 32, 32) and np.isfinite(w).all()
        # on a periodic box the mean vorticity is conserved (zero here) and the forcing adds none
        np.testing.assert_allclose(w.mean(axis=(1, 2)), 0.0, atol=1e-10)
        assert ds["enstrophy"].values[-1] > ds["enstrophy"].values[0]  # the forcing stirs it up
    with Image.open(out / "vorticity.gif") as im:
        assert im.n_frames >= 2
