"""A fitted model as a saved document: declaration, fitted state and observations (no code, no pickle).

``model.save("lv_fit")`` writes ``lv_fit.json`` and ``lv_fit.npz`` through the one
file format of :mod:`pysciml.io.saved`; ``ps.load("lv_fit")`` (:mod:`pysciml.loading`)
reads them back and :func:`model_from_document` rebuilds the model.  The physics is code, which
a data file must not carry: the file records the function's module, name and a
hash of its source, and ``load`` takes the function from the caller
(``physics=``) or, if that module is already imported, from there — it never
imports or executes anything named in the file.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..data.serialize import observations_from_arrays, observations_to_arrays
from ..errors import InputError
from ..io.saved import jsonable, write_pair
from ..networks import MLP
from ..params import Param
from ..solvers.catalog import resolve_solver
from ..status import Status

__all__ = [
    "save_model",
    "model_declaration",
    "model_from_document",
    "physics_fingerprint",
    "resolve_function",
    "FORMAT",
    "VERSION",
]

FORMAT = "pysciml-model"
VERSION = 1


def physics_fingerprint(fn) -> dict:
    """Where the physics function lives and a hash of its source (to check on load)."""
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        src = ""
    return {
        "module": getattr(fn, "__module__", None),
        "qualname": getattr(fn, "__qualname__", None),
        "source_sha256": hashlib.sha256(src.encode()).hexdigest() if src else None,
    }


def model_declaration(model) -> dict:
    """The model's declaration as JSON-able data (classes, states, parameters, networks, physics fingerprint)."""
    return {
        "class": type(model).__name__,
        "name": model.name,
        "time_units": model.time_units,
        "states": [
            {"name": s.name, "shape": list(s.shape), "units": s.units, "description": s.description}
            for s in model.layout.specs
        ],
        "params": [
            {
                "name": k,
                "bounds": list(s.bounds) if s.bounds else None,
                "units": s.units,
                "description": s.description,
                "fixed": s.fixed,
                "shape": list(s.shape),
            }
            for k, s in model.param_specs.items()
        ],
        "networks": {
            k: {
                "n_in": n.n_in,
                "n_out": n.n_out,
                "width": n.width,
                "depth": n.depth,
                "activation": n.activation,
                "final_activation": n.final_activation,
                "inputs": list(n.inputs) if n.inputs else None,
                "last_layer_scale": n.last_layer_scale,
            }
            for k, n in model.networks.items()
        },
        "physics": physics_fingerprint(model.physics),
    }


def save_model(model, path) -> None:
    """Write ``path.json`` and ``path.npz`` for ``model`` (declaration + fitted state).

    Both files are written completely under temporary names before either is renamed,
    and the JSON records the npz's SHA-256, so an interrupted save leaves the previous
    pair intact or (if it stops between the two renames) a pair that ``load`` refuses.
    A lock file beside them (``.NAME.json.lock``) keeps concurrent saves to the same name
    from mixing their pairs.
    """
    arrays: dict[str, np.ndarray] = {}
    for k, s in model.param_specs.items():
        arrays[f"default/{k}"] = s.default
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "model": model_declaration(model)}
    if model.u0 is not None:
        arrays["model_u0"] = model.u0
    if hasattr(model, "params_"):
        for k, v in model.params_.items():
            arrays[f"params/{k}"] = np.asarray(v, dtype=float)
        for k, v in model.network_params_.items():
            arrays[f"networks/{k}"] = np.asarray(v, dtype=float)
        for k, v in model.param_cov_.items():
            arrays[f"cov/{k}"] = np.asarray(v, dtype=float)
        arrays["u0"] = np.asarray(model.u0_all_, dtype=float)
        arrays["loss_history"] = np.asarray(model.loss_history_, dtype=float)
        if model.sigma_ is not None:
            arrays["sigma"] = np.asarray(model.sigma_, dtype=float)
        obs_desc, obs_arrays = observations_to_arrays(model.observations_)
        arrays.update(obs_arrays)
        doc["fitted"] = {
            "status": model.status_.name,
            "message": model.message_,
            "loss": jsonable(model.loss_),
            "events": model.events_,
            "phases": [{k: jsonable(v) for k, v in ph.items()} for ph in model.phases_],
            "engine": model.engine_,
            "solver": type(model.fitted_solver_).__name__,
            "fit_options": model.fit_options_,
            "fit_seconds": model.fit_seconds_,
            "compile_seconds": model.compile_seconds_,
            "observations": obs_desc,
        }
    write_pair(path, doc, arrays)


def resolve_function(fingerprint: dict, given, *, argument: str = "physics"):
    """The function a saved file names: ``given`` if passed, else taken from its already imported module.

    Never imports anything: a function whose module is not loaded must be passed as ``argument``.
    """
    if given is not None:
        return given
    mod = sys.modules.get(fingerprint.get("module") or "")
    fn = mod
    for part in (fingerprint.get("qualname") or "").split("."):
        fn = getattr(fn, part, None) if fn is not None and part != "<locals>" else None
    if fn is None or not callable(fn):
        raise InputError(
            f"the saved model's {argument} is {fingerprint.get('module')}:{fingerprint.get('qualname')}, which is "
            f"not loaded; pass it: ps.load(path, {argument}=my_{argument}). (Saved files never carry or import code.)",
            argument=argument,
        )
    return fn


def declared_parts(decl: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> tuple[dict, dict, dict]:
    """``(states, params, networks)`` constructor arguments from a saved model declaration."""
    states = {
        s["name"]: {"shape": tuple(s["shape"]) or None, "units": s["units"], "description": s["description"]}
        for s in decl["states"]
    }
    params = {
        p["name"]: Param(
            arrays[f"default/{p['name']}"],
            bounds=tuple(p["bounds"]) if p["bounds"] else None,
            units=p["units"],
            description=p["description"],
            fixed=p["fixed"],
        )
        for p in decl["params"]
    }
    nets = {k: MLP(**{**v, "inputs": tuple(v["inputs"]) if v["inputs"] else None}) for k, v in decl["networks"].items()}
    return states, params, nets


def model_from_document(doc: dict, arrays: Mapping[str, np.ndarray], physics, classes: Mapping[str, type]):
    """The model described by a loaded document and its arrays.

    Args:
        doc, arrays: what :func:`pysciml.io.saved.read_pair` returned for a :data:`FORMAT` file.
        physics: the physics function, or None to take it from its (already imported) module.
        classes: the model class for each saved class name (``"ODEModel"`` for unknown ones).
    """
    decl = doc["model"]
    fn = resolve_function(decl["physics"], physics)
    states, params, nets = declared_parts(decl, arrays)
    cls = classes.get(decl["class"], classes["ODEModel"])
    model = cls(fn, states, params, nets, name=decl["name"], time_units=decl["time_units"], u0=arrays.get("model_u0"))
    fitted = doc.get("fitted")
    if fitted:
        _restore_fit(model, fitted, arrays, decl)
    return model


def _restore_fit(model, fitted: dict, arrays: Mapping[str, np.ndarray], decl: dict):
    model.params_ = {
        p["name"]: (
            float(arrays[f"params/{p['name']}"])
            if arrays[f"params/{p['name']}"].ndim == 0
            else arrays[f"params/{p['name']}"]
        )
        for p in decl["params"]
    }
    model.network_params_ = {k: arrays[f"networks/{k}"] for k in decl["networks"]}
    model.param_cov_ = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("cov/")}
    model.param_std_ = {
        k: (
            float(np.sqrt(max(float(c), 0.0)))
            if np.ndim(c) == 0
            else np.sqrt(np.clip(np.diagonal(c.reshape(np.size(model.params_[k]), -1)), 0, None))
        )
        for k, c in model.param_cov_.items()
    }
    model.u0_all_ = arrays["u0"]
    model.u0_ = model.u0_all_[0] if model.u0_all_.shape[0] == 1 else model.u0_all_
    model.loss_history_ = arrays["loss_history"]
    model.sigma_ = arrays.get("sigma")
    model.status_ = Status[fitted["status"]]
    model.message_ = fitted["message"]
    model.loss_ = fitted["loss"]
    model.events_ = fitted["events"]
    model.phases_ = fitted["phases"]
    model.n_iter_ = len(model.loss_history_)
    model.engine_ = fitted["engine"]
    model.fitted_solver_ = resolve_solver(fitted["solver"])
    model.fit_options_ = fitted["fit_options"]
    model.fit_seconds_ = fitted["fit_seconds"]
    model.compile_seconds_ = fitted["compile_seconds"]
    model.observations_ = observations_from_arrays(fitted["observations"], arrays)
