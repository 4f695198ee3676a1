"""Build a pure-physics model from discovered equations.

The new model's physics calls the original physics with ``p`` whose network
entry is replaced (``ParamView.replace(networks=...)``) by a function that
evaluates the discovered terms with the math namespace ``m`` and the
coefficients read from ``p``, so the coefficients are ordinary parameters a
refit can refine, on any engine.
"""

from __future__ import annotations

import re

from ..errors import InputError, ModelError
from ..model_spec import ModelSpec
from ..params import Param
from .libraries import split_inputs

__all__ = ["coefficient_names", "equations_to_model", "feature_slug"]


def feature_slug(name: str) -> str:
    """A feature's display name made into identifier text: ``prey^2*predator`` -> ``prey_pow2_predator``."""
    if name == "1":
        return "const"
    s = name.replace("^", "_pow").replace("*", "_")
    s = re.sub(r"[^0-9A-Za-z_]", "_", s)
    s = re.sub(r"_+", "_", s).strip("_")
    return s or "term"


def coefficient_names(eqs, network: str, taken=()) -> list[list[str]]:
    """Per output, the parameter name of each kept term: ``<network>_<output>__<slug>``.

    A name already in ``taken`` (or produced earlier) gets ``_2``, ``_3``... appended.
    """
    used = set(taken)
    out = []
    for i in range(eqs.n_outputs):
        names = []
        for f, _ in eqs.terms(i):
            base = f"{network}_{i}__{feature_slug(f.name)}"
            cand, k = base, 2
            while cand in used:
                cand, k = f"{base}_{k}", k + 1
            used.add(cand)
            names.append(cand)
        out.append(names)
    return out


def _replacement(eqs, terms, names, m, p):
    """The function that stands in for the network inside the physics."""
    n_in = len(eqs.input_names)

    def network(x):
        cols = split_inputs(x, m)
        if len(cols) != n_in:
            raise ModelError(
                f"the physics called the discovered network with {len(cols)} inputs but the equations "
                f"have {n_in} ({list(eqs.input_names)}).",
                argument="network",
            )
        outs = []
        for per_out, per_names in zip(terms, names):
            acc, varies = None, False
            for (feature, _), pname in zip(per_out, per_names):
                term = p[pname] * feature.evaluate_math(cols, m)
                varies = varies or not feature.is_constant
                acc = term if acc is None else acc + term
            if acc is None or not varies:  # give constant outputs the inputs' shape
                zero = m.zeros_like(cols[0])
                acc = zero if acc is None else acc + zero
            outs.append(acc)
        if getattr(cols[0], "ndim", 0) == 0:  # one sample (the usual call in a physics function)
            return m.stack(outs)
        return m.stack(outs, axis=-1)

    return network


def equations_to_model(eqs, model=None, network=None, *, name=None, model_class=None):
    """See :meth:`pysciml.discovery.Equations.to_model`."""
    model = model if model is not None else eqs.model
    if model is None:
        raise InputError(
            "no model to put the equations into; pass the model whose physics calls the network, "
            "eqs.to_model(model), or discover through a fitted estimator which attaches it.",
            argument="model",
        )
    if not isinstance(model, ModelSpec):
        raise InputError(f"must be a pysciml ODEModel, got {type(model).__name__}.", argument="model")
    network = network or eqs.network or eqs.output_name
    if network not in model.networks:
        raise ModelError(
            f"{network!r} is not a network of {model.name!r}; its networks are {list(model.networks)}. "
            "Pass network=<name>.",
            argument="network",
        )
    net = model.networks[network]
    if net.n_out != eqs.n_outputs or net.n_in != len(eqs.input_names):
        raise ModelError(
            f"network {network!r} maps {net.n_in} inputs to {net.n_out} outputs but the equations map "
            f"{len(eqs.input_names)} to {eqs.n_outputs}; were they discovered on another network?",
            argument="network",
        )
    names = coefficient_names(eqs, network, taken=set(model.param_specs) | set(model.networks))
    params = {
        k: Param(s.default, bounds=s.bounds, units=s.units, description=s.description, fixed=s.fixed)
        for k, s in model.param_specs.items()
    }
    for i, per_names in enumerate(names):
        for pname, (feature, c) in zip(per_names, eqs.terms(i)):
            params[pname] = Param(c, description=f"coefficient of {feature.name} in {network}[{i}] (discovered)")
    original = model.physics
    terms = [eqs.terms(i) for i in range(eqs.n_outputs)]

    def physics(u, p, t, m):
        return original(u, p.replace(networks={network: _replacement(eqs, terms, names, m, p)}), t, m)

    physics.__name__ = f"{getattr(original, '__name__', 'physics')}_discovered"
    physics.__doc__ = f"{model.name} with network {network!r} replaced by:\n{eqs.format(6)}"
    others = {k: v for k, v in model.networks.items() if k != network}
    name = name or f"{model.name}_discovered"
    if model_class is None:
        return model.with_physics(physics, params, others or None, name=name)
    return model_class(
        physics, model.layout.specs, params, others or None, name=name, time_units=model.time_units, u0=model.u0
    )
