"""Saving and loading models: JSON (declarations, scalars) + npz (arrays), never pickle.

``model.save("lv_fit")`` writes ``lv_fit.json`` and ``lv_fit.npz`` (each
atomically).  ``ps.load("lv_fit")`` reads them back.  The physics is code, which
a data file must not carry: the file records the function's module, name and a
hash of its source, and ``load`` takes the function from the caller
(``physics=``) or, if that module is already imported, from there — it never
imports or executes anything named in the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError, InputError
from ..io.atomic import atomic_path, check_target, file_lock
from ..status import Status

__all__ = ["save_model", "load", "FORMAT", "VERSION"]

FORMAT = "pysciml-model"
VERSION = 1


def _paths(path) -> tuple[Path, Path]:
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)) or os.fspath(path) in ("", b""):
        raise InputError(f"must be a file path (a str or pathlib.Path), got {path!r}.", argument="path")
    p = Path(os.fsdecode(os.fspath(path)))
    if p.suffix in (".json", ".npz"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".json"), p.with_name(p.name + ".npz")


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


def _declaration(model) -> dict:
    return {
        "class": type(model).__name__,
        "name": model.name,
        "time_units": model.time_units,
        "states": [{"name": s.name, "shape": list(s.shape), "units": s.units, "description": s.description}
                   for s in model.layout.specs],
        "params": [{"name": k, "bounds": list(s.bounds) if s.bounds else None, "units": s.units,
                    "description": s.description, "fixed": s.fixed, "shape": list(s.shape)}
                   for k, s in model.param_specs.items()],
        "networks": {k: {"n_in": n.n_in, "n_out": n.n_out, "width": n.width, "depth": n.depth,
                         "activation": n.activation, "final_activation": n.final_activation,
                         "inputs": list(n.inputs) if n.inputs else None, "last_layer_scale": n.last_layer_scale}
                     for k, n in model.networks.items()},
        "physics": physics_fingerprint(model.physics),
    }


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def save_model(model, path) -> None:
    """Write ``path.json`` and ``path.npz`` for ``model`` (declaration + fitted state).

    Both files are written completely under temporary names before either is renamed,
    and the JSON records the npz's SHA-256, so an interrupted save leaves the previous
    pair intact or (if it stops between the two renames) a pair that ``load`` refuses.
    A lock file beside them (``.NAME.json.lock``) keeps concurrent saves to the same name
    from mixing their pairs.
    """
    jpath, npath = _paths(path)
    check_target(jpath, argument="path")
    check_target(npath, argument="path")
    arrays: dict[str, np.ndarray] = {}
    for k, s in model.param_specs.items():
        arrays[f"default/{k}"] = s.default
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "model": _declaration(model)}
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
        from ..data.serialize import observations_to_arrays

        obs_desc, obs_arrays = observations_to_arrays(model.observations_)
        arrays.update(obs_arrays)
        doc["fitted"] = {
            "status": model.status_.name, "message": model.message_, "loss": _jsonable(model.loss_),
            "events": model.events_, "phases": [{k: _jsonable(v) for k, v in ph.items()} for ph in model.phases_],
            "engine": model.engine_, "solver": type(model.fitted_solver_).__name__, "fit_options": model.fit_options_,
            "fit_seconds": model.fit_seconds_, "compile_seconds": model.compile_seconds_,
            "observations": obs_desc,
        }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    doc["arrays_sha256"] = hashlib.sha256(data).hexdigest()
    with contextlib.ExitStack() as stack:  # exits in reverse: the npz is renamed first, then the JSON
        stack.enter_context(file_lock(jpath))  # another process saving to the same name waits
        jtmp = stack.enter_context(atomic_path(jpath))
        ntmp = stack.enter_context(atomic_path(npath))
        ntmp.write_bytes(data)
        jtmp.write_bytes(json.dumps(doc, indent=1, default=_jsonable).encode())


def _resolve_physics(decl: dict, physics):
    fp = decl["physics"]
    if physics is not None:
        return physics
    mod = sys.modules.get(fp.get("module") or "")
    fn = mod
    for part in (fp.get("qualname") or "").split("."):
        fn = getattr(fn, part, None) if fn is not None and part != "<locals>" else None
    if fn is None or not callable(fn):
        raise InputError(
            f"the saved model's physics is {fp.get('module')}:{fp.get('qualname')}, which is not loaded; "
            "pass it: ps.load(path, physics=my_physics). (Saved files never carry or import code.)",
            argument="physics",
        )
    return fn


def load(path, *, physics=None):
    """Load a model saved with ``model.save(path)``.

    Args:
        path: the path given to ``save`` (with or without ``.json``).
        physics: the physics function (needed unless its module is already imported).

    Returns:
        The model, with its fitted attributes restored.
    """
    jpath, npath = _paths(path)
    if not jpath.exists() or not npath.exists():
        raise InputError(f"no saved model at {path} (expected {jpath.name} and {npath.name}).", argument="path")
    try:
        with file_lock(jpath, shared=True):  # never between the two renames of a concurrent save
            text, raw = jpath.read_text(), npath.read_bytes()
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{jpath} is not a pysciml model file ({exc}).", argument="path") from None
    from ..latent.persistence import FORMAT as LATENT_FORMAT, load_latent

    if isinstance(doc, dict) and doc.get("format") == LATENT_FORMAT:
        return load_latent(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FileFormatError(f"{jpath} is not a pysciml model file.", argument="path")
    if doc.get("version") != VERSION:
        raise FileFormatError(
            f"{jpath} has format version {doc.get('version')!r}; this pysciml reads version {VERSION}. "
            "Upgrade pysciml (or re-save the model with the version that wrote it).",
            argument="path",
        )
    expected = doc.get("arrays_sha256")
    if expected is not None and hashlib.sha256(raw).hexdigest() != expected:
        raise FileFormatError(
            f"{npath.name} does not belong with {jpath.name} (its checksum differs): the files come from "
            "different saves, e.g. a save that was interrupted, or one was replaced. Save the model again.",
            argument="path")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise FileFormatError(
                f"{npath} holds an object array (a pickle), which pysciml never loads: unpickling can run arbitrary "
                "code. Saved models contain only numeric arrays; this file was not written by pysciml.",
                argument="path") from None
        raise FileFormatError(f"{npath} is corrupt or not an npz file ({exc}).", argument="path") from None
    except OSError as exc:
        raise FileFormatError(f"{npath} is corrupt or not an npz file ({exc}).", argument="path") from None
    try:
        return _build(doc, arrays, physics)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise FileFormatError(f"{jpath} / {npath.name} is incomplete or damaged (missing or malformed {exc}); "
                              "save the model again.", argument="path") from None


def _build(doc: dict, arrays: dict, physics):
    """The model described by a loaded JSON document and its arrays."""
    from ..model import UDE, ODEModel
    from ..networks import MLP
    from ..params import Param

    decl = doc["model"]
    fn = _resolve_physics(decl, physics)
    states = {s["name"]: {"shape": tuple(s["shape"]) or None, "units": s["units"], "description": s["description"]}
              for s in decl["states"]}
    params = {p["name"]: Param(arrays[f"default/{p['name']}"], bounds=tuple(p["bounds"]) if p["bounds"] else None,
                               units=p["units"], description=p["description"], fixed=p["fixed"])
              for p in decl["params"]}
    nets = {k: MLP(**{**v, "inputs": tuple(v["inputs"]) if v["inputs"] else None}) for k, v in decl["networks"].items()}
    cls = {"UDE": UDE, "NeuralODE": ODEModel, "ODEModel": ODEModel}.get(decl["class"], ODEModel)
    model = cls(fn, states, params, nets, name=decl["name"], time_units=decl["time_units"],
                u0=arrays.get("model_u0"))
    fitted = doc.get("fitted")
    if fitted:
        _restore_fit(model, fitted, arrays, decl)
    return model


def _restore_fit(model, fitted: dict, arrays: dict, decl: dict):
    from ..data.serialize import observations_from_arrays
    from ..solvers.catalog import resolve_solver

    model.params_ = {p["name"]: (float(arrays[f"params/{p['name']}"]) if arrays[f"params/{p['name']}"].ndim == 0
                                 else arrays[f"params/{p['name']}"]) for p in decl["params"]}
    model.network_params_ = {k: arrays[f"networks/{k}"] for k in decl["networks"]}
    model.param_cov_ = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("cov/")}
    model.param_std_ = {k: (float(np.sqrt(max(float(c), 0.0))) if np.ndim(c) == 0 else
                            np.sqrt(np.clip(np.diagonal(c.reshape(np.size(model.params_[k]), -1)), 0, None)))
                        for k, c in model.param_cov_.items()}
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
