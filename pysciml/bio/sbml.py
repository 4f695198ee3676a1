"""SBML import: ``ps.bio.from_sbml(path_or_text)`` -> a ``ps.ODEModel`` with its events.

The file is read and checked by python-libsbml (its errors are passed on with line
numbers); each piece of math goes MathML -> sympy (:mod:`.sbml_math`) -> a function of
``(values, m)``, so the physics runs on every engine and under ``jax.grad``.

Semantics (SBML Level 3 core):

* A species is held as its **amount** (a state) when reactions change it; the value its
  name takes in math is its concentration (amount / compartment size) unless it has only
  substance units.  A species, parameter, compartment or species reference under a rate
  rule is a state holding its value.  Every other non-constant variable is a state with
  zero derivative (events may change it); constant ones are model parameters.
* Kinetic laws are rates of the reaction's extent (amount / time); ``d amount / dt`` is
  ``sum(stoichiometry * rate)`` times the species' conversion factor.
* Assignment rules are evaluated in dependency order at every call; initial assignments
  and assignment rules set the initial values; ``rateOf(x)`` is x's derivative.
* Events become ``ps.Event`` s, one per comparison in the trigger (a continuous condition
  crossing zero where it switches) and direction in which it can turn the trigger true; a
  delay is a second event at the time stored when the trigger fired (a zero delay executes
  at once); ``persistent=false`` cancels a pending delayed event when the trigger turns
  false; assignments use the values at trigger time unless ``useValuesFromTriggerTime=false``;
  a concentration assigned means an amount in the compartment as it was before the event.

Refused, naming the element: algebraic rules, fast reactions, the delay csymbol, event
priorities, and packages (comp, fbc, ...).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from ..errors import FileFormatError, InputError
from ..events import Event
from ..model import ODEModel
from ..numerics import numpy_math
from ..params import Param
from .sbml_math import (
    RATE_OF,
    TIME,
    UnsupportedSBML,
    as_boolean,
    as_number,
    compile_sympy,
    settle_truths,
    to_sympy,
    trigger_atoms,
)

__all__ = ["from_sbml", "SBMLInfo", "UnsupportedSBML", "SBMLUnitsWarning"]


class SBMLUnitsWarning(UserWarning):
    """The units of an SBML element do not match (libsbml's unit-consistency rules 105xx)."""


#: the state of a model in which nothing changes (SBML allows that)
_PLACEHOLDER = "sbml_nothing_changes"
#: "no delayed execution pending" (a time no solve reaches)
_NEVER = 1e300


def _require_libsbml():
    try:
        import libsbml
    except ImportError:
        raise ImportError("ps.bio.from_sbml needs python-libsbml: pip install 'pysciml[sbml]'.") from None
    return libsbml


def _read(source: str | os.PathLike, libsbml):
    if isinstance(source, os.PathLike) or (isinstance(source, str) and not source.lstrip().startswith("<")):
        path = Path(source)
        if not path.is_file():
            raise InputError(
                f"no SBML file at {str(path)!r}; give a path to an .xml file or the SBML text.", argument="sbml"
            )
        doc = libsbml.readSBMLFromFile(str(path))
        where = str(path)
    elif isinstance(source, str):
        doc = libsbml.readSBMLFromString(source)
        where = "the SBML text"
    else:
        raise InputError(f"must be a path or SBML text, got {type(source).__name__}.", argument="sbml")
    _raise_errors(doc, where, libsbml)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_MODELING_PRACTICE, False)
    doc.checkConsistency()
    _raise_errors(doc, where, libsbml)
    _warn_units(doc, where, libsbml)
    return doc


#: libsbml's unit-consistency categories other than units, switched off for the units check
_OTHER_CHECKS = (
    "LIBSBML_CAT_GENERAL_CONSISTENCY",
    "LIBSBML_CAT_IDENTIFIER_CONSISTENCY",
    "LIBSBML_CAT_MATHML_CONSISTENCY",
    "LIBSBML_CAT_SBO_CONSISTENCY",
    "LIBSBML_CAT_OVERDETERMINED_MODEL",
    "LIBSBML_CAT_MODELING_PRACTICE",
)


def _warn_units(doc, where: str, libsbml) -> None:
    """One :class:`SBMLUnitsWarning` per unit mismatch libsbml finds (rules 10501-10599, whose
    messages name the element, e.g. "the <kineticLaw> (from the <reaction> with id 'decay')").
    Undeclared units ("cannot be fully checked") are not mismatches and are not reported."""
    import warnings

    for name in _OTHER_CHECKS:
        doc.setConsistencyChecks(getattr(libsbml, name), False)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.checkConsistency()
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getCategory() != libsbml.LIBSBML_CAT_UNITS_CONSISTENCY or not 10500 < err.getErrorId() < 10600:
            continue
        lines = [ln.strip() for ln in err.getMessage().strip().splitlines() if not ln.startswith("Reference:")]
        warnings.warn(
            f"{where}, line {err.getLine()}: units do not match (libsbml rule {err.getErrorId()}): " + " ".join(lines),
            SBMLUnitsWarning,
            stacklevel=4,
        )


def _raise_errors(doc, where: str, libsbml) -> None:
    errors = []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            errors.append(f"line {err.getLine()}: {err.getMessage().strip()}")
    if errors:
        shown = "\n  ".join(errors[:10]) + ("" if len(errors) <= 10 else f"\n  ... ({len(errors)} errors)")
        raise FileFormatError(f"{where} is not valid SBML (libsbml):\n  {shown}", argument="sbml")


def _refuse_packages(doc) -> None:
    names = doc.getSBMLNamespaces().getNamespaces()
    for i in range(names.getNumNamespaces()):
        uri = names.getURI(i)
        if uri.startswith("http://www.sbml.org/sbml/level3/") and not uri.endswith("/core"):
            prefix = names.getPrefix(i) or uri
            raise UnsupportedSBML(
                f"the model uses the SBML package {prefix!r} ({uri}); pysciml imports SBML core only "
                "(flatten comp models first, e.g. with libsbml's CompFlatteningConverter; fbc models are "
                "flux-balance problems, not ODEs).",
                argument="sbml",
            )


@dataclasses.dataclass
class SBMLInfo:
    """What an imported SBML model is made of, and how to read any SBML variable off a solve.

    Attributes:
        states: the model's states (SBML ids); ``kinds[id]`` says what each holds
            (``"amount"`` of a species, or ``"value"``).
        species: species ids -> ``(compartment, has_only_substance_units)``.
        names: every SBML variable id :meth:`values` can give.
    """

    states: tuple[str, ...]
    kinds: dict[str, str]
    species: dict[str, tuple[str, bool]]
    names: tuple[str, ...]
    _raw_keys: tuple[str, ...]
    _params: tuple[str, ...]
    _derived: tuple[tuple[str, Any], ...]
    #: constant parameters whose value is infinite or NaN (SBML allows them, a model parameter
    #: must be finite): held as numbers, not as parameters of the model
    _constants: tuple[tuple[str, float], ...] = ()

    def evaluate(self, u, p: Mapping[str, Any], t, m) -> dict[str, Any]:
        """All values by name (SBML ids, ``"@n:<species>"`` amounts, ``"@time"``) at ``(u, p, t)``."""
        vals: dict[str, Any] = {k: u[i] for i, k in enumerate(self._raw_keys)}
        for n in self._params:
            vals[n] = p[n]
        for n, v in self._constants:
            vals[n] = v
        vals[TIME.name] = t
        for name, fn in self._derived:
            vals[name] = fn(vals, m)
        return vals

    def values(self, sol, names: Sequence[str] | None = None, *, amounts: Sequence[str] = ()) -> dict[str, np.ndarray]:
        """SBML variables over a solution's times: ``{id: (n_save,)}``.

        Species are concentrations unless they have only substance units or are listed in
        ``amounts`` (then amounts).
        """
        t = np.asarray(sol.t, float)
        u = np.asarray(sol.u, float)
        params = {k: np.asarray(v, float) for k, v in sol.params.items()}
        vals = self.evaluate([u[:, i] for i in range(u.shape[1])], params, t, numpy_math)
        names = list(self.names if names is None else names)
        out = {}
        for n in names:
            if n not in vals:
                raise InputError(
                    f"{n!r} is not a variable of the model; they are {list(self.names)}.", argument="names"
                )
            v = vals[n]
            if n in self.species:
                comp, only_substance = self.species[n]
                if n in amounts and not only_substance:
                    v = v * vals[comp]
                elif n not in amounts and only_substance:
                    v = v / vals[comp]
            out[n] = np.broadcast_to(np.asarray(v, float), t.shape).copy()
        return out


class _Importer:
    def __init__(self, doc, libsbml):
        self.L = libsbml
        self.doc = doc
        self.model = doc.getModel()
        if self.model is None:
            raise FileFormatError("the SBML document has no <model>.", argument="sbml")
        self.functions: dict[str, Any] = {}

    def math(self, node, where: str):
        return settle_truths(to_sympy(node, self.functions, where))

    def build(self, name: str | None) -> ODEModel:
        L, mdl = self.L, self.model
        for i in range(mdl.getNumFunctionDefinitions()):
            fd = mdl.getFunctionDefinition(i)
            lam = fd.getMath()
            where = f"functionDefinition {fd.getId()!r}"
            if lam is None or lam.getNumChildren() == 0:
                continue  # SBML L3v2: a function without math is never called
            n = lam.getNumChildren()
            args = [sympy.Symbol(lam.getChild(k).getName()) for k in range(n - 1)]
            body = to_sympy(lam.getChild(n - 1), self.functions, where)  # its arguments' truths unsettled
            self.functions[fd.getId()] = sympy.Lambda(tuple(args), body) if args else _Const(body)

        for i in range(mdl.getNumRules()):
            r = mdl.getRule(i)
            if r.isAlgebraic():
                raise UnsupportedSBML(
                    f"algebraic rule {i + 1} ({L.formulaToL3String(r.getMath())} = 0) makes the model a DAE; "
                    "pysciml imports ODE models only. Replace it by an assignment or rate rule.",
                    argument="sbml",
                )
        for i in range(mdl.getNumEvents()):
            e = mdl.getEvent(i)
            if e.isSetPriority():
                raise UnsupportedSBML(
                    f"event {e.getId() or i + 1!r} has a priority; pysciml does not order simultaneous events "
                    "by priority. Remove the priority if the order does not matter.",
                    argument="sbml",
                )
        # -- declarations: symbol value expressions at t0 ----------------------------------------
        init: dict[str, Any] = {}  # id -> sympy expression of its initial value (symbol units)
        constant: dict[str, bool] = {}
        comps = {}
        for i in range(mdl.getNumCompartments()):
            c = mdl.getCompartment(i)
            comps[c.getId()] = c
            if c.isSetSize():
                init[c.getId()] = _float(c.getSize())
            else:  # a 0-dimensional compartment has no size (its species are amounts)
                init[c.getId()] = sympy.Integer(1) if c.getSpatialDimensions() == 0 else sympy.nan
            constant[c.getId()] = c.getConstant()
        species: dict[str, tuple[str, bool]] = {}
        sp_obj = {}
        for i in range(mdl.getNumSpecies()):
            s = mdl.getSpecies(i)
            sid, comp, only = s.getId(), s.getCompartment(), s.getHasOnlySubstanceUnits()
            if comps[comp].getSpatialDimensions() == 0:
                only = True  # a 0-dimensional compartment has no size: species are amounts
            species[sid] = (comp, only)
            sp_obj[sid] = s
            V = sympy.Symbol(comp)
            if s.isSetInitialAmount():
                a = _float(s.getInitialAmount())
                init[sid] = a if only else a / V
            elif s.isSetInitialConcentration():
                c0 = _float(s.getInitialConcentration())
                init[sid] = c0 * V if only else c0
            else:
                init[sid] = sympy.nan
            constant[sid] = s.getConstant()
        for i in range(mdl.getNumParameters()):
            p = mdl.getParameter(i)
            init[p.getId()] = _float(p.getValue()) if p.isSetValue() else sympy.nan
            constant[p.getId()] = p.getConstant()
        # reactions: species references with ids are variables too
        reactions = []
        local_params: dict[str, float] = {}
        changed_by_reactions: set[str] = set()
        for i in range(mdl.getNumReactions()):
            r = mdl.getReaction(i)
            rid = r.getId()
            if r.isSetFast() and r.getFast():
                raise UnsupportedSBML(
                    f"reaction {rid!r} is fast (an algebraic equilibrium); pysciml does not simulate fast "
                    "reactions. Set fast='false' or replace it by its equilibrium.",
                    argument="sbml",
                )
            terms = []
            for sign, refs in ((-1, r.getListOfReactants()), (1, r.getListOfProducts())):
                for k in range(refs.size()):
                    ref = refs.get(k)
                    sid = ref.getSpecies()
                    if ref.isSetStoichiometryMath():
                        st = self.math(ref.getStoichiometryMath().getMath(), f"stoichiometryMath of {sid} in {rid!r}")
                    elif ref.isSetId() and ref.getId():
                        st = sympy.Symbol(ref.getId())
                        init[ref.getId()] = _float(ref.getStoichiometry()) if ref.isSetStoichiometry() else sympy.nan
                        constant[ref.getId()] = ref.getConstant()
                    else:
                        st = _float(ref.getStoichiometry()) if ref.isSetStoichiometry() or mdl.getLevel() < 3 else 1
                    terms.append((sid, sign, st))
            law = r.getKineticLaw()
            if law is None or law.getMath() is None:
                rate = sympy.Integer(0)
            else:
                expr = self.math(law.getMath(), f"kinetic law of reaction {rid!r}")
                subs = {}
                lps = law.getListOfLocalParameters() if mdl.getLevel() >= 3 else law.getListOfParameters()
                for k in range(lps.size()):
                    lp = lps.get(k)
                    pname = _unique(f"{rid}_{lp.getId()}", init, local_params)
                    local_params[pname] = lp.getValue()
                    subs[sympy.Symbol(lp.getId())] = sympy.Symbol(pname)
                rate = expr.xreplace(subs) if subs else expr
            for sid, _, _ in terms:
                s = sp_obj.get(sid)
                if s is not None and not s.getBoundaryCondition() and not s.getConstant():
                    changed_by_reactions.add(sid)
            reactions.append((rid, rate, terms))
            # the reaction's id names its rate in math
        reaction_rates = {rid: rate for rid, rate, _ in reactions}

        assignment: dict[str, Any] = {}
        rate_rules: dict[str, Any] = {}
        for i in range(mdl.getNumRules()):
            r = mdl.getRule(i)
            var = r.getVariable()
            if r.getMath() is None:
                continue  # SBML L3v2: a rule without math has no effect
            expr = self.math(r.getMath(), f"{'assignment' if r.isAssignment() else 'rate'} rule for {var!r}")
            (assignment if r.isAssignment() else rate_rules)[var] = expr
        initial_assign: dict[str, Any] = {}
        for i in range(mdl.getNumInitialAssignments()):
            ia = mdl.getInitialAssignment(i)
            if ia.getMath() is None:
                continue
            initial_assign[ia.getSymbol()] = self.math(ia.getMath(), f"initial assignment of {ia.getSymbol()!r}")

        # -- states and parameters -------------------------------------------------------------
        states: list[str] = []
        kinds: dict[str, str] = {}
        raw_keys: list[str] = []
        params: dict[str, float] = {}
        derived: dict[str, Any] = {}  # id -> expression (in raw keys, params, other derived)
        for vid in init:
            if vid in assignment:
                derived[vid] = assignment[vid]
            elif vid in rate_rules:
                states.append(vid)
                kinds[vid] = "value"
                raw_keys.append(vid)
            elif vid in species and (not constant[vid] or not constant[species[vid][0]]):
                # held as an amount (also a constant species in a compartment that changes)
                comp, only = species[vid]
                states.append(vid)
                kinds[vid] = "amount"
                if only:
                    raw_keys.append(vid)
                else:
                    raw_keys.append("@n:" + vid)
                    derived[vid] = sympy.Symbol("@n:" + vid) / sympy.Symbol(comp)
            elif constant[vid]:
                params[vid] = np.nan  # value filled from the initial values below
            else:
                states.append(vid)
                kinds[vid] = "value"
                raw_keys.append(vid)
        params.update(local_params)
        # the amount of every species (outputs, event assignments): "@n:<id>"
        for sid, (comp, only) in species.items():
            key = "@n:" + sid
            if key not in raw_keys:
                derived[key] = sympy.Symbol(sid) * (1 if only else sympy.Symbol(comp))
        for rid, rate in reaction_rates.items():
            derived.setdefault(rid, rate)

        # derivatives in symbol units
        d_amount: dict[str, Any] = {}
        for rid, _rate, terms in reactions:
            for sid, sign, st in terms:
                if sid not in changed_by_reactions or sid in rate_rules or sid in assignment:
                    continue
                d_amount[sid] = d_amount.get(sid, 0) + sign * st * sympy.Symbol(rid)
        for sid in list(d_amount):
            s = sp_obj[sid]
            cf = s.getConversionFactor() if s.isSetConversionFactor() else mdl.getConversionFactor()
            if cf:
                d_amount[sid] = d_amount[sid] * sympy.Symbol(cf)

        def rate_of(x):
            name = x.name if isinstance(x, sympy.Symbol) else str(x)
            if name in rate_rules:
                return rate_rules[name]
            if name in d_amount:
                comp, only = species[name]
                return d_amount[name] if only else d_amount[name] / sympy.Symbol(comp)
            if name in assignment:
                raise UnsupportedSBML(
                    f"rateOf({name}) of a variable set by an assignment rule is not supported.", argument="sbml"
                )
            return sympy.Integer(0)

        def expand_rate_of(expr):
            for _ in range(3):
                if not expr.has(RATE_OF):
                    break
                expr = expr.replace(RATE_OF, rate_of)
            return expr

        rhs = []
        for vid, kind in zip(states, (kinds[s] for s in states)):
            if vid in rate_rules:
                rhs.append(expand_rate_of(rate_rules[vid]))
            elif kind == "amount":
                rhs.append(expand_rate_of(d_amount.get(vid, sympy.Integer(0))))
            else:
                rhs.append(sympy.Integer(0))
        derived = {k: expand_rate_of(v) for k, v in derived.items()}
        order = _topological(derived, set(raw_keys) | set(params) | {TIME.name})

        # -- initial values ------------------------------------------------------------------
        start: dict[str, Any] = {}
        for vid, e in init.items():
            start[vid] = initial_assign.get(vid, assignment.get(vid, e))
        for vid, e in initial_assign.items():
            if vid not in start:
                start[vid] = e
        for key in list(derived):
            if key.startswith("@n:") or key in reaction_rates:
                start[key] = derived[key]
        for key, value in local_params.items():
            start[key] = _float(value)
        for sid, (comp, only) in species.items():
            if not only:
                start["@n:" + sid] = sympy.Symbol(sid) * sympy.Symbol(comp)
        start = {k: expand_rate_of(sympy.sympify(v)) for k, v in start.items()}
        values0 = _resolve(start, {TIME.name: 0.0})
        for n in list(params):
            params[n] = values0[n] if n in values0 else local_params[n]
        constants = tuple((n, float(v)) for n, v in params.items() if not math.isfinite(float(v)))
        for n, _ in constants:
            del params[n]
        u0 = [values0[k] for k in raw_keys]

        info = SBMLInfo(
            states=tuple(states),
            kinds=kinds,
            species=species,
            names=tuple(k for k in [*init, *reaction_rates] if not k.startswith("@")),
            _raw_keys=tuple(raw_keys),
            _params=tuple(params),
            _constants=constants,
            _derived=tuple((k, compile_sympy(derived[k])) for k in order),
        )
        rhs_fns = [compile_sympy(e) for e in rhs]
        if not states:  # nothing changes: one constant placeholder state so the model can be solved
            states, u0 = [_PLACEHOLDER], [0.0]
            rhs_fns = [lambda vals, m: 0.0]

        def sbml_model(u, p, t, m):
            vals = info.evaluate(u, p, t, m)
            return [fn(vals, m) + 0.0 * u[i] for i, fn in enumerate(rhs_fns)]

        # -- events ------------------------------------------------------------------------------
        events, extra_params = self.events(info, species, kinds, expand_rate_of, values0)
        for k, v in extra_params.items():
            params[k] = v
        model_name = name or mdl.getId() or mdl.getName() or "sbml_model"
        sbml_model.__name__ = "sbml_model"
        model = ODEModel(
            sbml_model,
            states=list(states),
            params={k: Param(float(v), fixed=k.startswith("sbml_event")) for k, v in params.items()},
            name=model_name,
            u0=[float(x) for x in u0],
        )
        model.events = tuple(events)
        model.sbml = info  # type: ignore[attr-defined]
        self._fire_at_start(model, info, values0)
        return model

    def events(self, info: SBMLInfo, species, kinds, expand, values0):
        mdl = self.model
        out: list[Event] = []
        extra: dict[str, float] = {}
        triggers: list = []  # (truth, on_trigger, cancel or None) of every event, for cascades
        self._initial_fire = []
        for i in range(mdl.getNumEvents()):
            e = mdl.getEvent(i)
            label = e.getId() or f"event{i + 1}"
            where = f"event {label!r}"
            trig = e.getTrigger()
            if trig is None or trig.getMath() is None:
                continue  # never fires
            expr = as_boolean(expand(self.math(trig.getMath(), f"trigger of {where}")))
            atoms = trigger_atoms(expr, where)
            truth = compile_sympy(expr)
            persistent = trig.getPersistent() if mdl.getLevel() >= 3 else True
            initial_value = trig.getInitialValue() if mdl.getLevel() >= 3 else True
            from_trigger = e.getUseValuesFromTriggerTime()
            targets = []
            for k in range(e.getNumEventAssignments()):
                ea = e.getEventAssignment(k)
                var = ea.getVariable()
                if ea.getMath() is None:
                    continue
                targets.append(
                    (var, compile_sympy(expand(self.math(ea.getMath(), f"assignment to {var!r} in {where}"))))
                )
            delay = None
            if e.isSetDelay() and e.getDelay().getMath() is not None:
                dexpr = as_number(expand(self.math(e.getDelay().getMath(), f"delay of {where}")))
                if not (dexpr.is_Number and float(dexpr) == 0.0):
                    delay = compile_sympy(dexpr)
            assign = _assigner(info, species, kinds, targets)
            n_event = len(triggers)
            cancel: Callable | None = None
            delayed = []
            on_trigger: Callable
            if delay is None:

                def assign_now(vals, t, m, p, _a=assign):
                    return _a(vals, None, m)

                on_trigger = assign_now
            else:
                due = f"sbml_event{i}_due"
                keep = [f"sbml_event{i}_value{k}" for k in range(len(targets))] if from_trigger else []
                extra[due] = _NEVER
                for kname in keep:
                    extra[kname] = 0.0

                def schedule(vals, t, m, p, _d=delay, _a=assign, _due=due, _keep=tuple(keep), _targets=tuple(targets)):
                    """Schedule the execution at t + delay (a delay of zero executes now)."""
                    d = _d(vals, m)
                    now = _a(vals, None, m)
                    new = {k: m.where(d == 0, v, _current(info, k, vals, p)) for k, v in now.items()}
                    new[_due] = m.where(d == 0, _NEVER, t + d)
                    for kname, (_, fn) in zip(_keep, _targets):
                        new[kname] = fn(vals, m) + 0.0 * t
                    return new

                on_trigger = schedule

                def execute(vals, t, m, p, _a=assign, _due=due, _keep=tuple(keep)):
                    stored = [p[k] for k in _keep] if _keep else None
                    new = _a(vals, stored, m)
                    new[_due] = _NEVER + 0.0 * t
                    return new

                def when_due(u, p, t, m, _due=due):
                    return t - p[_due]

                if not persistent:

                    def forget(vals, t, m, p, _due=due):
                        return {_due: _NEVER + 0.0 * t}

                    cancel = forget

                delayed.append(
                    Event(when_due, _cascading(info, execute, triggers, -1), direction=1, name=f"{label}@delay")
                )
            triggers.append((truth, on_trigger, cancel))
            # one root-found condition per comparison in the trigger, in each direction in which
            # its switching can turn the trigger on (or, for a cancellable delay, off): a trigger
            # true only inside a window is found where a solver step spans the whole window
            firing = [(k, d) for k, (_, _, signs) in enumerate(atoms) for d in (1, -1) if d in signs]
            cancelling = [(k, -d) for k, d in firing if (k, -d) not in firing] if cancel is not None else []
            for edges, what in ((firing, ""), (cancelling, "cancel")):
                for k, d in edges:
                    atom, diff, _ = atoms[k]
                    switched = _switch(
                        info, truth_of(expr, atom, d > 0), truth_of(expr, atom, d < 0), on_trigger, cancel
                    )

                    def condition(u, p, t, m, _c=compile_sympy(diff)):
                        return _c(info.evaluate(u, p, t, m), m)

                    # named by the event, and (where it has several) by the comparison
                    text = str(atom).replace(TIME.name, "time")
                    name = "@".join(filter(None, [label, what])) + ("" if len(edges) == 1 else f":{text}")
                    out.append(Event(condition, _cascading(info, switched, triggers, n_event), direction=d, name=name))
            out.extend(delayed)
            self._initial_fire.append((initial_value, truth, on_trigger))
        return out, extra

    def _fire_at_start(self, model: ODEModel, info: SBMLInfo, values0) -> None:
        """Events whose trigger is true at t0 but was false just before (initialValue=false) fire at t0."""
        defaults = {k: float(s.default) for k, s in model.param_specs.items()}
        u = np.array(model.u0, float)
        for initial_value, truth, on_trigger in self._initial_fire:
            vals = info.evaluate(list(u), defaults, 0.0, numpy_math)
            if initial_value or not bool(truth(vals, numpy_math)):
                continue
            new = on_trigger(vals, 0.0, numpy_math, defaults)
            for k, v in new.items():
                if k in info.states:
                    u[info.states.index(k)] = float(v)
                else:
                    defaults[k] = float(v)
        model.u0 = u
        for k, v in defaults.items():
            spec = model.param_specs[k]
            if spec.default != v:
                model.param_specs[k] = dataclasses.replace(spec, default=np.asarray(v, float))


def _current(info: SBMLInfo, key: str, vals, p):
    """The value held now for an affect's key (a state's raw value or a parameter)."""
    if key in info.states:
        return vals[info._raw_keys[info.states.index(key)]]
    return p[key]


def truth_of(expr, atom, value: bool):
    """``fn(vals, m)``: the trigger ``expr`` with the comparison ``atom`` taken as ``value``."""
    return compile_sympy(expr.xreplace({atom: sympy.true if value else sympy.false}))


def _switch(info: SBMLInfo, after, before, fire, cancel):
    """``fire`` where the trigger turned on at a comparison's switching (``before`` false,
    ``after`` true, each a truth ``fn(vals, m)`` of the trigger), ``cancel`` (if any) where it
    turned off."""

    def switched(vals, t, m, p):
        on_after, on_before = after(vals, m), before(vals, m)
        turned_on = m.where(on_before, False, on_after)
        new = {k: m.where(turned_on, v, _current(info, k, vals, p)) for k, v in fire(vals, t, m, p).items()}
        if cancel is not None:
            turned_off = m.where(on_before, m.where(on_after, False, True), False)
            for k, v in cancel(vals, t, m, p).items():
                new[k] = m.where(turned_off, v, new.get(k, _current(info, k, vals, p)))
        return new

    return switched


def _cascading(info: SBMLInfo, fire, triggers, own: int):
    """An affect ``(u, p, t, m)`` applying ``fire`` and then every other event whose trigger the
    change turned from false to true, and cancelling the pending delayed executions of
    non-persistent events whose trigger it turned false (one pass; SBML's events triggered by
    events)."""

    def affect(u, p, t, m):
        vals0 = info.evaluate(u, p, t, m)
        new = dict(fire(vals0, t, m, p))
        u1 = [new.get(name, u[i]) for i, name in enumerate(info.states)]
        p1 = {n: new.get(n, p[n]) for n in info._params}
        vals1 = info.evaluate(u1, p1, t, m)
        for j, (truth, on_trigger, cancel) in enumerate(triggers):
            if j == own:
                continue
            was, now = truth(vals0, m), truth(vals1, m)
            turned = m.where(was, False, now)
            for key, value in on_trigger(vals1, t, m, p1).items():
                current = new.get(key, u[info.states.index(key)] if key in info.states else p[key])
                new[key] = m.where(turned, value, current)
            if cancel is not None:
                off = m.where(was, m.where(now, False, True), False)
                for key, value in cancel(vals1, t, m, p1).items():
                    new[key] = m.where(off, value, new.get(key, p[key]))
        return new

    return affect


def _assigner(info: SBMLInfo, species, kinds, targets):
    """``assign(vals, values_or_None, m) -> {state or parameter: raw value}`` of an event's assignments."""
    names = [v for v, _ in targets]
    rescaled = [s for s, (_, only) in species.items() if kinds.get(s) == "value" and not only]

    def assign(vals, values, m):
        if values is None:
            values = [fn(vals, m) for _, fn in targets]
        new_symbol = dict(zip(names, values))
        out = {}
        for var, value in new_symbol.items():
            if var in species and kinds.get(var) == "amount":
                comp, only = species[var]
                if not only:  # a concentration: the amount it means in the compartment as it was
                    value = value * vals[comp]
            out[var] = value
        # a resized compartment keeps its species' amounts: concentrations held as values
        # (species under rate rules) are rescaled, including ones this event assigns
        for sid in rescaled:
            comp = species[sid][0]
            if comp in new_symbol:
                out[sid] = out.get(sid, vals[sid]) * vals[comp] / new_symbol[comp]
        return out

    return assign


class _Const:
    """A function definition without arguments."""

    def __init__(self, body):
        self.body = body

    def __call__(self):
        return self.body


def _float(x):
    x = float(x)
    if np.isnan(x):
        return sympy.nan
    return sympy.Float(x) if not x.is_integer() else sympy.Integer(int(x))


def _unique(name: str, *taken) -> str:
    out, k = name, 1
    while any(out in t for t in taken):
        k += 1
        out = f"{name}_{k}"
    return out


def _topological(exprs: Mapping[str, Any], known: set[str]) -> list[str]:
    order: list[str] = []
    done = set(known)
    pending = dict(exprs)
    while pending:
        ready = [
            k for k, e in pending.items() if {s.name for s in e.free_symbols} <= done | (set(pending) - set(pending))
        ]
        ready = [k for k in ready if all(s.name in done for s in pending[k].free_symbols)]
        if not ready:
            missing = {k: sorted(s.name for s in e.free_symbols if s.name not in done) for k, e in pending.items()}
            raise InputError(
                f"these values depend on each other or on undefined names, so they cannot be computed: {missing}.",
                argument="sbml",
            )
        for k in ready:
            order.append(k)
            done.add(k)
            del pending[k]
    return order


def _resolve(exprs: Mapping[str, Any], known: dict[str, float]) -> dict[str, float]:
    """Numbers for the expressions ``exprs`` (by name), each evaluated once its inputs are known."""
    values = dict(known)
    for k in _topological({k: v for k, v in exprs.items() if k not in values}, set(values)):
        values[k] = float(np.asarray(compile_sympy(exprs[k])(values, numpy_math), float))
    return values


def from_sbml(source: str | os.PathLike, *, name: str | None = None) -> ODEModel:
    """Import an SBML model (Level 2/3 core) as a ``ps.ODEModel`` with its events.

    Args:
        source: a path to an SBML file, or the SBML text itself.
        name: model name (default: the SBML model's id).

    Returns:
        An ``ODEModel`` whose ``u0`` and parameter defaults are the file's initial values,
        whose ``events`` (``ps.Event`` s) ``ps.solve`` applies by default, and whose
        ``sbml`` (:class:`SBMLInfo`) reads any SBML variable off a solution:
        ``model.sbml.values(sol, ["S1", "k1"])``.

    Raises:
        FileFormatError: the text is not SBML or libsbml reports errors (with line numbers).
        UnsupportedSBML: the model uses something pysciml does not simulate (named).
    """
    libsbml = _require_libsbml()
    doc = _read(source, libsbml)
    _refuse_packages(doc)
    return _Importer(doc, libsbml).build(name)
