"""Files people can share: results are written with the user's umask, and no lock files are left.

Atomic writes go through a temporary file made by ``tempfile.mkstemp`` (mode 0600); the
final file must have the mode of any new file of the user (``0o666 & ~umask``), so a
collaborator in the same group can read a NetCDF result, a saved model or a figure.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import pysciml as ps
from pysciml.io.atomic import atomic_write_bytes, file_lock, user_file_mode

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and umask are POSIX")


def _decay(u, p, t, m):
    return -p.k * u


@pytest.fixture(params=[0o022, 0o027, 0o077])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_user_file_mode_reads_the_umask(umask):
    assert user_file_mode() == 0o666 & ~umask
    # the same figure from a fresh process with its own umask (read from /proc or os.umask)
    code = "import os; os.umask(0o002); from pysciml.io.atomic import user_file_mode; print(oct(user_file_mode()))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "0o664"


def test_netcdf_saved_model_and_bytes_get_the_user_mode(tmp_path, umask):
    xr = pytest.importorskip("xarray")
    expected = 0o666 & ~umask
    ps.io.files.write_netcdf(xr.Dataset({"a": ("x", np.arange(3.0))}), tmp_path / "r.nc")
    ps.ODEModel(_decay, ["y"], {"k": 0.5}).save(tmp_path / "model")
    atomic_write_bytes(tmp_path / "b.bin", b"abc")
    atomic_write_bytes(tmp_path / "b.bin", b"abcd")  # replacing keeps the user's mode too
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["b.bin", "model.json", "model.npz", "r.nc"]  # no lock or temporary file left
    for name in names:
        assert _mode(tmp_path / name) == expected, (name, oct(_mode(tmp_path / name)))
    ps.load(tmp_path / "model", physics=_decay)  # a read leaves nothing behind either
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_zarr_store_gets_the_user_modes(tmp_path, umask):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    ps.io.files.write_zarr(xr.Dataset({"a": ("x", np.arange(3.0))}), tmp_path / "r.zarr")
    ps.io.files.write_zarr(xr.Dataset({"a": ("x", np.arange(4.0))}), tmp_path / "r.zarr")  # replace
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.zarr"]
    for p in (tmp_path / "r.zarr").rglob("*"):
        assert _mode(p) == ((0o777 if p.is_dir() else 0o666) & ~umask), p


def test_private_mode_on_request(tmp_path):
    atomic_write_bytes(tmp_path / "secret", b"x", mode=0o600)
    assert _mode(tmp_path / "secret") == 0o600


def test_compiled_cache_entries_stay_private(tmp_path, monkeypatch):
    from pysciml.cache import store

    monkeypatch.setenv("PYSCIML_CACHE_DIR", str(tmp_path))
    old = os.umask(0o022)
    try:
        assert store.write("ab" * 16, b"payload", kind="test", label="t")
    finally:
        os.umask(old)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and all(_mode(p) == 0o600 for p in files)


def test_the_lock_is_held_on_the_folder_and_leaves_no_file(tmp_path):
    """Two writers of one folder exclude each other; readers share; no ``.lock`` file appears."""
    order: list[str] = []
    entered = threading.Event()

    def second_writer():
        entered.set()
        with file_lock(tmp_path / "b.json"):
            order.append("second")

    with file_lock(tmp_path / "a.json"):
        worker = threading.Thread(target=second_writer)
        worker.start()
        entered.wait(5)
        worker.join(0.3)
        assert worker.is_alive()  # waits for the first writer
        order.append("first")
    worker.join(10)
    assert order == ["first", "second"]
    with file_lock(tmp_path / "a.json", shared=True), file_lock(tmp_path / "a.json", shared=True):
        pass  # two readers at once
    assert list(tmp_path.iterdir()) == []
