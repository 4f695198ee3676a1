"""A class decorator giving option objects (solvers, optimisers, strategies) friendly errors."""

from __future__ import annotations

import dataclasses
import functools

from .errors import InputError

__all__ = ["options"]


def options(cls):
    """Make unknown or surplus constructor arguments an :class:`InputError` naming the class.

    Apply on top of ``@dataclasses.dataclass``; the dataclass' own checks
    (``__post_init__``) still run.
    """
    init = cls.__init__
    names = [f.name for f in dataclasses.fields(cls) if f.init]

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        unknown = [k for k in kwargs if k not in names]
        if unknown or len(args) > len(names):
            what = f"unknown option(s) {unknown}" if unknown else f"{len(args)} positional arguments"
            raise InputError(
                f"{what}; {cls.__name__} takes {', '.join(names) or 'no options'}.",
                argument=cls.__name__,
            )
        init(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls
