"""A fresh process for the compiled-model cache tests: solve or fit, save the result, print counters.

    python cache_worker.py solve MODEL_FILE SOLVER OUT.npy
    python cache_worker.py fit OUT.npz [TRAJECTORIES]
"""

import importlib.util
import json
import os
import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make tests/helpers importable as `helpers`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pysciml as ps  # noqa: E402
import pysciml.cache  # noqa: E402,F401


def _load(path):
    spec = importlib.util.spec_from_file_location("user_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solve(model_file, solver, out):
    model = _load(model_file).model
    if solver == "rodas5p-sparse":  # a Rosenbrock method with a sparse linear solver
        solver = ps.Rodas5P(linsolve=ps.SparseLU())
    sol = ps.solve(model, [1.0, 0.5], (0.0, 2.0), solver=solver, rtol=1e-8, atol=1e-10)
    np.save(out, np.asarray(sol.u))
    return {"status": int(sol.status)}


def fit(out, trajectories=1):
    from helpers.lv_data import lotka_volterra_ude, noisy_samples

    t, y = noisy_samples(n=20, noise=0.01, seed=0)
    data = (t, y) if trajectories == 1 else [(t, y), (t, y * 1.01)]
    model = ps.UDE(lotka_volterra_ude, states=["prey", "predator"], params={"alpha": 1.3, "delta": 1.8},
                   networks={"nn": ps.MLP(2, 2, width=8, depth=1, activation="tanh")})
    model.fit(data, fixed=["alpha", "delta"], seed=0, verbose=0, strategy=ps.SingleShooting(),
              optimizers=[ps.Adam(1e-2, steps=60), ps.LBFGS(steps=10)])
    np.savez(out, history=model.loss_history_, nn=np.asarray(model.network_params_["nn"]))
    return {"status": model.status_.name}


if __name__ == "__main__":
    what = sys.argv[1]
    result = solve(*sys.argv[2:5]) if what == "solve" else fit(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    info = ps.cache.info()
    result.update({k: info[k] for k in ("hits", "misses", "writes", "rejected", "skipped", "entries", "enabled")})
    result["reasons"] = info["reasons"]
    result["modules"] = sorted(m for m in ("diffrax", "optax", "equinox") if m in sys.modules)
    print("RESULT " + json.dumps(result))
