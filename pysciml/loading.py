"""``ps.load``: read any saved pysciml object (fitted models, latent models), whatever its kind.

The document's ``format`` says what it is; each format has one builder here.  Saved
files never carry or import code: a model's physics comes from the caller
(``physics=``) or from its module when that is already imported.
"""

from __future__ import annotations

from typing import Any

from .errors import FileFormatError
from .fitting import saved_model as model_file
from .io.saved import read_pair
from .latent import saved_model as latent_file
from .latent.estimator import LatentODE
from .model import UDE, ODEModel

__all__ = ["load", "load_latent", "FORMATS"]

#: every format ``load`` reads -> its version
FORMATS = {model_file.FORMAT: model_file.VERSION, latent_file.FORMAT: latent_file.VERSION}

#: the class of each saved model class name (a NeuralODE comes back as the ODEModel it is)
_MODEL_CLASSES = {"UDE": UDE, "NeuralODE": ODEModel, "ODEModel": ODEModel}


def load(path, *, physics=None) -> Any:
    """Load a model saved with ``model.save(path)`` (a fitted ``ODEModel``/``UDE`` or a ``LatentODE``).

    Args:
        path: the path given to ``save`` (with or without ``.json``).
        physics: the physics function of an ODE model (needed unless its module is already imported).

    Returns:
        The model, with its fitted attributes restored.
    """
    doc, arrays = read_pair(path, FORMATS, what="model")
    try:
        if doc["format"] == latent_file.FORMAT:
            return latent_file.latent_from_document(LatentODE, doc, arrays, path)
        return model_file.model_from_document(doc, arrays, physics, _MODEL_CLASSES)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise FileFormatError(
            f"{path} is incomplete or damaged (missing or malformed {exc}); save the model again.", argument="path"
        ) from None


def load_latent(path) -> LatentODE:
    """A LatentODE saved with ``model.save(path)`` (path with or without ``.json``)."""
    return LatentODE.load(path)
