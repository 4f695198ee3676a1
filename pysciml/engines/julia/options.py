"""The start-up options of juliacall and juliapkg that pysciml sets, checks or documents.

juliacall and juliapkg read their options from ``PYTHON_JULIACALL_<NAME>`` and
``PYTHON_JULIAPKG_<NAME>`` when they are imported, ignore names they do not know and
raise ``ValueError`` at import for a value outside an option's choices.  The tables
below were read from the sources (juliacall 0.9.34, ``pysrc/juliacall/__init__.py``,
``init()``; juliapkg 0.1.23, ``src/juliapkg/state.py``); ``tests/test_julia_options.py``
compares them with the installed packages' source text.

:func:`prepare_environment` sets pysciml's defaults and normalises or rejects values
*before* either package is imported, so a bad value is an
:class:`~pysciml.errors.EngineUnavailableError` naming the variable instead of an
exception deep inside ``import juliacall``.

Signals and threads (never run here; the reasoning is from juliacall's documentation
and source): with ``PYTHON_JULIACALL_HANDLE_SIGNALS=no`` (juliacall's own default)
Python keeps its SIGINT handler, so Ctrl-C is seen when control returns to Python
(after a Julia call, or inside a progress callback from a fit).  juliacall recommends
``yes`` when Julia runs more than one thread, and says that Ctrl-C then no longer
raises ``KeyboardInterrupt``.  pysciml therefore starts Julia with one thread and
``HANDLE_SIGNALS=no`` unless the user asks for threads; with threads it defaults to
``yes``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import MutableMapping

from ...errors import EngineUnavailableError

__all__ = [
    "JULIACALL_OPTIONS",
    "JULIAPKG_OPTIONS",
    "JULIACALL_VERSION_READ",
    "JULIAPKG_VERSION_READ",
    "PYSCIML_DEFAULTS",
    "prepare_environment",
    "env_name",
]

JULIACALL_VERSION_READ = "0.9.34"
JULIAPKG_VERSION_READ = "0.1.23"

#: juliacall option name -> allowed values (``None``: free text, a number or a path)
JULIACALL_OPTIONS: dict[str, tuple[str, ...] | None] = {
    "init": ("yes", "no"),
    "bindir": None,  # the ``home`` option is read from PYTHON_JULIACALL_BINDIR
    "check_bounds": ("yes", "no", "auto"),
    "compile": ("yes", "no", "all", "min"),
    "trace_compile": None,
    "trace_compile_timing": ("yes", "no"),
    "compiled_modules": ("yes", "no"),
    "depwarn": ("yes", "no", "error"),
    "inline": ("yes", "no"),
    "min_optlevel": ("0", "1", "2", "3"),
    "optimize": ("0", "1", "2", "3"),
    "procs": None,
    "sysimage": None,
    "threads": None,
    "warn_overwrite": ("yes", "no"),
    "handle_signals": ("yes", "no"),
    "startup_file": ("yes", "no"),
    "heap_size_hint": None,
    "project": None,
    "lib": None,
    "exe": None,
    "autoload_ipython_extension": ("yes", "no"),
}

#: juliapkg option name -> allowed values (``None``: a path or an executable)
JULIAPKG_OPTIONS: dict[str, tuple[str, ...] | None] = {
    "exe": None,
    "project": None,
    "offline": ("yes", "no"),
}

#: pysciml's defaults for juliacall, set only where the user set nothing; the
#: signal default depends on the threads (see :func:`prepare_environment`)
PYSCIML_DEFAULTS = {"PYTHON_JULIACALL_THREADS": "1"}

#: names people write that neither package reads, with the one they meant
_MISTAKES = {
    "PYTHON_JULIACALL_OPTLEVEL": "PYTHON_JULIACALL_OPTIMIZE",
    "PYTHON_JULIACALL_NUM_THREADS": "PYTHON_JULIACALL_THREADS",
}

_YES = ("yes", "true", "1", "on", "y")
_NO = ("no", "false", "0", "off", "n")


def env_name(package: str, option: str) -> str:
    """The environment variable ``package`` ("juliacall" or "juliapkg") reads for ``option``."""
    if package == "juliacall" and option == "bindir":
        return "PYTHON_JULIACALL_BINDIR"
    return f"PYTHON_{package.upper()}_{option.upper()}"


def _check_choice(env: MutableMapping[str, str], key: str, choices: tuple[str, ...]) -> None:
    value = env.get(key)
    if value is None or value in choices:
        return
    low = value.strip().lower()
    if choices == ("yes", "no") and low in _YES + _NO:
        env[key] = "yes" if low in _YES else "no"
        return
    if low in choices:
        env[key] = low
        return
    raise EngineUnavailableError(
        f"{key}={value!r} is not accepted by {key.split('_')[1].lower()}: use one of {', '.join(choices)}.",
        argument=key,
    )


def _threads(env: MutableMapping[str, str]) -> str:
    return env.get("PYTHON_JULIACALL_THREADS") or env.get("JULIA_NUM_THREADS") or "1"


def prepare_environment(env: MutableMapping[str, str] | None = None) -> None:
    """Set pysciml's juliacall defaults and normalise or reject option values in ``env``.

    * ``PYTHON_JULIACALL_THREADS`` defaults to ``1`` (unless ``JULIA_NUM_THREADS`` is set,
      which juliacall also reads);
    * ``PYTHON_JULIACALL_HANDLE_SIGNALS`` defaults to ``no`` with one thread and to ``yes``
      with more (juliacall's recommendation for threads);
    * yes/no options accept ``true``/``false``/``1``/``0`` (rewritten to ``yes``/``no``,
      the only values the packages accept); other values outside an option's choices
      raise :class:`~pysciml.errors.EngineUnavailableError` naming the variable;
    * a known misspelling (``PYTHON_JULIACALL_OPTLEVEL``) warns with the real name.

    No optimisation level is set: juliapkg precompiles the packages at Julia's default
    ``-O2``, and a session started with another level would reject those caches and
    compile everything again.

    Args:
        env: the mapping to work on (default ``os.environ``).
    """
    env = os.environ if env is None else env
    for package, table in (("juliapkg", JULIAPKG_OPTIONS), ("juliacall", JULIACALL_OPTIONS)):
        for option, choices in table.items():
            if choices is not None:
                _check_choice(env, env_name(package, option), choices)
    for wrong, right in _MISTAKES.items():
        if wrong in env and right not in env:
            warnings.warn(
                f"{wrong} is not read by juliacall or juliapkg (it has no effect); the option is {right}.",
                RuntimeWarning,
                stacklevel=3,
            )
    if "JULIA_NUM_THREADS" not in env:
        for k, v in PYSCIML_DEFAULTS.items():
            env.setdefault(k, v)
    if "PYTHON_JULIACALL_HANDLE_SIGNALS" not in env:
        env["PYTHON_JULIACALL_HANDLE_SIGNALS"] = "no" if _threads(env).strip() == "1" else "yes"
