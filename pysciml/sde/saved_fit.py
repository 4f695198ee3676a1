"""A fitted SDE (:class:`pysciml.SDEFit`) as a saved document: declaration, fitted values, record.

``fit.save("ou_fit")`` writes ``ou_fit.json`` and ``ou_fit.npz`` through the one file format
of :mod:`pysciml.io.saved`; ``ps.load("ou_fit")`` reads them back.  Like fitted ODE models
(:mod:`pysciml.fitting.saved_model`), the file names the drift and diffusion functions
(module, name, hash of the source) but never carries or imports code: ``load`` takes them
from the caller (``physics=``, ``diffusion=``) or from their already imported modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..engines.requests import SDEFitResult
from ..fitting.saved_model import declared_parts, model_declaration, physics_fingerprint, resolve_function
from ..io.saved import jsonable, write_pair
from ..status import Status
from .spec import SDEModel

__all__ = ["save_sde_fit", "sde_fit_from_document", "FORMAT", "VERSION"]

FORMAT = "pysciml-sde-fit"
VERSION = 1


def save_sde_fit(fit, path) -> None:
    """Write ``path.json`` and ``path.npz`` for an :class:`pysciml.SDEFit`."""
    model = fit.model
    decl = model_declaration(model)
    decl.update(
        diffusion=physics_fingerprint(model.diffusion),
        noise=model.noise,
        n_noise=model.n_noise if model.noise == "general" else None,
        calculus=model.calculus,
    )
    arrays: dict[str, np.ndarray] = {f"default/{k}": s.default for k, s in model.param_specs.items()}
    if model.u0 is not None:
        arrays["model_u0"] = model.u0
    for k, v in fit.network_params_.items():
        arrays[f"networks/{k}"] = np.asarray(v, dtype=float)
    arrays["loss_history"] = np.asarray(fit.loss_history_, dtype=float)
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model": decl,
        "fitted": {
            "status": fit.status.name,
            "message": fit.message,
            "nll": fit.nll_,
            "drift_scale": fit.drift_scale_,
            "fitted": list(fit.fitted_),
            "engine": fit.engine,
            "events": fit.events_,
            "phases": [{k: jsonable(v) for k, v in ph.items()} for ph in fit.phases_],
            "seconds": fit.seconds_,
            "compile_seconds": fit.compile_seconds_,
            "dt_typical": fit.dt_typical_,
            "n_transitions": fit.n_transitions_,
        },
    }
    write_pair(path, doc, arrays)


def sde_fit_from_document(cls, doc: dict, arrays: Mapping[str, np.ndarray], physics=None, diffusion=None):
    """The :class:`pysciml.SDEFit` (``cls``) a loaded :data:`FORMAT` document describes."""
    decl = doc["model"]
    drift = resolve_function(decl["physics"], physics, argument="physics")
    diff = resolve_function(decl["diffusion"], diffusion, argument="diffusion")
    states, params, nets = declared_parts(decl, arrays)
    model = SDEModel(
        drift,
        diff,
        states,
        params,
        nets or None,
        noise=decl["noise"],
        n_noise=decl["n_noise"],
        calculus=decl["calculus"],
        name=decl["name"],
        time_units=decl["time_units"],
        u0=arrays.get("model_u0"),
    )
    fitted = doc["fitted"]
    result = SDEFitResult(
        params={k: s.default for k, s in model.param_specs.items()},
        network_params={k: arrays[f"networks/{k}"] for k in decl["networks"]},
        nll=float(fitted["nll"]),
        loss_history=arrays["loss_history"],
        phases=fitted["phases"],
        events=fitted["events"],
        status=Status[fitted["status"]],
        message=fitted["message"],
        drift_scale=float(fitted["drift_scale"]),
        seconds=float(fitted["seconds"]),
        compile_seconds=float(fitted["compile_seconds"]),
    )
    return cls(
        model,
        result,
        fitted["fitted"],
        fitted["engine"],
        dt_typical=float(fitted["dt_typical"]),
        n_transitions=int(fitted["n_transitions"]),
    )
