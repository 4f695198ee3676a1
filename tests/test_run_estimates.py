"""Large runs tell ahead what they will take (issue 19 item 5): a latent model's training after its
second step, a molecular-dynamics run after its second block of steps -- on the progress bar and at
INFO level on the package's loggers (ensembles: tests/test_ensemble.py; gridded fits:
tests/test_cells_memory.py)."""

import logging
import re

import numpy as np
import pytest

import pysciml as ps
from pysciml import physics as phys


def _told(caplog, logger):
    return [r.getMessage() for r in caplog.records if r.name == logger]


def test_a_latent_fit_tells_its_pace_memory_and_total_time(caplog, capsys):
    from helpers.latent_data import oscillators

    data = [(d["t"], d["y"]) for d in oscillators(6, seed=0)]
    with caplog.at_level(logging.INFO, logger="pysciml.latent"):
        ps.LatentODE(n_latent=2, encoder_hidden=4, ode_hidden=4, decoder_hidden=0, verbose=1).fit(data, steps=12)
    told = _told(caplog, "pysciml.latent")
    assert len(told) == 1, told
    m = re.search(r"~(\d+) ms/step after (\d+) s compile, ~(\d+) s for 12 steps, peak RSS (\d+) MiB", told[0])
    assert m and int(m.group(4)) > 0, told[0]
    assert "s for 12 steps" in capsys.readouterr().err  # beside the loss on the progress bar


def test_a_latent_fit_of_one_step_tells_nothing(caplog):
    from helpers.latent_data import oscillators

    data = [(d["t"], d["y"]) for d in oscillators(4, seed=0)]
    with caplog.at_level(logging.INFO, logger="pysciml.latent"):
        ps.LatentODE(n_latent=2, encoder_hidden=4, ode_hidden=4, decoder_hidden=0).fit(data, steps=1)
    assert _told(caplog, "pysciml.latent") == []  # no pace is known before a second step


@pytest.mark.parametrize("steps, save_every", [(40, 10), (10, 10)])
def test_an_md_run_tells_its_pace_trajectory_size_and_total_time(caplog, capsys, steps, save_every):
    lj = phys.LennardJones(sigma=1.0, epsilon=1.0, r_cut=2.5, shift=True)
    atoms = phys.fcc_lattice(256, 0.8442, 0.722, seed=0)
    with caplog.at_level(logging.INFO, logger="pysciml.physics"):
        ds = phys.run_md(lj, atoms, steps=steps, dt=0.005, save_every=save_every, verbose=1)
    told = _told(caplog, "pysciml.physics")
    assert len(told) == 1, told
    m = re.search(rf"256 atoms: ~[0-9.e+-]+ ms/step, ~\d+ s for {steps} steps, trajectory ([0-9.]+) MiB", told[0])
    assert m, told[0]
    saved = ds["position"].nbytes + ds["velocity"].nbytes + ds["potential_energy"].nbytes
    assert abs(float(m.group(1)) - saved / 2**20) <= 0.051  # the size told is the size returned
    assert "ms/step" in capsys.readouterr().err
    assert np.isfinite(ds["total_energy"].values).all()


def test_md_verbose_must_be_a_count():
    lj = phys.LennardJones(sigma=1.0, epsilon=1.0, r_cut=2.5, shift=True)
    with pytest.raises(ps.InputError, match="verbose"):
        phys.run_md(lj, phys.fcc_lattice(256, 0.8442, 0.722, seed=0), steps=10, dt=0.005, save_every=10, verbose=-1)


def test_a_gridded_fit_tells_its_batch_memory_and_time(caplog):
    from helpers.gridded_data import gridded, relax_model

    da, _, _ = gridded(ny=3, nx=4, nt=12, land=False)
    with caplog.at_level(logging.INFO, logger="pysciml.cells"):
        da.sciml.fit(relax_model(), verbose=0, optimizers=[ps.Adam(1e-2, steps=2)], max_memory="64MiB")
    told = _told(caplog, "pysciml.cells")
    assert told and all(re.search(r"\d+ cells/batch, ~\d+ MiB/batch predicted, peak RSS \d+ MiB", t) for t in told)
