"""Checkpoints: atomic, exact resumption after a callback stop, SIGKILL and Ctrl-C (SIGINT)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import pysciml as ps
from pysciml.errors import FileFormatError, InputError

HERE = Path(__file__).parent


def _run(mode, ckpt, out, **popen):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)]))
    return subprocess.Popen([sys.executable, str(HERE / "helpers" / "ckpt_worker.py"), mode, str(ckpt), str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "full.npz"
    proc = _run("full", "-", out)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    return np.load(out)


def _wait_for_checkpoint(path: Path, proc, min_writes_bytes=1, timeout=300):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if path.exists() and path.stat().st_size >= min_writes_bytes:
            time.sleep(1.5)  # let training pass a few more chunks
            return
        if proc.poll() is not None:
            pytest.fail("the worker finished before writing a checkpoint:\n" + proc.stderr.read())
        time.sleep(0.2)
    pytest.fail("no checkpoint appeared")


def _resume_and_compare(tmp_path, ckpt, uninterrupted):
    out = tmp_path / "resumed.npz"
    proc = _run("resume", ckpt, out)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    res = np.load(out)
    np.testing.assert_array_equal(res["nn"], uninterrupted["nn"])
    np.testing.assert_array_equal(res["history"], uninterrupted["history"])
    assert int(res["status"]) == 0


def test_sigkill_then_resume_equals_uninterrupted(tmp_path, uninterrupted):
    ckpt = tmp_path / "fit.ckpt"
    proc = _run("run", ckpt, tmp_path / "killed.npz")
    _wait_for_checkpoint(Path(str(ckpt) + ".npz"), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not (tmp_path / "killed.npz").exists()
    assert not list(tmp_path.glob("*.partial"))  # no half-written checkpoint left behind either way
    _resume_and_compare(tmp_path, ckpt, uninterrupted)


def test_ctrl_c_stops_cleanly_with_a_checkpoint(tmp_path, uninterrupted):
    ckpt = tmp_path / "fit.ckpt"
    out = tmp_path / "interrupted.npz"
    proc = _run("run", ckpt, out)
    _wait_for_checkpoint(Path(str(ckpt) + ".npz"), proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert "STATUS INTERRUPTED" in proc.stdout.read()
    res = np.load(out)
    assert int(res["status"]) == int(ps.Status.INTERRUPTED)
    assert np.all(np.isfinite(res["nn"])) and int(res["n_iter"]) < len(uninterrupted["history"])
    _resume_and_compare(tmp_path, ckpt, uninterrupted)


def test_resume_refuses_a_different_fit(tmp_path, jax_engine):
    from helpers.ckpt_worker import KW, model_and_data

    model, (t, y) = model_and_data()
    kw = dict(KW, optimizers=[ps.Adam(1e-2, steps=60)], strategy=ps.SingleShooting())
    model.fit((t, y), checkpoint=tmp_path / "c", checkpoint_every=50, **kw)
    other, _ = model_and_data()
    with pytest.raises(InputError) as info:
        other.fit((t, 1.01 * y), checkpoint=tmp_path / "c", resume=True, **kw)
    assert info.value.argument == "resume"
    (tmp_path / "c.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(FileFormatError) as info:
        other.fit((t, y), checkpoint=tmp_path / "c", resume=True, **kw)
    assert info.value.argument == "checkpoint"
    with pytest.raises(InputError, match="checkpoint"):
        other.fit((t, y), resume=True, **kw)
