"""`pysciml demo --quick` (the tour) writes readable NetCDF files, a saved model and a PNG with a map."""

import os
import stat
import subprocess
import sys

import numpy as np
import pytest


def test_demo_quick(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "pysciml", "demo", "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "prey*predator" in proc.stdout
    names = {p.name for p in out.iterdir()}
    assert {"rober.nc", "lotka_volterra_ude.nc", "pysciml_demo.png", "lotka_volterra_discovered.json",
            "lotka_volterra_discovered.npz", "sst_fit.nc"} <= names
    assert not [n for n in names if n.startswith(".")]  # no temporary or lock files left behind
    mask = os.umask(0o022)
    os.umask(mask)
    for p in out.iterdir():  # every output readable as the user's other files are (not 0600)
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, p.name
    rober = xr.open_dataset(out / "rober.nc")
    np.testing.assert_allclose(rober["y3"].values[-1], 0.9821340, rtol=1e-6)
    assert "history" in rober.attrs and rober.attrs["Conventions"].startswith("CF")
    assert (out / "pysciml_demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
