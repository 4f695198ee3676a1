"""The pysciml exception family.

Every error raised for misuse names the argument at fault, says what was
wrong with it and what to do instead.  Numerical failure during a solve or a
fit is *not* an exception: it is a :class:`pysciml.Status` with advice,
unless the user asked for ``raise_on_failure=True``.
"""

from __future__ import annotations

__all__ = [
    "PySciMLError",
    "InputError",
    "ModelError",
    "DataError",
    "EngineUnavailableError",
    "EngineError",
    "SolverFailure",
    "FileFormatError",
    "TraceError",
    "UndeclaredNameError",
]


class PySciMLError(Exception):
    """Base class of every error pysciml raises on purpose.

    Args:
        message: what was wrong and what to do.
        argument: name of the offending argument (``"u0"``, ``"params.k1"``...),
            or ``None`` when no single argument is at fault.
    """

    def __init__(self, message: str, *, argument: str | None = None):
        self.argument = argument
        if argument is not None and not message.startswith(f"{argument}"):
            message = f"{argument}: {message}"
        super().__init__(message)


class InputError(PySciMLError, ValueError):
    """An argument has the wrong type, shape, value or is missing."""


class ModelError(PySciMLError, ValueError):
    """The model definition (physics function, states, networks) is inconsistent."""


class UndeclaredNameError(ModelError, AttributeError):
    """The physics used ``p.name`` for a parameter or network the model does not declare."""


class TraceError(ModelError):
    """The physics function cannot be traced by an engine (value-dependent control flow...)."""


class DataError(InputError):
    """Observations passed to a fit are unusable (no time axis, unsorted times, all NaN...)."""


class EngineUnavailableError(PySciMLError, ImportError):
    """The requested engine cannot be loaded here (missing package, no Julia...)."""


class EngineError(PySciMLError, RuntimeError):
    """An engine failed while running a request (carries the engine's own message)."""


class SolverFailure(PySciMLError, RuntimeError):
    """A solve did not succeed and the caller asked for ``raise_on_failure=True``.

    Attributes:
        solution: the partial :class:`pysciml.Solution` (status, stats, values so far).
    """

    def __init__(self, message: str, *, solution=None, argument: str | None = None):
        super().__init__(message, argument=argument)
        self.solution = solution


class FileFormatError(PySciMLError, ValueError):
    """A saved file is not a pysciml file, is corrupt, or has an unknown format version."""
