"""Every misuse case of pysciml.latent (tests/bad_input_latent.py) raises its error, naming the argument."""

from __future__ import annotations

import pytest
from helpers.bad_input_latent import CASES

from pysciml.errors import PySciMLError


@pytest.mark.parametrize("case_id, call, exc, argument", CASES, ids=[c[0] for c in CASES])
def test_misuse_raises_and_names_the_argument(case_id, call, exc, argument, tmp_path):
    with pytest.raises(exc) as info:
        call(tmp_path)
    err = info.value
    assert isinstance(err, PySciMLError)
    assert argument in str(err) or err.argument == argument, (case_id, str(err))


def test_there_are_enough_cases():
    assert len(CASES) >= 10 and len({c[0] for c in CASES}) == len(CASES)


def test_import_loads_no_engine():
    import subprocess
    import sys

    code = "import sys, pysciml.latent; print(sorted(m for m in ('jax', 'equinox', 'diffrax') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_valid_options_are_normalised(tmp_path):
    from pysciml.latent import LatentODE
    from pysciml.solvers import Dopri5

    m = LatentODE(2, solver=Dopri5(), noise_std=[0.1, 0.2], time_scale=2.0, states=["x", "v"], encoder="gru")
    assert m.solver == "dopri5" and m.noise_std == [0.1, 0.2] and m.states == ("x", "v")
    m.save(tmp_path / "unfitted")
    back = LatentODE.load(tmp_path / "unfitted")
    assert back.get_params() == m.get_params() and not hasattr(back, "weights_")
