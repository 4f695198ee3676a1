"""Trace a model's physics ``f(u, p, t, m)`` once with sympy symbols.

Two modes, chosen from the model's states:

* **scalar mode** (every state is a scalar, e.g. ROBER, Lotka-Volterra): ``u``
  is a numpy object array of sympy symbols, so indexing, unpacking, slicing and
  every numpy-like operation work exactly as under numpy; array parameters are
  object arrays of symbols too.
* **broadcast mode** (some state has a shape, e.g. a grid): each state and each
  array parameter is ONE :class:`~.symbolic.SymArray` (one symbol, elementwise
  semantics), so a 2,048-cell state is traced once.  Grid operators, networks,
  reductions, indexing and concatenation become opaque nodes.

``m`` is a :class:`SymbolicMath`: every name of
:data:`pysciml.numerics.MATH_CONTRACT` plus the grid operators.  Whatever cannot
be traced (Python ``if`` on a value, ``float()`` of a state, numpy functions
called directly) raises :class:`pysciml.errors.TraceError` naming the line and
the fix.
"""

from __future__ import annotations

import dataclasses
import traceback
import weakref
from collections.abc import Mapping

import numpy as np
import sympy

from ...errors import ModelError, PySciMLError, TraceError
from ...model_spec import ParamView
from ...states import StateView
from .namespace import SymbolicMath, network_tracer
from .symbolic import Recorder, SymArray, as_sym

__all__ = ["Trace", "trace_model", "SymbolicMath", "Output"]  # SymbolicMath: see .namespace


@dataclasses.dataclass(frozen=True)
class Output:
    """One assignment into the flat derivative: entries ``offset:offset+size`` get ``expr``.

    ``target_shape`` is the shape the entries have (a state's shape); ``expr`` has
    shape ``expr_shape``, which broadcasts to ``target_shape``.
    """

    offset: int
    size: int
    target_shape: tuple
    expr: sympy.Basic
    expr_shape: tuple


@dataclasses.dataclass
class Trace:
    """The traced physics: leaf symbols, recorded nodes and outputs."""

    mode: str  # "scalar" | "broadcast"
    rec: Recorder
    t: sympy.Symbol
    state_leaves: list  # (symbol, flat offset, shape) per leaf symbol
    param_leaves: list  # (symbol, offset in physics params, shape)
    networks: dict  # name -> MLP
    outputs: list[Output]
    n_states: int
    n_phys: int

    @property
    def nodes(self):
        return self.rec.nodes

    @property
    def shapes(self):
        return self.rec.shapes


# -- the trace driver ----------------------------------------------------------------------
def _where_in_physics(exc: BaseException, physics) -> str:
    code = getattr(physics, "__code__", None)
    fname = code.co_filename if code is not None else None
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if fname is not None and f.filename == fname]
    if not mine:
        return ""
    f = mine[-1]
    return f" (line {f.lineno}: {f.line.strip() if f.line else '?'})"


def _leaf_symbols(name, shape, rec, scalar_mode, prefix):
    if shape == ():
        s = rec.symbol(f"{prefix}_{name}")
        return s, [(s, 0, ())]
    if scalar_mode:
        syms = [rec.symbol(f"{prefix}_{name}_{'_'.join(map(str, idx))}") for idx in np.ndindex(*shape)]
        return np.array(syms, dtype=object).reshape(shape), [(s, i, ()) for i, s in enumerate(syms)]
    s = rec.symbol(f"{prefix}_{name}", shape)
    return SymArray(s, shape, rec), [(s, 0, shape)]


def _outputs(trace_out, model, rec, scalar_mode) -> list[Output]:
    layout = model.layout
    n = layout.size
    if scalar_mode:
        try:
            flat = layout.pack(trace_out, np)
        except PySciMLError:
            raise
        except Exception as exc:  # noqa: BLE001 - surfaced as a TraceError below
            raise TraceError(
                f"could not read what the physics returned ({type(exc).__name__}: {exc}); "
                "return one derivative per state.",
                argument="physics",
            ) from None
        return [Output(i, 1, (), sympy.sympify(as_sym(v, rec)), ()) for i, v in enumerate(flat.reshape(-1))]
    specs = layout.specs
    if isinstance(trace_out, Mapping):
        missing = [s.name for s in specs if s.name not in trace_out]
        extra = [k for k in trace_out if k not in layout.names]
        if missing or extra:
            raise ModelError(
                f"physics returned a mapping missing {missing} / with unknown {extra}.", argument="physics"
            )
        trace_out = [trace_out[s.name] for s in specs]
    if isinstance(trace_out, SymArray) and len(specs) == 1:
        trace_out = [trace_out]
    if isinstance(trace_out, SymArray) and trace_out.shape == (n,):
        return [Output(0, n, (n,), trace_out.expr, (n,))]
    if not isinstance(trace_out, (list, tuple)) or len(trace_out) != len(specs):
        raise TraceError(
            f"physics returned {type(trace_out).__name__}; for array states the julia engine needs one "
            f"entry per state (a list, tuple or mapping over {list(layout.names)}).",
            argument="physics",
        )
    outs = []
    for spec, off, v in zip(specs, layout.offsets, trace_out):
        s = as_sym(v, rec)
        if s is NotImplemented:
            raise TraceError(f"physics returned {type(v).__name__} for state {spec.name!r}.", argument="physics")
        expr, shape = (s.expr, s.shape) if isinstance(s, SymArray) else (s, ())
        try:
            np.broadcast_shapes(shape, spec.shape)
            ok = len(shape) <= len(spec.shape) and np.broadcast_shapes(shape, spec.shape) == spec.shape
        except ValueError:
            ok = False
        if not ok:
            raise ModelError(
                f"physics returned shape {shape} for state {spec.name!r}, whose shape is {spec.shape}.",
                argument="physics",
            )
        outs.append(Output(off, spec.size, spec.shape, sympy.sympify(expr), shape))
    return outs


def _trace(model) -> Trace:
    rec = Recorder()
    layout = model.layout
    scalar_mode = layout.all_scalar
    mode = "scalar" if scalar_mode else "broadcast"
    m = SymbolicMath(rec, mode)
    t = rec.symbol("t")

    state_leaves, parts = [], []
    for spec, off in zip(layout.specs, layout.offsets):
        value, leaves = _leaf_symbols(spec.name, spec.shape, rec, scalar_mode, "u")
        parts.append(value)
        state_leaves += [(s, off + i, shp) for s, i, shp in leaves]
    if scalar_mode:
        u = np.array(parts, dtype=object)
    elif len(parts) == 1 and layout.specs[0].shape != ():
        u = parts[0]
    else:
        u = StateView(layout, tuple(parts))

    values, param_leaves, off = {}, [], 0
    for name, spec in model.param_specs.items():
        value, leaves = _leaf_symbols(name, spec.shape, rec, scalar_mode, "p")
        values[name] = value
        param_leaves += [(s, off + i, shp) for s, i, shp in leaves]
        off += spec.size
    nets = {name: network_tracer(name, mlp, rec, m) for name, mlp in model.networks.items()}

    physics = model.physics
    try:
        out = physics(u, ParamView(values, nets), t, m)
    except TraceError as exc:
        raise TraceError(f"{exc}{_where_in_physics(exc, physics)}", argument=exc.argument) from None
    except PySciMLError:
        raise
    except AttributeError as exc:
        if "the physics asked for p." in str(exc):
            raise ModelError(str(exc), argument="physics") from None
        raise _generic(exc, physics) from None
    except TypeError as exc:
        msg = str(exc)
        where = _where_in_physics(exc, physics)
        if "truth value" in msg:
            raise TraceError(
                f"the physics branches on a state or parameter value with a Python if/while/and/or"
                f"{where}; values are not known while tracing for the julia engine. Write the choice "
                "with m.where(cond, a, b), m.maximum or m.minimum (e.g. m.where(u[0] > 0, a, b)), "
                "or use engine='jax'.",
                argument="physics",
            ) from None
        if (
            ("convert" in msg and ("float" in msg or "int" in msg))
            or "float() argument" in msg
            or "int() argument" in msg
            or "must be real number" in msg
        ):
            raise TraceError(
                f"the physics turned a traced value into a Python number (float(), int(), math.*){where}; "
                "use the m.* functions (m.exp, m.sqrt...) on states and parameters, or use engine='jax'.",
                argument="physics",
            ) from None
        if "ufunc" in msg or "loop of" in msg:
            raise TraceError(
                f"the physics called a numpy function on a traced value{where}; use m.* instead of np.* "
                "(m.exp, m.sin...), or use engine='jax'.",
                argument="physics",
            ) from None
        raise _generic(exc, physics) from None
    except Exception as exc:  # noqa: BLE001 - every failure becomes an explained TraceError
        raise _generic(exc, physics) from None
    outputs = _outputs(out, model, rec, scalar_mode)
    return Trace(
        mode,
        rec,
        t,
        state_leaves,
        param_leaves,
        dict(model.networks),
        outputs,
        layout.size,
        sum(s.size for s in model.param_specs.values()),
    )


def _generic(exc, physics):
    return TraceError(
        f"the physics could not be traced symbolically for the julia engine "
        f"({type(exc).__name__}: {exc}){_where_in_physics(exc, physics)}; the julia engine needs "
        "physics written with the m.* functions and no value-dependent Python control flow. "
        "Use engine='jax' for this model.",
        argument="physics",
    )


_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def trace_model(model) -> Trace:
    """Trace ``model.physics`` once (cached per model object).

    Raises:
        TraceError: the physics cannot be traced (the message names the line and the fix).
    """
    try:
        return _cache[model]
    except (KeyError, TypeError):
        pass
    tr = _trace(model)
    try:
        _cache[model] = tr
    except TypeError:
        pass
    return tr
