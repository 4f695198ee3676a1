"""Jitted functions that outlive the process: ``jax.export`` + the store of :mod:`pysciml.cache`.

:class:`CachedFunction` stands in for a jitted function.  On its first call with
concrete arguments of a given signature it computes a key (see below) and

* on a hit, deserialises the stored exported function and calls it: no Python
  tracing, and with JAX's persistent compilation cache no XLA compile either;
* on a miss, exports the function (``jax.export``: the trace and lowering that
  ``jax.jit`` would do anyway), calls the exported function (so the first run
  and every later run execute the same module, bit for bit), and stores the
  serialised export.

Calls with traced arguments (under ``jax.grad``, ``vmap``, an outer ``jit``)
go to the plain jitted function, as do functions that cannot be exported (host
callbacks) or keyed (see :mod:`pysciml.cache.fingerprint`); those are counted
as ``skipped`` in ``ps.cache.info()`` with the reason.

The key hashes the entry format, the environment (pysciml version and a hash
of its source files, Python, jax, jaxlib, diffrax, equinox, optax, lineax and
optimistix versions, x64, the backend and device kind, equinox's error mode
and the jax options that change tracing), the function's *descriptor* (what
it computes with: the Python function and everything it closes over, or an
explicit tuple such as model + solver plan + static options), and the call
signature (argument tree, shapes, dtypes, weak types).
"""

from __future__ import annotations

import collections
import functools
import hashlib
import importlib.metadata
import os
import sys
import threading
from pathlib import Path
from typing import Any

import jax
import jax.core
import numpy as np

from ..._version import __version__
from ...cache import store
from ...cache.fingerprint import Unfingerprintable, fingerprint

__all__ = ["CachedFunction", "jit", "environment"]

#: version of what an entry holds (bump when the exported calling convention changes)
EXPORT_FORMAT = 1
_PLAIN: Any = object()  # marker: this signature runs the plain jitted function
#: entries already loaded or built in this process, by key (functions rebuilt with the same
#: content, e.g. a second fit of the same model and data, reuse them at once)
_LOADED: collections.OrderedDict[str, _Loaded] = collections.OrderedDict()
_LOADED_MAX = 256
_PACKAGES = ("jax", "jaxlib", "diffrax", "equinox", "optax", "lineax", "optimistix", "numpy")
_TRACING_OPTIONS = (
    "jax_enable_x64",
    "jax_default_matmul_precision",
    "jax_numpy_dtype_promotion",
    "jax_numpy_rank_promotion",
    "jax_default_prng_impl",
    "jax_enable_custom_prng",
    "jax_threefry_partitionable",
    "jax_softmax_custom_jvp",
    "jax_dynamic_shapes",
    "jax_enable_checks",
)
#: with these on, jax re-runs or un-jits computations; exported functions would behave differently
_UNCACHEABLE_OPTIONS = ("jax_disable_jit", "jax_debug_nans", "jax_debug_infs")


# -- the environment part of every key ------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _source_hash() -> str:
    """BLAKE2b of every source file of the installed pysciml (catches edits without a version bump)."""
    root = Path(__file__).resolve().parents[2]
    h = hashlib.blake2b(digest_size=20)
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _version(name: str) -> str:
    module = sys.modules.get(name)
    version = getattr(module, "__version__", None)
    if version:
        return str(version)
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _eqx_on_error() -> str:
    errors = sys.modules.get("equinox._errors")
    if errors is not None:
        return str(getattr(errors, "EQX_ON_ERROR", "raise"))
    return os.environ.get("EQX_ON_ERROR", "raise")


def _options() -> dict:
    out = {}
    for name in _TRACING_OPTIONS:
        try:
            out[name] = repr(getattr(jax.config, name))
        except AttributeError:
            out[name] = "absent"
    return out


def environment() -> tuple:
    """Everything outside the function that changes what an export computes or whether it loads."""

    device = jax.devices()[0]
    return (
        ("pysciml", __version__, _source_hash()),
        ("python", sys.version),
        tuple((name, _version(name)) for name in _PACKAGES),
        ("backend", jax.default_backend(), getattr(device, "device_kind", "")),
        ("EQX_ON_ERROR", _eqx_on_error()),
        tuple(sorted(_options().items())),
    )


def _blocked_by_options() -> str | None:
    for name in _UNCACHEABLE_OPTIONS:
        if getattr(jax.config, name, False):
            return f"{name} is on"
    return None


# -- output trees as JSON (no pickle; only containers and already-imported namedtuples) ---------------
class _TreeError(ValueError):
    pass


def encode_tree(treedef) -> object:
    """A JSON-able description of a pytree structure made of tuples, lists, str-keyed dicts,
    None and namedtuples (anything else raises ``ValueError``)."""
    if treedef.num_nodes == 1 and treedef.num_leaves == 1:  # (an empty container is one node, no leaf)
        return "*"
    kind, aux = treedef.node_data()
    children = [encode_tree(c) for c in treedef.children()]
    if kind is tuple:
        return {"t": children}
    if kind is list:
        return {"l": children}
    if kind is type(None):
        return {"n": 0}
    if kind is dict:
        keys = list(aux)
        if not all(isinstance(k, str) for k in keys):
            raise _TreeError("a dict with non-string keys in the output")
        return {"d": keys, "c": children}
    if isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields"):
        fields = list(kind._fields)  # pyright: ignore[reportAttributeAccessIssue]
        return {"nt": [kind.__module__, kind.__qualname__, fields], "c": children}
    raise _TreeError(f"an output node of type {kind!r} cannot be described")


def _prototype(spec):
    if spec == "*":
        return 0
    if not isinstance(spec, dict):
        raise _TreeError("malformed tree")
    if "t" in spec:
        return tuple(_prototype(c) for c in spec["t"])
    if "l" in spec:
        return [_prototype(c) for c in spec["l"]]
    if "n" in spec:
        return None
    if "d" in spec:
        if len(spec["d"]) != len(spec["c"]):
            raise _TreeError("malformed dict node")
        return {k: _prototype(c) for k, c in zip(spec["d"], spec["c"])}
    if "nt" in spec:
        module, qualname, fields = spec["nt"]
        obj = sys.modules.get(module)  # never import: a type not loaded yet means a miss
        for part in str(qualname).split("."):
            obj = getattr(obj, part, None)
        if not (isinstance(obj, type) and issubclass(obj, tuple) and list(getattr(obj, "_fields", ())) == fields):
            raise _TreeError(f"namedtuple {module}.{qualname} is not loaded or has changed")
        return obj(*[_prototype(c) for c in spec["c"]])
    raise _TreeError("malformed tree")


def decode_tree(spec):
    """The treedef described by :func:`encode_tree`."""
    return jax.tree_util.tree_structure(_prototype(spec))


# -- the cached function ------------------------------------------------------------------------------
def _signature(leaves) -> tuple | None:
    """``(shape, dtype, weak)`` per leaf, or None when a leaf is traced or not an array."""
    sig = []
    tracer = jax.core.Tracer
    for x in leaves:
        if isinstance(x, tracer):
            return None
        if isinstance(x, (np.ndarray, np.generic)):
            sig.append((x.shape, x.dtype.str, False))
        elif isinstance(x, jax.Array):
            sig.append((x.shape, x.dtype.str, bool(x.weak_type)))
        elif type(x) in (float, int, bool, complex):
            sig.append(((), type(x).__name__, True))
        else:
            return None
    return tuple(sig)


class _Loaded:
    """A resolved signature: the jitted call of an exported function and its output tree."""

    __slots__ = ("call", "out_def", "key", "checked")

    def __init__(self, call, out_def, key, checked):
        self.call, self.out_def, self.key, self.checked = call, out_def, key, checked


class CachedFunction:
    """A jitted function served from the compiled-model cache when its arguments are concrete.

    Args:
        build: ``build() -> jitted function``; called only when the function must be
            traced (a miss, a traced call, or an uncacheable function).
        descriptor: what the function computes with (fingerprinted for the key); for
            :func:`jit` the Python function itself.
        kind: entry kind shown by ``ps.cache.entries()`` (``"solve"``, ``"fit-adam"``...).
        label: a readable name (the model's) for listings.
    """

    def __init__(self, build, descriptor, *, kind: str = "function", label: str = ""):
        self._build = build
        self._descriptor = descriptor
        self.kind = kind
        self.label = label
        self._jitted = None
        self._base = None  # key prefix, computed on the first concrete call
        self._skip: str | None = None
        self._calls: dict = {}
        self._lock = threading.RLock()

    # the plain path --------------------------------------------------------------------------------
    def jitted(self):
        """The plain jitted function (built on first need)."""
        if self._jitted is None:
            with self._lock:
                if self._jitted is None:
                    self._jitted = self._build()
        return self._jitted

    def lower(self, *args, **kwargs):
        return self.jitted().lower(*args, **kwargs)

    def trace(self, *args, **kwargs):
        return self.jitted().trace(*args, **kwargs)

    # calls --------------------------------------------------------------------------------------------
    def __call__(self, *args):
        leaves, treedef = jax.tree_util.tree_flatten(args)
        sig = _signature(leaves)
        if sig is None:
            return self.jitted()(*args)
        entry = self._calls.get((treedef, sig))
        if entry is None:
            entry = self._resolve(treedef, sig, leaves)
        if entry is _PLAIN:
            return self.jitted()(*args)
        if not entry.checked:
            return self._first_call(entry, treedef, sig, leaves, args)
        return jax.tree_util.tree_unflatten(entry.out_def, entry.call(*leaves))

    def _first_call(self, entry, treedef, sig, leaves, args):
        """The first call of a loaded entry: a module that fails to load is rejected and rebuilt."""
        try:
            out = entry.call(*leaves)
        except Exception as exc:  # noqa: BLE001 - anything wrong with a stored module means rebuild
            store.reject(entry.key, f"stored module failed to run: {str(exc).splitlines()[0][:200]}")
            with self._lock:
                fresh = self._export(entry.key, treedef, sig, leaves)
                self._calls[(treedef, sig)] = fresh
                _LOADED.pop(entry.key, None)
                if fresh is not _PLAIN:
                    _LOADED[entry.key] = fresh
            if fresh is _PLAIN:
                return self.jitted()(*args)
            fresh.checked = True
            return jax.tree_util.tree_unflatten(fresh.out_def, fresh.call(*leaves))
        entry.checked = True
        return jax.tree_util.tree_unflatten(entry.out_def, out)

    def _resolve(self, treedef, sig, leaves):
        with self._lock:
            entry = self._calls.get((treedef, sig))
            if entry is not None:
                return entry
            key = self._key(treedef, sig)
            if key is None:
                entry = _PLAIN
            elif key in _LOADED:
                entry = _LOADED[key]
                _LOADED.move_to_end(key)
            else:
                entry = self._load(key, treedef, sig)
                if entry is None:
                    entry = self._export(key, treedef, sig, leaves)
                if entry is not _PLAIN:
                    _LOADED[key] = entry
                    while len(_LOADED) > _LOADED_MAX:
                        _LOADED.popitem(last=False)
            self._calls[(treedef, sig)] = entry
            return entry

    def _key(self, treedef, sig) -> str | None:
        if self._skip is None:
            self._skip = _blocked_by_options()
        if self._skip is None and self._base is None:
            try:
                self._base = fingerprint(("pysciml-export", EXPORT_FORMAT), environment(), self.kind, self._descriptor)
            except Unfingerprintable as exc:
                self._skip = f"cannot key the function: {exc}"
        if self._skip is not None:
            store.count("skipped", f"{self.kind} {self.label}: {self._skip}")
            return None
        assert self._base is not None  # set above unless skipped
        h = hashlib.blake2b(digest_size=24)
        h.update(self._base.encode())
        h.update(str(treedef).encode())
        h.update(repr(sig).encode())
        return h.hexdigest()

    def _load(self, key: str, treedef, sig):
        got = store.read(key)
        if got is None:
            return None
        header, payload = got
        meta = header["meta"]
        try:
            if meta.get("in_tree") != str(treedef):
                raise ValueError("the argument structure differs")
            out_def = decode_tree(meta["out_tree"])
            exported = jax.export.deserialize(bytearray(payload))
            _check(exported, sig, out_def)
        except Exception as exc:  # noqa: BLE001 - any inconsistency: rebuild
            store.reject(key, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
            return None
        store.touch(key)
        store.count("hits")
        return _Loaded(jax.jit(exported.call), out_def, key, checked=False)

    def _export(self, key: str, treedef, sig, leaves):
        fn = self.jitted()
        box = {}

        def flat(*xs):
            out = fn(*jax.tree_util.tree_unflatten(treedef, list(xs)))
            out_leaves, box["out"] = jax.tree_util.tree_flatten(out)
            return out_leaves

        try:
            exported = jax.export.export(jax.jit(flat))(*leaves)
            out_spec = encode_tree(box["out"])
            payload = bytes(exported.serialize())
        except Exception as exc:  # noqa: BLE001 - host callbacks, unsupported outputs: run uncached
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            if isinstance(exc, (NotImplementedError, _TreeError)):
                self._skip = f"cannot export: {reason}"
            store.count("skipped", f"{self.kind} {self.label}: cannot export: {reason}")
            return _PLAIN
        store.count("misses")
        store.write(
            key,
            payload,
            kind=self.kind,
            label=self.label,
            meta={"in_tree": str(treedef), "out_tree": out_spec, "signature": repr(sig)},
        )
        return _Loaded(jax.jit(exported.call), box["out"], key, checked=True)


def _check(exported, sig, out_def) -> None:
    """A deserialised export must take exactly our arguments and give our outputs, on this backend."""
    avals = exported.in_avals
    if len(avals) != len(sig):
        raise ValueError("the stored function takes a different number of arguments")
    for aval, (shape, dtype, _weak) in zip(avals, sig):
        want = np.dtype(dtype) if dtype not in ("float", "int", "bool", "complex") else None
        if tuple(aval.shape) != tuple(shape) or (want is not None and aval.dtype != want):
            raise ValueError("the stored function takes arguments of other shapes or dtypes")
    if len(exported.out_avals) != out_def.num_leaves:
        raise ValueError("the stored function returns a different number of outputs")
    if jax.default_backend() not in exported.platforms:
        raise ValueError(f"exported for {exported.platforms}, running on {jax.default_backend()}")
    if exported.nr_devices != 1:
        raise ValueError("exported for several devices")


def jit(fn=None, *, kind: str = "function", label: str = "", descriptor=None):
    """``jax.jit`` that keeps the compiled function in pysciml's cache across processes.

    Use as ``jit(f)`` or ``@jit(kind="fit-adam")``.  The key covers ``f`` and everything
    it closes over (or ``descriptor`` when given).  With the cache off
    (``PYSCIML_CACHE=0``) this is plain ``jax.jit``.
    """
    if fn is None:
        return lambda f: jit(f, kind=kind, label=label, descriptor=descriptor)
    if not store.enabled():
        return jax.jit(fn)
    return CachedFunction(lambda: jax.jit(fn), fn if descriptor is None else descriptor, kind=kind, label=label)
