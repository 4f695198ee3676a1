"""juliacall/juliapkg start-up options: names and values checked against the packages (no Julia).

* every ``PYTHON_JULIACALL_*`` / ``PYTHON_JULIAPKG_*`` that pysciml sets or the docs name
  is an option the package reads (``PYTHON_JULIACALL_OPTLEVEL`` was not);
* the option tables in :mod:`pysciml.engines.julia.options` equal the installed
  packages' (juliapkg is in the test extra; juliacall is compared when installed);
* yes/no values juliapkg would refuse at import (``true``, ``1``) are normalised, and
  the real juliapkg then accepts them; other bad values are refused naming the variable;
* the threads / signal-handling defaults, and no optimisation level.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pysciml.engines.julia import options
from pysciml.engines.julia.options import JULIACALL_OPTIONS, JULIAPKG_OPTIONS, env_name, prepare_environment
from pysciml.errors import EngineUnavailableError

ROOT = Path(__file__).resolve().parents[1]
REAL_NAMES = {env_name("juliacall", k) for k in JULIACALL_OPTIONS} | {env_name("juliapkg", k) for k in JULIAPKG_OPTIONS}


def _package_source(module: str, file: str) -> str | None:
    spec = importlib.util.find_spec(module)  # finds without importing (juliacall would start Julia)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / file
    return path.read_text() if path.is_file() else None


def test_juliapkg_table_is_the_installed_one():
    src = _package_source("juliapkg", "state.py")
    if src is None:
        pytest.skip("juliapkg is not installed (it is in the test extra)")
    found = {}
    for kind, name in re.findall(r'get_config(_bool|_opts)?\(\s*"(\w+)"', src):
        found[name] = ("yes", "no") if kind == "_bool" else None
    assert found == JULIAPKG_OPTIONS
    # get_config_bool accepts exactly the strings "yes" and "no"
    assert re.search(r'\{"yes": True, True: True, "no": False, False: False\}', src)


def test_juliacall_table_is_the_installed_one():
    src = _package_source("juliacall", "__init__.py")
    if src is None:
        pytest.skip("juliacall is not installed here; the table was read from juliacall 0.9.34 and 0.9.37")
    found = {}
    for kind, name, choices in re.findall(
        r"\b(option|choice|flag|path_option|executable_option|int_option)\('(\w+)'(?:, \[([^\]]*)\])?", src
    ):
        if kind == "choice":
            found[name] = tuple(re.findall(r"'([^']*)'", choices))
        elif kind == "flag":
            found[name] = ("yes", "no")
        else:
            found[name] = None
    found["bindir"] = found.pop("home")  # read from PYTHON_JULIACALL_BINDIR
    assert "envkey='PYTHON_JULIACALL_BINDIR'" in src
    assert found == JULIACALL_OPTIONS


def _mentioned() -> dict[str, set[str]]:
    files = [*sorted((ROOT / "pysciml").rglob("*.py")), ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    out: dict[str, set[str]] = {}
    for f in files:
        for name in re.findall(r"PYTHON_JULIA(?:CALL|PKG)_[A-Z_]+", f.read_text()):
            out.setdefault(name.rstrip("_"), set()).add(str(f.relative_to(ROOT)))
    return out


def test_every_option_pysciml_names_exists():
    """A misspelt option (PYTHON_JULIACALL_OPTLEVEL) is silently ignored by juliacall."""
    mentioned = _mentioned()
    assert "PYTHON_JULIACALL_HANDLE_SIGNALS" in mentioned and "PYTHON_JULIAPKG_OFFLINE" in mentioned
    # a known misspelling may be named only next to the real name (pysciml warns about it)
    bad = {k: v for k, v in mentioned.items() if k not in REAL_NAMES
           and (k not in options._MISTAKES or any(f not in mentioned[options._MISTAKES[k]] for f in v))}
    assert bad == {}


def test_option_check_can_fail():
    """Negative control: the name the engine used to set is not an option."""
    assert "PYTHON_JULIACALL_OPTLEVEL" not in REAL_NAMES and "PYTHON_JULIACALL_OPTIMIZE" in REAL_NAMES


def test_defaults_one_thread_python_keeps_ctrl_c():
    env: dict[str, str] = {}
    prepare_environment(env)
    assert env == {"PYTHON_JULIACALL_THREADS": "1", "PYTHON_JULIACALL_HANDLE_SIGNALS": "no"}
    # no optimisation level: juliapkg precompiles at -O2, another level would reject those caches
    assert not {"PYTHON_JULIACALL_OPTIMIZE", "PYTHON_JULIACALL_MIN_OPTLEVEL"} & set(env)


@pytest.mark.parametrize(
    "given,signals",
    [
        ({"PYTHON_JULIACALL_THREADS": "4"}, "yes"),
        ({"PYTHON_JULIACALL_THREADS": "auto"}, "yes"),
        ({"JULIA_NUM_THREADS": "8"}, "yes"),
        ({"PYTHON_JULIACALL_THREADS": "1"}, "no"),
        ({"PYTHON_JULIACALL_THREADS": "4", "PYTHON_JULIACALL_HANDLE_SIGNALS": "no"}, "no"),
        ({"PYTHON_JULIACALL_HANDLE_SIGNALS": "yes"}, "yes"),
    ],
)
def test_signal_handling_follows_threads(given, signals):
    """More than one Julia thread: juliacall recommends HANDLE_SIGNALS=yes; the user's choice wins."""
    env = dict(given)
    prepare_environment(env)
    assert env["PYTHON_JULIACALL_HANDLE_SIGNALS"] == signals
    if "JULIA_NUM_THREADS" in given:
        assert "PYTHON_JULIACALL_THREADS" not in env  # juliacall reads JULIA_NUM_THREADS itself


@pytest.mark.parametrize("value,want", [("true", "yes"), ("1", "yes"), ("YES", "yes"), ("False", "no"),
                                        ("0", "no"), ("yes", "yes"), ("no", "no")])
def test_yes_no_values_are_normalised(value, want):
    env = {"PYTHON_JULIAPKG_OFFLINE": value, "PYTHON_JULIACALL_HANDLE_SIGNALS": value}
    prepare_environment(env)
    assert env["PYTHON_JULIAPKG_OFFLINE"] == want and env["PYTHON_JULIACALL_HANDLE_SIGNALS"] == want


@pytest.mark.parametrize("key,value", [("PYTHON_JULIAPKG_OFFLINE", "maybe"), ("PYTHON_JULIACALL_OPTIMIZE", "fast"),
                                       ("PYTHON_JULIACALL_COMPILE", "sometimes")])
def test_bad_values_are_refused_by_name(key, value):
    with pytest.raises(EngineUnavailableError, match=key) as info:
        prepare_environment({key: value})
    assert "use one of" in str(info.value)


def test_misspelt_optimisation_level_warns():
    env = {"PYTHON_JULIACALL_OPTLEVEL": "3"}
    with pytest.warns(RuntimeWarning, match="PYTHON_JULIACALL_OPTIMIZE"):
        prepare_environment(env)
    assert "PYTHON_JULIACALL_OPTIMIZE" not in env


def _juliapkg_offline(env_extra: dict[str, str], normalise: bool):
    pytest.importorskip("juliapkg", reason="juliapkg is in the test extra")
    code = (
        ("from pysciml.engines.julia.options import prepare_environment; prepare_environment()\n" if normalise else "")
        + "from juliapkg.state import STATE\nprint('OFFLINE', STATE['offline'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON_JULIA", "JULIA_"))}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(ROOT))


def test_the_real_juliapkg_accepts_the_normalised_value():
    """juliapkg raises at import for OFFLINE=true; after prepare_environment it reads it as offline."""
    raw = _juliapkg_offline({"PYTHON_JULIAPKG_OFFLINE": "true"}, normalise=False)
    assert raw.returncode != 0 and "PYTHON_JULIAPKG_OFFLINE must be one of" in raw.stderr
    ok = _juliapkg_offline({"PYTHON_JULIAPKG_OFFLINE": "true"}, normalise=True)
    assert ok.returncode == 0, ok.stderr
    assert "OFFLINE True" in ok.stdout


def test_availability_names_a_bad_value(monkeypatch):
    from pysciml.engines.julia import bridge

    monkeypatch.setattr(bridge, "_BRIDGE_STATE", {})
    monkeypatch.setenv("PYTHON_JULIAPKG_OFFLINE", "perhaps")
    ok, reason = bridge.availability()
    assert not ok and "PYTHON_JULIAPKG_OFFLINE='perhaps'" in reason


def test_module_docstring_claims_no_run():
    """The signal/threads text is reasoning from juliacall's docs, and says so."""
    assert "never run here" in (options.__doc__ or "")
