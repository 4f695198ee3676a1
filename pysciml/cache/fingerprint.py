"""Content fingerprints of Python computations (code, closures, data) for cache keys.

``fingerprint(*objects)`` returns a hex digest that changes whenever anything
the objects compute with changes:

* user functions (scripts, notebooks, user modules): the bytecode, constants
  and names of the code object and of every nested code object, default
  arguments, closure cell contents, and the values of the globals the code
  loads (``LOAD_GLOBAL``), each fingerprinted the same way; line numbers,
  file names and function names are left out (they do not change the
  computation);
* library functions (the standard library, installed packages, pysciml
  itself): the module, qualified name and the package version, their bytecode
  (two lambdas of one scope share a qualified name), closure cells and
  defaults (for pysciml the cache adds a hash of its source files);
* modules referenced from user code: installed ones by name and version, user
  modules by the bytes of their source file;
* data: numbers, strings, numpy and jax arrays (dtype, shape and bytes),
  containers, dataclasses (all fields), and other objects by type and
  attributes.

Anything that cannot be fingerprinted reliably (traced values, open files,
random generators, locks, objects of C types without state) raises
:class:`Unfingerprintable`; callers then skip caching rather than risk a stale
entry.  Builtin ``hash()`` is never used (it is salted per process).
"""

from __future__ import annotations

import dataclasses
import dis
import enum
import functools
import hashlib
import os
import site
import sys
import sysconfig
import types
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["fingerprint", "Unfingerprintable", "register", "is_library_module"]

#: a walk that visits more objects than this gives up (pathological closures)
MAX_NODES = 200_000

_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"})


class Unfingerprintable(Exception):
    """An object reached from a computation cannot be fingerprinted (the message says which)."""


# -- library or user code ---------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    try:
        roots.update(os.path.realpath(p) for p in site.getsitepackages())
    except AttributeError:  # pragma: no cover - virtualenvs without site.getsitepackages
        pass
    user = getattr(site, "getusersitepackages", lambda: None)()
    if user:
        roots.add(os.path.realpath(user))
    return tuple(sorted(r.rstrip(os.sep) + os.sep for r in roots))


@functools.lru_cache(maxsize=4096)
def is_library_module(name: str | None) -> bool:
    """True for modules whose code is fixed by an installed version (stdlib, site-packages, pysciml)."""
    if not name:
        return False
    top = name.split(".")[0]
    if top == "pysciml" or top in sys.builtin_module_names or top in getattr(sys, "stdlib_module_names", ()):
        return True
    module = sys.modules.get(name) or sys.modules.get(top)
    path = getattr(module, "__file__", None)
    if not path:  # __main__ of a notebook, modules built at run time: user code
        return False
    return os.path.realpath(path).startswith(_library_roots())


def _version_of(module_name: str) -> str:
    top = sys.modules.get(module_name.split(".")[0])
    return str(getattr(top, "__version__", ""))


# -- handlers registered for types whose identity is not their whole state -----------------------
_HANDLERS: dict[type, Callable[[Any], Any]] = {}


def register(cls: type, to_state) -> None:
    """Fingerprint instances of ``cls`` (and subclasses) by ``to_state(obj)`` instead of their attributes."""
    _HANDLERS[cls] = to_state


def _model_state(model):
    """What a model computes with: its type, physics, state layout, parameter and network declarations
    (not its name, default u0 or fitted attributes)."""
    return (type(model), model.physics, model.layout, model.param_specs, model.networks)


#: handlers by qualified class name (no import needed to look them up)
_NAMED_HANDLERS = {"pysciml.model.ODEModel": _model_state}


def _handler(tp):
    for base in tp.__mro__:
        fn = _HANDLERS.get(base) or _NAMED_HANDLERS.get(f"{base.__module__}.{base.__qualname__}")
        if fn is not None:
            return fn
    return None


# -- the walk ----------------------------------------------------------------------------------------
_PRIMITIVES = (type(None), bool, int, str, float, complex, bytes)


class _Hasher:
    def __init__(self):
        self.h = hashlib.blake2b(digest_size=20)
        self.memo: dict[int, int] = {}
        self.alive: list = []  # keep visited objects alive so ids stay unique during the walk
        self.nodes = 0

    def tag(self, *parts) -> None:
        for p in parts:
            b = p if isinstance(p, bytes) else str(p).encode("utf-8", "surrogatepass")
            self.h.update(len(b).to_bytes(8, "little"))
            self.h.update(b)

    def _seen(self, obj) -> bool:
        key = id(obj)
        if key in self.memo:
            self.tag("ref", self.memo[key])
            return True
        self.memo[key] = len(self.memo)
        self.alive.append(obj)
        return False

    def feed(self, obj) -> None:  # noqa: C901 - one dispatch on type
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise Unfingerprintable(f"more than {MAX_NODES} objects reached; the closure is too large to key")
        tp = type(obj)
        if tp in _PRIMITIVES:
            self._primitive(obj)
            return
        if obj is Ellipsis or obj is NotImplemented:
            self.tag("singleton", repr(obj))
            return
        handler = _handler(tp)
        if handler is not None:
            if not self._seen(obj):
                self.tag("handled", _qualified(tp))
                self.feed(handler(obj))
            return
        if isinstance(obj, enum.Enum):
            self.tag("enum", _qualified(tp), obj.name)
            return
        if _is_array(obj):
            self._array(obj)
            return
        if isinstance(obj, types.CodeType):
            self._code(obj)
            return
        if isinstance(obj, slice):
            self.tag("slice")
            self.feed((obj.start, obj.stop, obj.step))
            return
        if isinstance(obj, range):
            self.tag("range", obj.start, obj.stop, obj.step)
            return
        if self._seen(obj):
            return
        if tp in (tuple, list):
            self.tag(tp.__name__, len(obj))
            for x in obj:
                self.feed(x)
        elif isinstance(obj, tuple) and hasattr(tp, "_fields"):  # namedtuple
            self.tag("namedtuple", len(obj))
            self.feed(tp)
            for x in obj:
                self.feed(x)
        elif isinstance(obj, (dict, types.MappingProxyType)) or (
            isinstance(obj, Mapping) and tp.__module__ == "collections"
        ):
            self.tag("mapping", _qualified(tp), len(obj))
            self._items(list(obj.items()))
        elif isinstance(obj, (set, frozenset)):
            self.tag("set", len(obj))
            for d in sorted(_digest(x) for x in obj):
                self.h.update(d)
        elif isinstance(obj, types.FunctionType):
            self._function(obj)
        elif isinstance(obj, types.MethodType):
            self.tag("method")
            self.feed(obj.__func__)
            self.feed(obj.__self__)
        elif isinstance(obj, functools.partial):
            self.tag("partial", _qualified(tp))
            self.feed(obj.func)
            self.feed(obj.args)
            self.feed(obj.keywords)
        elif isinstance(
            obj,
            (
                types.BuiltinFunctionType,
                types.WrapperDescriptorType,
                types.MethodDescriptorType,
                types.MethodWrapperType,
                types.ClassMethodDescriptorType,
            ),
        ):
            self.tag("builtin", getattr(obj, "__module__", None) or "", getattr(obj, "__qualname__", obj.__name__))
            owner = getattr(obj, "__self__", None)
            if owner is not None and not isinstance(owner, types.ModuleType):
                self.feed(owner)
        elif isinstance(obj, types.ModuleType):
            self._module(obj)
        elif isinstance(obj, type):
            self._type(obj)
        elif isinstance(obj, (staticmethod, classmethod)):
            self.tag(tp.__name__)
            self.feed(obj.__func__)
        elif isinstance(obj, property):
            self.tag("property")
            self.feed((obj.fget, obj.fset, obj.fdel))
        elif isinstance(obj, types.CellType):
            try:
                contents = obj.cell_contents
            except ValueError:
                self.tag("empty-cell")
            else:
                self.feed(contents)
        else:
            self._object(obj)

    # -- pieces -------------------------------------------------------------------------------------
    def _primitive(self, obj) -> None:
        tp = type(obj)
        if tp is float:
            self.tag("float", obj.hex())
        elif tp is complex:
            self.tag("complex", obj.real.hex(), obj.imag.hex())
        elif tp is bytes:
            self.tag("bytes", obj)
        else:
            self.tag(tp.__name__, obj)

    def _items(self, items) -> None:
        """Key-value pairs: sorted when the keys are plain (order-free), else in insertion order."""
        if all(type(k) in (str, int, float) for k, _ in items):
            items = sorted(items, key=lambda kv: (type(kv[0]).__name__, kv[0]))
        for k, v in items:
            self.feed(k)
            self.feed(v)

    def _array(self, obj) -> None:
        import numpy as np

        if _is_tracer(obj):
            raise Unfingerprintable("a traced jax value (inside jax.grad/jit/vmap) is part of the computation")
        try:
            arr = np.asarray(obj)
        except Exception as exc:
            raise Unfingerprintable(f"cannot read an array of type {type(obj).__name__}: {exc}") from None
        if arr.dtype.hasobject:
            self.tag("object-array", arr.shape)
            for x in arr.reshape(-1):
                self.feed(x)
            return
        self.tag(
            "array",
            type(obj).__module__.split(".")[0],
            arr.dtype.str,
            arr.shape,
            bool(getattr(obj, "weak_type", False)),
        )
        self.h.update(np.ascontiguousarray(arr).tobytes())

    def _code(self, code: types.CodeType) -> None:
        self.tag(
            "code",
            code.co_code,
            code.co_names,
            code.co_varnames,
            code.co_freevars,
            code.co_cellvars,
            code.co_argcount,
            code.co_posonlyargcount,
            code.co_kwonlyargcount,
            code.co_flags,
            getattr(code, "co_exceptiontable", b""),
            len(code.co_consts),
        )
        for c in code.co_consts:
            self.feed(c)  # nested code objects recurse through feed

    def _function(self, fn: types.FunctionType) -> None:
        module = fn.__module__
        if is_library_module(module):
            self.tag("libfn", module, fn.__qualname__, _version_of(module))
            # the code too: two lambdas of one library scope share a qualified name (and a version)
            # but not their computation (m.floor vs m.ceil built by one factory)
            self._code(fn.__code__)
        else:
            self.tag("fn")
            self._code(fn.__code__)
            self._globals(fn.__code__, fn.__globals__)
        self.feed(fn.__defaults__)
        self.feed(fn.__kwdefaults__)
        self.feed(tuple(fn.__closure__ or ()))

    def _globals(self, code: types.CodeType, globals_: dict) -> None:
        builtins = globals_.get("__builtins__", {})
        if isinstance(builtins, types.ModuleType):
            builtins = vars(builtins)
        for name in sorted(_global_names(code)):
            if name in globals_:
                self.tag("global", name)
                self.feed(globals_[name])
            elif name in builtins:
                self.tag("builtin-name", name)
            else:
                self.tag("undefined", name)

    def _module(self, mod: types.ModuleType) -> None:
        name = mod.__name__
        if is_library_module(name):
            self.tag("module", name, _version_of(name))
            return
        path = getattr(mod, "__file__", None)
        if not path:
            raise Unfingerprintable(f"module {name!r} has no source file to fingerprint")
        try:
            with open(path, "rb") as fh:
                self.tag("user-module", name, fh.read())
        except OSError as exc:
            raise Unfingerprintable(f"cannot read the source of module {name!r}: {exc}") from None

    def _type(self, tp: type) -> None:
        if is_library_module(tp.__module__):
            self.tag("type", _qualified(tp), _version_of(tp.__module__))
            return
        self.tag("user-type", tp.__qualname__, len(tp.__bases__))
        for base in tp.__bases__:
            self.feed(base)
        self._items([(k, v) for k, v in vars(tp).items() if k not in _TYPE_SKIP])

    def _object(self, obj) -> None:
        tp = type(obj)
        if _is_tracer(obj):
            raise Unfingerprintable("a traced jax value (inside jax.grad/jit/vmap) is part of the computation")
        name = _qualified(tp)
        if name in ("numpy.dtype",) or name.startswith("numpy.dtypes."):
            self.tag("dtype", str(obj))
            return
        if name == "numpy.ufunc":
            self.tag("ufunc", obj.__name__)
            return
        library = is_library_module(tp.__module__)
        if library and callable(obj) and hasattr(obj, "__wrapped__"):
            # compiled or dispatching wrappers (jax.jit objects, numpy dispatchers): what they wrap
            self.tag("wrapped", name)
            self.feed(obj.__wrapped__)
            return
        if library and "PyTreeDef" in tp.__name__:
            self.tag("treedef", str(obj))
            return
        if dataclasses.is_dataclass(obj):
            self.tag("dataclass")
            self.feed(tp)
            for f in dataclasses.fields(obj):
                self.tag("field", f.name)
                self.feed(getattr(obj, f.name, None))
            return
        state = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
        slots = [s for cls in tp.__mro__ for s in _slots(cls)]
        for slot in slots:
            if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                state[slot] = getattr(obj, slot)
        if not hasattr(obj, "__dict__") and not slots:
            if library and callable(obj) and hasattr(obj, "__qualname__"):
                self.tag("libcallable", name, getattr(obj, "__module__", ""), obj.__qualname__)
                return
            raise Unfingerprintable(f"an object of type {name} has no state that can be read")
        self.tag("object")
        self.feed(tp)
        self._items(list(state.items()))


_TYPE_SKIP = frozenset(
    {
        "__dict__",
        "__weakref__",
        "__module__",
        "__doc__",
        "__qualname__",
        "__annotations__",
        "__dataclass_fields__",
        "__dataclass_params__",
        "__match_args__",
        "__firstlineno__",
        "__static_attributes__",
        "__parameters__",
        "__orig_bases__",
        "_abc_impl",
        "__slots__",
    }
)


def _slots(cls) -> tuple:
    s = cls.__dict__.get("__slots__", ())
    return (s,) if isinstance(s, str) else tuple(s)


def _digest(obj) -> bytes:
    h = _Hasher()
    h.feed(obj)
    return h.h.digest()


def _qualified(tp: type) -> str:
    return f"{tp.__module__}.{tp.__qualname__}"


def _is_array(obj) -> bool:
    mod = type(obj).__module__
    if not mod.startswith(("numpy", "jax", "jaxlib")):
        return False
    return hasattr(obj, "shape") and hasattr(obj, "dtype") and hasattr(obj, "__array__")


def _is_tracer(obj) -> bool:
    core = sys.modules.get("jax.core")
    tracer = getattr(core, "Tracer", None) if core is not None else None
    return tracer is not None and isinstance(obj, tracer)


@functools.lru_cache(maxsize=8192)
def _global_names(code: types.CodeType) -> frozenset:
    names = set()
    stack = [code]
    while stack:
        c = stack.pop()
        for ins in dis.get_instructions(c):
            if ins.opname in _GLOBAL_OPS:
                names.add(ins.argval)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return frozenset(names)


def fingerprint(*objects) -> str:
    """Hex digest of everything ``objects`` compute with (see the module doc).

    Raises:
        Unfingerprintable: an object cannot be keyed reliably; do not cache.
    """
    h = _Hasher()
    try:
        for obj in objects:
            h.feed(obj)
    except RecursionError:
        raise Unfingerprintable("the computation's objects nest too deeply to key") from None
    return h.h.hexdigest()
