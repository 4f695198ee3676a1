"""Per-cell gridded fits checkpoint group by group and resume after SIGKILL (issue 19 item 1)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import cells_ckpt_worker as worker
from helpers.gridded_data import gridded, shared_model

from pysciml.errors import FileFormatError, InputError

HERE = Path(__file__).parent


def _groups(folder: Path) -> list[Path]:
    return sorted(folder.glob("cells-*.npz"))


@pytest.fixture(scope="module")
def data(jax_engine):
    da, ocean, truth = gridded()
    return da, ocean


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    """The same checkpointed fit run start to end in this process, and the plain fit."""
    folder = tmp_path_factory.mktemp("full") / "ckpt"
    da, ocean = data
    full = worker.fit(folder, resume=False)
    plain = da.sciml.fit(shared_model(), mask=ocean, verbose=0)
    return full, plain, folder


def test_checkpointed_fit_equals_the_plain_fit_and_saves_every_group(data, uninterrupted):
    full, plain, folder = uninterrupted
    n_fitted = int(np.asarray(data[1]).sum())
    assert len(_groups(folder)) == -(-n_fitted // worker.GROUP)  # one file per group of fitted cells
    for k in worker.FIELDS:
        np.testing.assert_allclose(full[k].values, plain[k].values, rtol=1e-9, atol=1e-14, equal_nan=True)
    assert full.attrs["checkpoint"] == str(folder) and full.attrs["checkpoint_cells"] == worker.GROUP


def test_sigkill_mid_fit_then_resume_equals_the_uninterrupted_fit(tmp_path, uninterrupted):
    full, _, _ = uninterrupted
    folder, out = tmp_path / "ckpt", tmp_path / "killed.npz"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)]))
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "helpers" / "cells_ckpt_worker.py"), str(folder), str(out), "1.0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while len(_groups(folder)) < 2:
        if proc.poll() is not None:
            pytest.fail("the worker ended before two groups were saved:\n" + proc.stderr.read())
        assert time.monotonic() < deadline, "no group was saved in 300 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    saved = _groups(folder)
    n_groups = len(list(_groups(Path(uninterrupted[2]))))
    assert 2 <= len(saved) < n_groups and not out.exists()  # killed mid-fit: some groups done, not all
    killed_ids = np.concatenate([np.load(p)["ids"] for p in saved])
    resumed = worker.fit(folder)  # in this process: fits only the groups the killed run had not saved
    assert len(_groups(folder)) == n_groups
    assert np.unique(np.concatenate([np.load(p)["ids"] for p in _groups(folder)])).size == int(
        np.isfinite(full["loss"].values).sum()
    )  # every fitted cell saved exactly once
    for k in worker.FIELDS:
        # the killed process's groups were computed in another process (XLA does not promise bitwise
        # equality across processes, see test_cells_dask), so 1e-9 relative there; bitwise in this one
        np.testing.assert_allclose(resumed[k].values, full[k].values, rtol=1e-9, atol=1e-14, equal_nan=True)
    flat = np.arange(full["loss"].size).reshape(full["loss"].shape)
    here = ~np.isin(flat, killed_ids) & np.isfinite(full["loss"].values)
    for k in ("lam", "forcing", "loss"):
        np.testing.assert_array_equal(resumed[k].values[here], full[k].values[here])


def test_checkpoint_is_never_overwritten_and_belongs_to_one_fit(data, tmp_path, uninterrupted):
    da, ocean = data
    folder = tmp_path / "ckpt"
    worker.fit(folder, resume=False)
    with pytest.raises(InputError, match="resume=True") as info:
        worker.fit(folder, resume=False)
    assert info.value.argument == "checkpoint"
    # negative controls: other data, other group size
    with pytest.raises(InputError, match="different fit") as info:
        (da + 0.01).sciml.fit(
            shared_model(), mask=ocean, verbose=0, checkpoint=folder, resume=True, checkpoint_cells=worker.GROUP
        )
    assert info.value.argument == "resume"
    with pytest.raises(InputError, match="checkpoint_cells=6"):
        da.sciml.fit(shared_model(), mask=ocean, verbose=0, checkpoint=folder, resume=True, checkpoint_cells=7)
    # a damaged group file is refused, not silently refitted or read as numbers
    _groups(folder)[0].write_bytes(b"not an npz")
    with pytest.raises(FileFormatError):
        worker.fit(folder)


def test_dask_chunks_checkpoint_and_resume(data, tmp_path, uninterrupted):
    pytest.importorskip("dask")
    da, ocean = data
    full = uninterrupted[0]
    folder = tmp_path / "ckpt"

    def run(resume):
        lazy = da.chunk({"lat": 2, "lon": 4})
        res = lazy.sciml.fit(
            shared_model(), mask=ocean, verbose=0, checkpoint=folder, resume=resume, checkpoint_cells=4
        )
        return res.compute(scheduler="synchronous")

    first = run(False)
    files = _groups(folder)
    assert len(files) >= 6  # groups within each of the 6 chunks, named by global cell index
    for p in files[::2]:
        p.unlink()  # as if the job had died before these groups finished
    again = run(True)
    assert len(_groups(folder)) == len(files)
    for k in worker.FIELDS:
        np.testing.assert_array_equal(again[k].values, first[k].values)
        np.testing.assert_allclose(first[k].values, full[k].values, rtol=1e-9, atol=1e-14, equal_nan=True)


def test_progress_tells_the_batch_memory_and_time_after_the_first_batch(data, capsys):
    """Resource estimate told ahead (issue 19 item 5): after the first batch the progress bar shows the
    batch size, the predicted memory per batch (the number the fit reports) and the peak RSS."""
    import re

    da, ocean = data
    res = da.sciml.fit(shared_model(), mask=ocean, verbose=1, cells_per_batch=8, workers=1)
    err = capsys.readouterr().err
    m = re.search(r"(\d+) cells/batch, ~(\d+) MiB/batch predicted, peak RSS (\d+) MiB, ~(\d+) s", err)
    assert m, err[-500:]
    assert int(m.group(1)) == res.attrs["cells_per_batch"] == 8
    assert int(m.group(2)) == round(res.attrs["predicted_batch_bytes"] / 2**20)
    assert int(m.group(3)) > 0
