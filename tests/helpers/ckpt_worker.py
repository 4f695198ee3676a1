"""A small fit used by the checkpoint tests: ``python ckpt_worker.py MODE CHECKPOINT OUT``.

MODE: ``full`` (no checkpoint), ``run`` (checkpointing; may be killed), ``resume``.
Writes the fitted network weights and status to OUT (.npz).
"""

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make tests/helpers importable as `helpers`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import pysciml as ps
from helpers.lv_data import lotka_volterra_ude, noisy_samples

KW = dict(strategy=ps.GrowingHorizon(stages=2, steps=150), optimizers=[ps.Adam(1e-2, steps=400), ps.LBFGS(steps=60)],
          verbose=0, seed=1)


def model_and_data():
    t, y = noisy_samples(n=20, seed=6)
    model = ps.UDE(lotka_volterra_ude, ["prey", "predator"], {"alpha": 1.3, "delta": 1.8},
                   networks={"nn": ps.MLP(2, 2, width=8, depth=1)})
    return model, (t, y)


def main(mode, ckpt, out):
    model, data = model_and_data()
    if mode == "full":
        model.fit(data, **KW)
    else:
        model.fit(data, checkpoint=ckpt, checkpoint_every=50, checkpoint_seconds=None, resume=(mode == "resume"), **KW)
    np.savez(out, nn=model.network_params_["nn"], status=int(model.status_), n_iter=model.n_iter_,
             history=model.loss_history_)
    print("STATUS", model.status_.name, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
