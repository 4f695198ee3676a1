"""Bad-input cases of ps.solve_ensemble, for the table of tests/test_bad_input.py.

Each case is ``(case_id, call(tmp_path), exception, argument)``.
"""

from __future__ import annotations

import numpy as np

import pysciml as ps
from pysciml.errors import InputError


def _decay():
    return ps.ODEModel(lambda u, p, t, m: -p.k * u, states=["y"], params={"k": 0.5}, u0=[1.0])


def _ens(**kw):
    return ps.solve_ensemble(_decay(), **{"t": (0.0, 1.0), **kw})


CASES = [
    ("ensemble-nothing-varies", lambda tmp: _ens(u0=[1.0]), InputError, "vary"),
    ("ensemble-unknown-parameter", lambda tmp: _ens(vary={"kk": [0.1, 0.2]}), InputError, "vary.kk"),
    ("ensemble-parameter-shape", lambda tmp: _ens(vary={"k": np.ones((3, 2))}), InputError, "vary.k"),
    ("ensemble-parameter-not-numbers", lambda tmp: _ens(vary={"k": ["a", "b"]}), InputError, "vary.k"),
    ("ensemble-parameter-nan", lambda tmp: _ens(vary={"k": [0.1, np.nan]}), InputError, "vary.k"),
    ("ensemble-vary-not-a-mapping", lambda tmp: _ens(vary=[0.1, 0.2]), InputError, "vary"),
    ("ensemble-members-disagree", lambda tmp: _ens(u0=np.ones((3, 1)), vary={"k": [0.1, 0.2]}), InputError, "u0"),
    ("ensemble-no-members", lambda tmp: _ens(vary={"k": np.zeros(0)}), InputError, "vary.k"),
    ("ensemble-shared-and-varied", lambda tmp: _ens(params={"k": 1.0}, vary={"k": [0.1, 0.2]}), InputError, "vary.k"),
    ("ensemble-u0-row-nan", lambda tmp: _ens(u0=np.array([[1.0], [np.inf]])), InputError, "u0"),
    ("ensemble-memory-text", lambda tmp: _ens(vary={"k": [0.1]}, max_memory="lots"), InputError, "max_memory"),
    ("ensemble-batch-size-zero", lambda tmp: _ens(vary={"k": [0.1]}, batch_size=0), InputError, "batch_size"),
    (
        "ensemble-of-an-sde",
        lambda tmp: ps.solve_ensemble(
            ps.SDEModel(lambda u, p, t, m: [-u[0]], lambda u, p, t, m: [0.1 + 0.0 * u[0]], ["x"], {}, noise="additive"),
            [1.0],
            (0.0, 1.0),
        ),
        InputError,
        "model",
    ),
]
