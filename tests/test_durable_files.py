"""Nothing lost: interrupted writes keep the previous file, concurrent writers never corrupt.

* A write that stops half-way (an exception or Ctrl-C inside the writer, or ``kill -9``
  of the writing process) leaves the previous NetCDF file, Zarr store, checkpoint or
  saved model intact and loadable, and nothing half-written under the user's name.
* Two processes fitting and saving into the same directory under the same names leave
  files that each load completely (one writer's version, never a mix).

(The NetCDF / Zarr variants with an exception inside xarray's writer are in
``test_gridded_io.py``; here: a killed process, checkpoints and saved models.)
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import FileFormatError, InputError
from pysciml.fitting.checkpoint import Checkpointer, load_checkpoint

HERE = Path(__file__).resolve().parent
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)] + sys.path))


def _decay(u, p, t, m):
    return -p.k * u


def _user_files(directory: Path) -> list[str]:
    """What the user sees (hidden temporary and lock files excluded)."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


@pytest.fixture
def crash_half_way(monkeypatch):
    """Make the next ``Path.write_bytes`` write half its data, then raise KeyboardInterrupt."""
    real = pathlib.Path.write_bytes
    calls = {"n": 0, "crash_at": 1}

    def write_bytes(self, data):
        calls["n"] += 1
        if calls["n"] == calls["crash_at"]:
            with open(self, "wb") as fh:
                fh.write(bytes(data)[: len(data) // 2])
            raise KeyboardInterrupt("simulated Ctrl-C in the middle of a write")
        return real(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
    return calls


# -- interrupted writes -----------------------------------------------------------------------------------
def test_interrupted_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, crash_half_way):
    ckpt = Checkpointer(tmp_path / "fit.ckpt", "f" * 64)
    first = {"history": np.arange(5.0), "carry/0": np.ones((3, 2))}
    crash_half_way["crash_at"] = 2  # the first save goes through, the second stops half-way
    ckpt.save({"phase_index": 0, "loop_state": {"done": 5}}, first, 5)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save({"phase_index": 1, "loop_state": {"done": 10}}, {"history": np.arange(10.0)}, 10)
    meta, arrays = load_checkpoint(tmp_path / "fit.ckpt", "f" * 64)
    assert meta["phase_index"] == 0 and meta["loop_state"] == {"done": 5}
    for k, v in first.items():
        np.testing.assert_array_equal(arrays[k], v)
    assert os.listdir(tmp_path) == ["fit.ckpt.npz"]  # the temporary file was removed


@pytest.mark.parametrize("crash_at", [1, 2], ids=["in-the-npz", "in-the-json"])
def test_interrupted_model_save_keeps_the_previous_model(tmp_path, crash_half_way, crash_at):
    old = ps.ODEModel(_decay, ["y"], {"k": ps.Param(0.25, units="1/day")})
    crash_half_way["crash_at"] = 10**9
    old.save(tmp_path / "model")
    before = {p: (tmp_path / p).read_bytes() for p in ("model.json", "model.npz")}
    crash_half_way.update(n=0, crash_at=crash_at)
    with pytest.raises(KeyboardInterrupt):
        ps.ODEModel(_decay, ["y"], {"k": 0.75}).save(tmp_path / "model")
    assert {p: (tmp_path / p).read_bytes() for p in before} == before  # both files untouched
    assert ps.load(tmp_path / "model", physics=_decay).param_specs["k"].default == 0.25
    assert _user_files(tmp_path) == ["model.json", "model.npz"]
    assert not list(tmp_path.glob("*.partial"))


def test_a_save_stopped_between_its_two_renames_is_refused_not_mixed(tmp_path, monkeypatch):
    ps.ODEModel(_decay, ["y"], {"k": 0.25}).save(tmp_path / "model")
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed between the renames")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        ps.ODEModel(_decay, ["y"], {"k": 0.75}).save(tmp_path / "model")
    monkeypatch.undo()
    with pytest.raises(FileFormatError, match="different saves") as info:
        ps.load(tmp_path / "model", physics=_decay)
    assert info.value.argument == "path"


_NETCDF_WRITER = r"""
import sys, numpy as np, xarray as xr
import pysciml.cells
target = sys.argv[1]
print("ready", flush=True)
for i in range(10_000):
    v = float(i % 2 + 1)
    ds = xr.Dataset({"loss": ("cell", np.full(400_000, v))}, attrs={"writer_value": v})
    ds.sciml.to_netcdf(target)
"""


def test_killing_a_process_mid_write_leaves_a_complete_netcdf(tmp_path):
    xr = pytest.importorskip("xarray")
    target = tmp_path / "result.nc"
    rng = np.random.default_rng(0)
    for _round in range(3):
        proc = subprocess.Popen([sys.executable, "-c", _NETCDF_WRITER, str(target)], env=ENV, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        t0 = time.monotonic()
        while not target.exists() and time.monotonic() - t0 < 120:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.5))  # somewhere inside one of the writes
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        with xr.open_dataset(target) as ds:  # complete: every value from one write, matching its attribute
            values = np.unique(ds["loss"].values)
            assert values.size == 1 and values[0] == ds.attrs["writer_value"] and ds.sizes["cell"] == 400_000
        assert _user_files(tmp_path) == ["result.nc"]
    # a killed process cannot remove its temporary file; the next write to the name removes it
    xr.Dataset({"loss": ("cell", np.zeros(3))}).sciml.to_netcdf(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.nc"]


def test_temporary_files_of_dead_writers_are_removed_by_the_next_write(tmp_path):
    xr = pytest.importorskip("xarray")
    from pysciml.io.atomic import _tag

    host = _tag().rsplit("-", 1)[0]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.nc.{host}-{dead.pid}.x1y2.partial"
    live = tmp_path / f".out.nc.{host}-{os.getppid()}.a1b2.partial"  # a live writer's file stays
    other_host = tmp_path / f".out.nc.otherhost-{dead.pid}.c3d4.partial"  # can't tell: stays
    for p in (stale, live, other_host):
        p.write_bytes(b"half")
    xr.Dataset({"x": ("i", np.arange(3.0))}).sciml.to_netcdf(tmp_path / "out.nc")
    assert not stale.exists() and live.exists() and other_host.exists()


def test_a_zarr_store_is_swapped_in_whole(tmp_path, monkeypatch):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    from pysciml.io import atomic

    target = tmp_path / "res.zarr"
    for value, exchange in ((1.0, None), (2.0, None), (3.0, lambda a, b: False)):  # atomic swap, then the fallback
        if exchange is not None:
            monkeypatch.setattr(atomic, "_exchange", exchange)
        xr.Dataset({"x": ("i", np.full(4, value))}).sciml.to_zarr(target)
        with xr.open_zarr(target, consolidated=False) as ds:
            assert np.all(ds["x"].values == value)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["res.zarr"]


# -- two processes, one directory -------------------------------------------------------------------------
_FITTER = r"""
import sys, numpy as np, pysciml as ps
import pysciml.cells, xarray as xr
out, k_true = sys.argv[1], float(sys.argv[2])
def decay(u, p, t, m):
    return -p.k * u
t = np.linspace(0, 3, 12)
model = ps.ODEModel(decay, ["y"], {"k": 0.5})
model.fit((t, np.exp(-k_true * t)), u0=[1.0], strategy=ps.SingleShooting(), optimizers=[ps.Adam(5e-2, steps=200)],
          checkpoint=f"{out}/fit.ckpt", checkpoint_every=50, verbose=0)
print("fitted", model.params_["k"], flush=True)
res = xr.Dataset({"k": ((), model.params_["k"])}, attrs={"writer": sys.argv[2]})
for _ in range(25):
    model.save(f"{out}/model")
    res.sciml.to_netcdf(f"{out}/result.nc")
"""


def test_two_processes_fitting_into_one_directory_never_corrupt_each_other(tmp_path):
    xr = pytest.importorskip("xarray")
    procs = [subprocess.Popen([sys.executable, "-c", _FITTER, str(tmp_path), k], env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in ("0.3", "0.9")]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    fitted = {k: float(o[0].split()[1]) for k, o in zip(("0.3", "0.9"), outs)}
    assert _user_files(tmp_path) == ["fit.ckpt.npz", "model.json", "model.npz", "result.nc"]
    # the saved model is one writer's complete pair (the JSON's checksum matches the npz)
    model = ps.load(tmp_path / "model", physics=_decay)
    assert any(model.params_["k"] == v for v in fitted.values())
    assert model.loss_history_.shape == (200,) and model.status_ is ps.Status.SUCCESS
    # the checkpoint is a complete file of one of the two fits (the other fit's resume refuses it)
    with np.load(tmp_path / "fit.ckpt.npz", allow_pickle=False) as z:
        meta = json.loads(z["__meta__"].tobytes())
        assert z["history"].shape == (200,) and meta["format"] == "pysciml-checkpoint"
    with pytest.raises(InputError, match="different fit"):
        load_checkpoint(tmp_path / "fit.ckpt", "0" * 64)
    with xr.open_dataset(tmp_path / "result.nc") as ds:
        assert float(ds["k"]) == fitted[ds.attrs["writer"]]


def test_a_save_waits_for_another_writer_of_the_same_name(tmp_path):
    import threading

    from pysciml.io.atomic import file_lock

    model = ps.ODEModel(_decay, ["y"], {"k": 0.25})
    done = threading.Event()
    with file_lock(tmp_path / "model.json"):  # another process is saving "model"
        worker = threading.Thread(target=lambda: (model.save(tmp_path / "model"), done.set()))
        worker.start()
        assert not done.wait(0.5)  # blocked: it may not rename while the other writer holds the lock
        assert not (tmp_path / "model.json").exists()
    worker.join(timeout=30)
    assert done.is_set() and ps.load(tmp_path / "model", physics=_decay).param_specs["k"].default == 0.25


def test_checkpoints_fall_due_every_n_steps_or_seconds(tmp_path, monkeypatch):
    from pysciml.fitting import checkpoint as ck

    now = [100.0]
    monkeypatch.setattr(ck.time, "monotonic", lambda: now[0])
    both = Checkpointer(tmp_path / "a", "f", every_steps=50, every_seconds=60.0)
    assert not both.due(49) and both.due(50)  # steps, whichever comes first
    now[0] += 61.0
    assert both.due(1)  # ... or seconds
    both.save({}, {"x": np.ones(1)}, 10)  # a write restarts both clocks
    assert not both.due(59) and both.due(60)
    steps_only = Checkpointer(tmp_path / "b", "f", every_steps=50, every_seconds=None)
    now[0] += 1e6
    assert not steps_only.due(49)
    seconds_only = Checkpointer(tmp_path / "c", "f", every_steps=None, every_seconds=5.0)
    assert not seconds_only.due(10**6)
    now[0] += 5.0
    assert seconds_only.due(0)
