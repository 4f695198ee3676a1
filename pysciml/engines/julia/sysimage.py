"""An optional custom Julia system image (PackageCompiler) for a fast Julia engine start.

``build_sysimage()`` (CLI: ``pysciml julia sysimage``) compiles PySciMLBridge and
its dependencies, exercised by the bridge's precompile workload, into a system
image next to the juliapkg environment.  The engine then starts Julia with it
(``PYTHON_JULIACALL_SYSIMAGE``) as long as nothing it baked in has changed: the
environment's ``Manifest.toml``, the bridge's own ``Project.toml`` and ``src/*.jl``
(PySciMLBridge is a path package, so its sources change without the Manifest
changing) and the Julia executable.  A stale image is ignored until rebuilt.
``PYSCIML_JULIA_SYSIMAGE=0`` disables the automatic use.

Packages inside a system image are frozen at the versions they had when it was
built; rebuild after updating pysciml or the Julia packages.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from ...errors import EngineError, EngineUnavailableError
from .package import bridge_digest

__all__ = ["build_sysimage", "default_sysimage_path", "usable_sysimage", "SYSIMAGE_WORKLOAD"]

#: PackageCompiler's precompile execution file: the bridge's guarded workload (a failing
#: call warns instead of failing the build)
SYSIMAGE_WORKLOAD = "using PySciMLBridge\nPySciMLBridge.run_workload()\n"
#: the record's format; records of another version are stale
_RECORD_VERSION = 2

_PACKAGECOMPILER_UUID = "9b87118b-4619-50d2-8e1e-99f35a4d4d9d"


def _ext() -> str:
    return {"win32": "dll", "darwin": "dylib"}.get(sys.platform, "so")


def _project_dir() -> Path | None:
    try:
        from juliapkg.state import STATE
    except Exception:  # noqa: BLE001 - no juliapkg: no environment to build against
        return None
    return Path(STATE["project"])


def default_sysimage_path() -> Path | None:
    """Where :func:`build_sysimage` puts the image by default (inside the juliapkg environment)."""
    project = _project_dir()
    return None if project is None else project / f"pysciml_sysimage.{_ext()}"


def _stamp(project: Path, julia: str | None) -> dict | None:
    """What an image built now would bake in: Manifest, bridge sources, Julia executable."""
    manifest = project / "Manifest.toml"
    if not manifest.is_file() or not julia:
        return None
    return {
        "version": _RECORD_VERSION,
        "manifest_sha256": hashlib.sha256(manifest.read_bytes()).hexdigest(),
        "bridge_sha256": bridge_digest(),
        "julia": str(Path(julia).resolve()),
    }


def usable_sysimage(julia: str | None) -> Path | None:
    """The default image if it exists and was built from the current Manifest, bridge and Julia.

    Args:
        julia: the Julia executable that will start (:func:`~.bridge.find_julia`); ``None``
            (not known) never matches.
    """
    path = default_sysimage_path()
    if path is None or not path.is_file():
        return None
    try:
        recorded = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return None
    current = _stamp(path.parent, julia)
    return path if current is not None and recorded == current else None


def _jl_str(s) -> str:
    return 'raw"' + str(s).replace('"', '\\"') + '"'


def build_sysimage(path: str | os.PathLike | None = None, *, verbose: bool = True) -> Path:
    """Build a Julia system image containing PySciMLBridge (minutes; needs a C compiler).

    Args:
        path: where to write the image; default: ``pysciml_sysimage.<so|dylib|dll>`` in
            the juliapkg environment, which the engine then uses automatically.
    Returns:
        The image path.  For an image elsewhere, start Python with
        ``PYTHON_JULIACALL_SYSIMAGE=<path>`` to use it.
    """
    try:
        import juliapkg
    except ImportError:
        raise EngineUnavailableError(
            'building a sysimage needs juliacall: pip install "pysciml[julia]"', argument="engine"
        ) from None
    juliapkg.resolve()
    exe, project = juliapkg.executable(), Path(juliapkg.project())
    target = Path(path) if path is not None else project / f"pysciml_sysimage.{_ext()}"
    target = target.resolve()
    tools = project / "pysciml_sysimage_tools"
    workload = tools / "workload.jl"
    tools.mkdir(parents=True, exist_ok=True)
    workload.write_text(SYSIMAGE_WORKLOAD)
    script = "\n".join(
        [
            "import Pkg",
            f"Pkg.activate({_jl_str(tools)}; io = devnull)",
            'if Base.find_package("PackageCompiler") === nothing',
            f'    Pkg.add(Pkg.PackageSpec(name = "PackageCompiler", uuid = "{_PACKAGECOMPILER_UUID}", version = "2"))',
            "end",
            "using PackageCompiler",
            f"create_sysimage([\"PySciMLBridge\"]; sysimage_path = {_jl_str(target)}, "
            f"project = {_jl_str(project)}, precompile_execution_file = {_jl_str(workload)})",
        ]
    )
    if verbose:
        print(f"pysciml: building a Julia system image at {target} (several minutes)...", file=sys.stderr)
    proc = subprocess.run(
        [exe, "--startup-file=no", "-e", script],
        stdout=None if verbose else subprocess.PIPE,
        stderr=None if verbose else subprocess.STDOUT,
        text=True,
    )
    if proc.returncode != 0:
        tail = "" if verbose else f": {proc.stdout[-2000:]}"
        raise EngineError(f"PackageCompiler failed (exit code {proc.returncode}){tail}", argument="engine")
    stamp = _stamp(project, exe)
    target.with_suffix(".json").write_text(json.dumps(stamp))
    if "juliacall" not in sys.modules:
        os.environ.setdefault("PYTHON_JULIACALL_SYSIMAGE", str(target))
    if verbose:
        default = path is None
        print(
            "pysciml: system image ready; "
            + (
                "the Julia engine uses it automatically."
                if default
                else f"start Python with PYTHON_JULIACALL_SYSIMAGE={target} to use it."
            ),
            file=sys.stderr,
        )
    return target
