"""A latent ODE or SDE as a saved document: configuration, weights, training history and data (no pickle).

``model.save("run")`` writes ``run.json`` and ``run.npz`` through the one file format
of :mod:`pysciml.io.saved`; ``ps.load("run")`` (or ``LatentODE.load``) reads them back
exactly: weights are stored as float64 arrays in tree order and rebuilt into the same
network layout, so predictions are bit-identical.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from ..data.serialize import observations_from_arrays, observations_to_arrays
from ..engines.requests import LatentConfig, LatentSDEConfig
from ..errors import FileFormatError
from ..io.saved import read_pair, write_pair
from ..status import Status
from .config import latent_solver
from .data import Scaling

__all__ = ["save_latent", "read_latent", "latent_from_document", "FORMAT", "SDE_FORMAT", "FORMATS", "VERSION"]

FORMAT = "pysciml-latent-ode"
SDE_FORMAT = "pysciml-latent-sde"
VERSION = 1
#: the format of each latent model class, and the configuration class it saves
FORMATS = {"LatentODE": FORMAT, "LatentSDE": SDE_FORMAT}
_CONFIGS = {"LatentODE": LatentConfig, "LatentSDE": LatentSDEConfig}


def save_latent(model, path) -> None:
    """Write ``path.json`` and ``path.npz`` for a LatentODE or LatentSDE (fitted or not)."""
    params = model.get_params()
    params["states"] = list(params["states"]) if params["states"] is not None else None
    name = type(model).__name__
    doc: dict = {"format": FORMATS[name], "version": VERSION, "class": name, "params": params}
    arrays: dict[str, np.ndarray] = {}
    if hasattr(model, "weights_"):
        for i, w in enumerate(model.weights_):
            arrays[f"weights/{i:04d}"] = np.asarray(w, dtype=np.float64)
        for k, v in model.history_.items():
            arrays[f"history/{k}"] = np.asarray(v, dtype=np.float64)
        arrays["scaling/mean"] = np.asarray(model.scaling_.mean, float)
        arrays["scaling/scale"] = np.asarray(model.scaling_.scale, float)
        arrays["noise_std"] = np.asarray(model.noise_std_, float)
        if model.scaling_.cond_mean is not None:
            arrays["scaling/cond_mean"] = np.asarray(model.scaling_.cond_mean, float)
            arrays["scaling/cond_scale"] = np.asarray(model.scaling_.cond_scale, float)
            arrays["conditions"] = np.asarray(model.conditions_, float)
        obs_desc, obs_arrays = observations_to_arrays(model.observations_)
        arrays.update(obs_arrays)
        cfg = dataclasses.asdict(model.config_)
        cfg["noise_scaled"] = list(cfg["noise_scaled"]) if cfg["noise_scaled"] is not None else None
        cfg["solver"] = model.config_.solver.name.lower()
        doc["fitted"] = {
            "config": cfg,
            "n_weights": len(model.weights_),
            "state_names": list(model.state_names_),
            "t_offset": model.scaling_.t_offset,
            "time_scale": model.scaling_.time_scale,
            "elbo": model.elbo_,
            "loglik": model.loglik_,
            "kl": model.kl_,
            "n_iter": model.n_iter_,
            "status": model.status_.name,
            "message": model.message_,
            "fit_seconds": model.fit_seconds_,
            "compile_seconds": model.compile_seconds_,
            "observations": obs_desc,
        }
    write_pair(path, doc, arrays)


def latent_from_document(cls, doc: dict, arrays: Mapping[str, np.ndarray], path):
    """A ``cls`` (LatentODE or LatentSDE) rebuilt from a loaded document of its format and its arrays."""
    try:
        return _rebuild(cls, doc, arrays, path)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise FileFormatError(
            f"{path} is incomplete or damaged (missing or malformed {exc}); save the model again.", argument="path"
        ) from None


def _rebuild(cls, doc: dict, arrays: Mapping[str, np.ndarray], path):
    model = cls(**dict(doc["params"]))
    fitted = doc.get("fitted")
    if not fitted:
        return model
    cfg = dict(fitted["config"])
    cfg["noise_scaled"] = tuple(cfg["noise_scaled"]) if cfg["noise_scaled"] is not None else None
    try:
        cfg["solver"] = latent_solver(cfg["solver"])
        model.config_ = _CONFIGS[cls.__name__](**cfg)
        model.weights_ = [arrays[f"weights/{i:04d}"] for i in range(fitted["n_weights"])]
    except (TypeError, KeyError) as exc:
        raise FileFormatError(f"{path}: incomplete latent model file ({exc}).", argument="path") from None
    model.scaling_ = Scaling(
        arrays["scaling/mean"],
        arrays["scaling/scale"],
        float(fitted["t_offset"]),
        float(fitted["time_scale"]),
        arrays.get("scaling/cond_mean"),
        arrays.get("scaling/cond_scale"),
    )
    model.conditions_ = arrays.get("conditions")
    model.state_names_ = tuple(fitted["state_names"])
    model.n_states_ = len(model.state_names_)
    model.history_ = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("history/")}
    model.noise_std_ = arrays["noise_std"]
    model.observations_ = observations_from_arrays(fitted["observations"], arrays)
    for k in ("elbo", "loglik", "kl"):
        setattr(model, f"{k}_", float(fitted[k]))
    model.n_iter_ = int(fitted["n_iter"])
    model.status_ = Status[fitted["status"]]
    model.message_ = fitted["message"]
    model.fit_seconds_ = float(fitted["fit_seconds"])
    model.compile_seconds_ = float(fitted["compile_seconds"])
    return model


def read_latent(cls, path):
    """A ``cls`` (LatentODE or LatentSDE) saved at ``path`` (with or without ``.json``)."""
    what = "latent SDE" if cls.__name__ == "LatentSDE" else "latent ODE"
    doc, arrays = read_pair(path, {FORMATS[cls.__name__]: VERSION}, what=what)
    return latent_from_document(cls, doc, arrays, path)
