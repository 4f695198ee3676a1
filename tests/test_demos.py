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
