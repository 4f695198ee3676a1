"""All contact with Julia (juliacall) lives here; nothing else imports juliacall.

* juliacall is imported lazily, on the first call that needs Julia, never at
  ``import pysciml``.  Before the import :func:`.options.prepare_environment` sets
  pysciml's defaults unless the user set them (one Julia thread,
  ``PYTHON_JULIACALL_HANDLE_SIGNALS=no``; ``yes`` when the user asks for threads) and
  normalises or rejects option values, and a sysimage built by
  :func:`pysciml.engines.julia.build_sysimage` is used when it matches the installed
  packages and bridge sources.
* Threads: every Julia call is serialised by one lock and must come from the
  main Python thread; a call from another thread raises
  :class:`~pysciml.errors.EngineError` (we refuse rather than marshal: Julia
  code that waits on its own task scheduler can hang when entered from a foreign
  thread, and callbacks into Python run on the calling thread).  With dask, use
  the synchronous scheduler or processes for the julia engine.
* Arrays: numpy arrays cross as juliacall ``PyArray`` views (no copy); the
  bridge functions copy them once into Julia arrays, and results come back as
  numpy copies of Julia arrays.
* Errors: Julia exceptions become :class:`~pysciml.errors.EngineError` with
  Julia's message (the Julia backtrace is kept on the error as ``julia_backtrace``);
  an ``InterruptException`` from Julia becomes ``KeyboardInterrupt``.
* Ctrl-C (reasoned from juliacall's documentation, never run here): with the default
  ``HANDLE_SIGNALS=no`` Python sees Ctrl-C only when control returns to Python, after
  the Julia call or inside a fit's progress report (which therefore always runs while
  a fit can be stopped); with ``HANDLE_SIGNALS=yes`` Julia owns SIGINT and juliacall
  says Ctrl-C no longer raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import threading
import time
import weakref

import numpy as np
from numpy.typing import DTypeLike

from ...errors import EngineError, EngineUnavailableError
from .options import prepare_environment
from .package import julia_env_path

__all__ = ["JuliaBridge", "availability", "find_julia", "julia_env_path", "REPORT_ARGS", "REPORT_WRAPPER"]

#: the arguments ``bridge_fit`` passes to its progress ``report`` (``fit.jl``)
REPORT_ARGS = ("step", "loss", "stage", "theta")
#: the Julia closure turning a Python callable into ``report``: Julia calls it with
#: exactly ``REPORT_ARGS`` and needs a ``Bool`` back
REPORT_WRAPPER = f"f -> ({', '.join(REPORT_ARGS)}) -> PythonCall.pytruth(f({', '.join(REPORT_ARGS)}))"

_INSTALL_HINT = 'the julia engine needs juliacall: pip install "pysciml[julia]"'
_NO_JULIA_HINT = (
    "no Julia executable was found and none could be installed. Install Julia "
    "(https://julialang.org/downloads, or juliaup) and point pysciml at it with "
    "PYTHON_JULIAPKG_EXE=/path/to/julia; on a machine without internet prepare a Julia "
    "depot elsewhere and set PYTHON_JULIAPKG_OFFLINE=yes (with PYTHON_JULIAPKG_EXE and, "
    "for a ready environment, PYTHON_JULIAPKG_PROJECT). Or use engine='jax'."
)


def _juliapkg_state():
    try:
        from juliapkg.state import STATE
    except Exception:  # noqa: BLE001 - juliapkg missing or broken: nothing to read
        return {}
    return STATE


def find_julia() -> str | None:
    """A Julia executable that juliapkg would use, found without running or downloading anything.

    Looks at ``PYTHON_JULIAPKG_EXE``, a previous juliapkg resolution, juliapkg's own
    install directory, ``julia`` on the PATH and juliaup's installed versions.
    """
    exe = os.environ.get("PYTHON_JULIAPKG_EXE")
    if exe:
        found = shutil.which(exe)
        return found
    state = _juliapkg_state()
    meta = state.get("meta")
    if meta and os.path.isfile(meta):
        try:
            with open(meta) as fp:
                recorded = json.load(fp).get("executable")
            if recorded and os.path.isfile(recorded):
                return recorded
        except (OSError, ValueError):
            pass
    install = state.get("install")
    if install:
        cand = os.path.join(install, "bin", "julia.exe" if os.name == "nt" else "julia")
        if os.path.isfile(cand):
            return cand
    on_path = shutil.which("julia")
    if on_path:
        return on_path
    try:
        from juliapkg.find_julia import ju_find_julia_noinstall

        ans = ju_find_julia_noinstall()
        if ans:
            return ans[0]
    except Exception:  # noqa: BLE001 - juliaup metadata unreadable: treat as absent
        pass
    return None


def _offline() -> bool:
    """``PYTHON_JULIAPKG_OFFLINE`` as juliapkg reads it (after :func:`prepare_environment`)."""
    return os.environ.get("PYTHON_JULIAPKG_OFFLINE") == "yes"


def availability() -> tuple[bool, str]:
    """``(ok, reason)`` without importing juliacall, running Julia or downloading anything."""
    if _BRIDGE_STATE.get("started"):
        return True, ""
    if _BRIDGE_STATE.get("error"):
        return False, _BRIDGE_STATE["error"]
    try:
        prepare_environment()
    except EngineUnavailableError as exc:
        return False, str(exc)
    if importlib.util.find_spec("juliacall") is None:
        return False, _INSTALL_HINT
    if not (julia_env_path() / "Project.toml").is_file():
        return False, (
            f"the PySciMLBridge Julia package is missing at {julia_env_path()} (a broken install "
            "or a checkout without symlinks); reinstall pysciml, or in a checkout run "
            "`git config core.symlinks true` and check out again."
        )
    if find_julia() is None:
        if _offline():
            return False, _NO_JULIA_HINT
        return True, (
            "no Julia found yet: juliapkg will download Julia and the Julia packages on "
            "first use (needs internet, takes minutes). To use an existing Julia set "
            "PYTHON_JULIAPKG_EXE; offline machines: PYTHON_JULIAPKG_OFFLINE=yes."
        )
    return True, ""


#: process-wide state: juliacall can be started once per process
_BRIDGE_STATE: dict = {}
_LOCK = threading.RLock()


def _set_environment():
    prepare_environment()
    if "PYTHON_JULIACALL_SYSIMAGE" not in os.environ and os.environ.get("PYSCIML_JULIA_SYSIMAGE", "1") != "0":
        from .sysimage import usable_sysimage

        image = usable_sysimage(find_julia())
        if image is not None:
            os.environ["PYTHON_JULIACALL_SYSIMAGE"] = str(image)


def _explain_start_failure(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    if (
        "urlerror" in low
        or "could not find julia" in low
        or "name or service" in low
        or "urlopen" in low
        or "network" in low
        or "not a julia executable" in low
    ):
        return f"could not start Julia ({text}); {_NO_JULIA_HINT}"
    if "pyscimlbridge" in low and "precompil" in low:
        # juliapkg runs Pkg.precompile() while juliacall is imported
        return (
            f"the PySciMLBridge Julia package failed to precompile ({text}). Please report it with the log "
            "above. To load it without its precompile workload, add `[PySciMLBridge] precompile_workload = "
            "false` to LocalPreferences.toml in the juliapkg environment (PYTHON_JULIAPKG_PROJECT, default "
            "<venv>/julia_env). Or use engine='jax'."
        )
    return (
        f"could not start Julia through juliacall ({text}). Check the messages above; "
        "PYTHON_JULIAPKG_EXE, PYTHON_JULIAPKG_PROJECT and PYTHON_JULIAPKG_OFFLINE control which "
        "Julia and which environment are used. Or use engine='jax'."
    )


def report_wrapper(jl):
    """The Julia function that wraps a Python callable as ``bridge_fit``'s ``report``.

    ``jl`` is juliacall's ``Main`` (tests pass a stand-in that evaluates
    :data:`REPORT_WRAPPER` with Julia's arity rules).
    """
    return jl.seval(REPORT_WRAPPER)


def _start_julia():
    """Import juliacall, load PySciMLBridge; returns ``(module, report_wrapper, juliacall)``."""
    if not (julia_env_path() / "Project.toml").is_file():
        raise EngineUnavailableError(availability()[1], argument="engine")
    _set_environment()
    quiet = os.environ.get("PYSCIML_QUIET", "") not in ("", "0")
    if not quiet:
        print(
            "pysciml: starting the Julia engine (installing and compiling Julia packages, "
            "this takes minutes the first time)...",
            file=sys.stderr,
            flush=True,
        )
    t0 = time.perf_counter()
    try:
        import juliacall
    except BaseException as exc:  # noqa: BLE001 - juliapkg raises plain Exception/URLError
        if isinstance(exc, KeyboardInterrupt):
            raise
        msg = _explain_start_failure(exc)
        _BRIDGE_STATE["error"] = msg
        raise EngineUnavailableError(msg, argument="engine") from None
    jl = juliacall.Main
    try:
        jl.seval("using PySciMLBridge")
        module = jl.PySciMLBridge
        wrap = report_wrapper(jl)
    except juliacall.JuliaError as exc:
        msg = (
            f"Julia started but the PySciMLBridge package could not be loaded: {exc}. Re-resolve the "
            "environment with: python -c \"import juliapkg; juliapkg.resolve(force=True)\"."
        )
        _BRIDGE_STATE["error"] = msg
        raise EngineUnavailableError(msg, argument="engine") from None
    if not quiet:
        print(f"pysciml: Julia engine ready ({time.perf_counter() - t0:.1f} s).", file=sys.stderr, flush=True)
    _BRIDGE_STATE["started"] = True
    return module, wrap, juliacall


class JuliaBridge:
    """The Python side of PySciMLBridge: calls its functions with plain values.

    Args:
        backend: an object with the bridge's functions (``compile_model``,
            ``bridge_solve``...); by default the real Julia module, started on first
            use.  Tests pass a fake (``tests/helpers/fake_julia_bridge.py``).
        report_wrap: with ``backend``, the function that wraps a Python progress
            callback for it (:func:`report_wrapper`; tests pass a stand-in that
            enforces Julia's arity); ``None`` passes the callback unwrapped.
    """

    def __init__(self, backend=None, report_wrap=None):
        self._backend = backend
        self._wrap = report_wrap
        self._juliacall = None
        self._handles: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def started(self) -> bool:
        return self._backend is not None

    def _module(self):
        if self._backend is None:
            cached = _BRIDGE_STATE.get("module")
            if cached is None:
                cached = _start_julia()
                _BRIDGE_STATE["module"] = cached
            self._backend, self._wrap, self._juliacall = cached
        return self._backend

    def call(self, name: str, *args):
        """Call ``PySciMLBridge.<name>(*args)`` on the main thread, serialised."""
        if threading.current_thread() is not threading.main_thread():
            raise EngineError(
                "the julia engine runs Julia only on the main Python thread; call it from the main "
                "thread (with dask use scheduler='synchronous' or a process-based scheduler), or use "
                "engine='jax'.",
                argument="engine",
            )
        with _LOCK:
            fn = getattr(self._module(), name)
            jc = self._juliacall
            if jc is None:
                return fn(*args)
            try:
                return fn(*args)
            except jc.JuliaError as exc:
                raise julia_error(jc, exc, name) from None
            except TypeError as exc:
                # PythonCall raises TypeError("Julia: MethodError ...") when the bridge
                # function itself has no method for the arguments sent
                if str(exc).startswith("Julia:"):
                    raise EngineError(
                        f"PySciMLBridge.{name} was called with arguments it has no method for: {exc}",
                        argument="engine",
                    ) from None
                raise

    def report_function(self, callback):
        """A Julia function ``(step, loss, stage, theta) -> Bool`` calling the Python ``callback``."""
        if callback is None:
            return None
        self._module()
        return callback if self._wrap is None else self._wrap(callback)

    # -- model compilation -------------------------------------------------------------------
    def _grid(self, grid):
        ops = getattr(grid, "coefficients", None)
        if ops is None:
            raise EngineError(
                f"{type(grid).__name__} has no discretisation coefficients; use a pysciml.grid grid.", argument="grid"
            )

        def axis(a):
            arr = lambda v: np.ascontiguousarray(v, dtype=np.float64)
            pole = tuple(bool(b) for b in a.pole)
            return self.call(
                "make_axis",
                str(a.kind),
                float(a.value),
                float(a.sign),
                arr(a.length),
                arr(a.conductance),
                arr(a.inv_distance),
                arr(a.face_weight),
                arr(a.centre_weight),
                pole[0],
                pole[1],
                int(a.pole_shift),
            )

        mask = None if ops.mask is None else np.ascontiguousarray(ops.mask, dtype=bool)
        return self.call(
            "make_grid", axis(ops.y), axis(ops.x), np.ascontiguousarray(ops.inv_area, dtype=np.float64), mask
        )

    def compile(self, model) -> int:
        """Trace, emit and compile ``model`` once; returns its Julia handle."""
        from .emit import program_for

        em = program_for(model)
        cached = self._handles.get(model)
        if cached is not None and cached[0] == em.source_hash:
            return cached[1]
        nets = tuple(
            (name, int(n.n_in), int(n.n_out), int(n.width), int(n.depth), str(n.activation), str(n.final_activation))
            for name, n in model.networks.items()
        )
        consts = tuple(np.ascontiguousarray(c, dtype=np.float64) for c in em.consts)
        grids = tuple(self._grid(g) for g in em.grids)
        n_phys = int(sum(s.size for s in model.param_specs.values()))
        handle = int(
            self.call(
                "compile_model",
                em.source,
                em.source_hash,
                int(model.n_states),
                n_phys,
                nets,
                consts,
                grids,
                bool(em.has_branches),
            )
        )
        self._handles[model] = (em.source_hash, handle)
        return handle

    def info(self) -> dict:
        """``bridge_info()`` as a dict (starts Julia)."""
        return {str(k): str(v) for k, v in self.call("bridge_info")}


def julia_error(jc, exc, name: str) -> BaseException:
    """The Python exception for the ``juliacall.JuliaError`` ``exc`` raised by ``PySciMLBridge.<name>``.

    An ``InterruptException`` becomes ``KeyboardInterrupt``; anything else an
    :class:`~pysciml.errors.EngineError` with Julia's message (without the backtrace,
    which is kept as the error's ``julia_backtrace`` attribute).
    """
    err = exc.exception
    if bool(jc.Main.isa(err, jc.Main.InterruptException)):
        return KeyboardInterrupt("interrupted inside Julia")
    message = str(jc.Main.sprint(jc.Main.showerror, err))
    out = EngineError(f"Julia raised an error in PySciMLBridge.{name}: {message}", argument="engine")
    out.julia_backtrace = str(exc)  # type: ignore[attr-defined]
    return out


def to_numpy(x, dtype: DTypeLike = np.float64) -> np.ndarray:
    """A numpy copy of a Julia (or numpy) array."""
    return np.array(x, dtype=dtype, copy=True)
