"""Saving and loading a fitted :class:`LatentODE`: JSON (configuration, scalars) + npz (arrays), never pickle.

``model.save("run")`` writes ``run.json`` and ``run.npz`` atomically;
``LatentODE.load("run")`` (or :func:`load_latent`) reads them back exactly:
weights are stored as float64 arrays in tree order and rebuilt into the same
network layout, so predictions are bit-identical.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np

from ..errors import FileFormatError, InputError
from ..io.atomic import atomic_write_bytes
from ..status import Status

__all__ = ["save_latent", "load_latent", "FORMAT", "VERSION"]

FORMAT = "pysciml-latent-ode"
VERSION = 1


def _paths(path) -> tuple[Path, Path]:
    p = Path(path)
    if p.suffix in (".json", ".npz"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".json"), p.with_name(p.name + ".npz")


def save_latent(model, path) -> None:
    """Write ``path.json`` and ``path.npz`` for a LatentODE (fitted or not)."""
    from ..data.serialize import observations_to_arrays

    jpath, npath = _paths(path)
    params = model.get_params()
    params["states"] = list(params["states"]) if params["states"] is not None else None
    doc: dict = {"format": FORMAT, "version": VERSION, "class": "LatentODE", "params": params}
    arrays: dict[str, np.ndarray] = {}
    if hasattr(model, "weights_"):
        for i, w in enumerate(model.weights_):
            arrays[f"weights/{i:04d}"] = np.asarray(w, dtype=np.float64)
        for k, v in model.history_.items():
            arrays[f"history/{k}"] = np.asarray(v, dtype=np.float64)
        arrays["scaling/mean"] = np.asarray(model.scaling_.mean, float)
        arrays["scaling/scale"] = np.asarray(model.scaling_.scale, float)
        arrays["noise_std"] = np.asarray(model.noise_std_, float)
        obs_desc, obs_arrays = observations_to_arrays(model.observations_)
        arrays.update(obs_arrays)
        cfg = dataclasses.asdict(model.config_)
        cfg["noise_scaled"] = list(cfg["noise_scaled"]) if cfg["noise_scaled"] is not None else None
        cfg["solver"] = model.config_.solver.name.lower()
        doc["fitted"] = {
            "config": cfg, "n_weights": len(model.weights_), "state_names": list(model.state_names_),
            "t_offset": model.scaling_.t_offset, "time_scale": model.scaling_.time_scale,
            "elbo": model.elbo_, "loglik": model.loglik_, "kl": model.kl_, "n_iter": model.n_iter_,
            "status": model.status_.name, "message": model.message_, "fit_seconds": model.fit_seconds_,
            "compile_seconds": model.compile_seconds_, "observations": obs_desc,
        }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(npath, buf.getvalue())
    atomic_write_bytes(jpath, json.dumps(doc, indent=1).encode())


def _read(path):
    jpath, npath = _paths(path)
    if not jpath.exists() or not npath.exists():
        raise InputError(f"no saved latent ODE at {path} (expected {jpath.name} and {npath.name}).", argument="path")
    try:
        doc = json.loads(jpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{jpath} is not a pysciml latent ODE file ({exc}).", argument="path") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise FileFormatError(f"{jpath} is not a pysciml latent ODE file (format {found!r}); other pysciml "
                              "models load with ps.load(path).", argument="path")
    if doc.get("version") != VERSION:
        raise FileFormatError(f"{jpath} has format version {doc.get('version')!r}; this pysciml reads version "
                              f"{VERSION}. Upgrade pysciml (or re-save with the version that wrote it).",
                              argument="path")
    try:
        with np.load(npath, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError) as exc:
        raise FileFormatError(f"{npath} is corrupt or not an npz file ({exc}).", argument="path") from None
    return doc, arrays


def load_latent(path):
    """A LatentODE saved with ``model.save(path)`` (path with or without ``.json``)."""
    from ..data.serialize import observations_from_arrays
    from .config import LatentConfig, latent_solver
    from .data import Scaling
    from .estimator import LatentODE

    doc, arrays = _read(path)
    params = dict(doc["params"])
    model = LatentODE(**params)
    fitted = doc.get("fitted")
    if not fitted:
        return model
    cfg = dict(fitted["config"])
    cfg["noise_scaled"] = tuple(cfg["noise_scaled"]) if cfg["noise_scaled"] is not None else None
    try:
        cfg["solver"] = latent_solver(cfg["solver"])
        model.config_ = LatentConfig(**cfg)
        model.weights_ = [arrays[f"weights/{i:04d}"] for i in range(fitted["n_weights"])]
    except (TypeError, KeyError) as exc:
        raise FileFormatError(f"{path}: incomplete latent ODE file ({exc}).", argument="path") from None
    model.scaling_ = Scaling(arrays["scaling/mean"], arrays["scaling/scale"], float(fitted["t_offset"]),
                             float(fitted["time_scale"]))
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
