"""Where the PySciMLBridge Julia package lives, and a digest of what a build of it bakes in."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["julia_env_path", "bridge_files", "bridge_digest"]


def julia_env_path() -> Path:
    """The PySciMLBridge package directory that ``pysciml/juliapkg.json`` points at.

    In a checkout ``pysciml/julia_env`` is a symlink to the top-level ``julia_env``;
    in an installed wheel the build copies ``julia_env`` there.
    """
    return Path(__file__).resolve().parents[2] / "julia_env"


def bridge_files(env: Path | None = None) -> list[Path]:
    """The files whose content defines the bridge package: ``Project.toml`` and ``src/**/*.jl``."""
    env = julia_env_path() if env is None else env
    return [env / "Project.toml", *sorted((env / "src").rglob("*.jl"))]


def bridge_digest(env: Path | None = None) -> str:
    """SHA-256 over the bridge's files (relative name and content of each, in a fixed order).

    PySciMLBridge is a development (path) package, so Pkg's ``Manifest.toml`` does not
    change when its sources do; anything built from it (a system image) must be keyed
    on this digest as well.
    """
    env = julia_env_path() if env is None else env
    h = hashlib.sha256()
    for f in bridge_files(env):
        if f.is_file():
            h.update(f.relative_to(env).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()
