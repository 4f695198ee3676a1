"""``ps.load``: read any saved pysciml object (fitted models, latent models, fitted SDEs), whatever its kind.

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
from .latent.sde_estimator import LatentSDE
from .model import UDE, ODEModel
from .sde import saved_fit as sde_fit_file
from .sde.fitting import SDEFit

__all__ = ["load", "load_latent", "FORMATS"]

#: every format ``load`` reads -> its version
FORMATS = {
    model_file.FORMAT: model_file.VERSION,
    latent_file.FORMAT: latent_file.VERSION,
    latent_file.SDE_FORMAT: latent_file.VERSION,
    sde_fit_file.FORMAT: sde_fit_file.VERSION,
}

#: the class of each saved model class name (a NeuralODE comes back as the ODEModel it is)
_MODEL_CLASSES = {"UDE": UDE, "NeuralODE": ODEModel, "ODEModel": ODEModel}


def load(path, *, physics=None, diffusion=None) -> Any:
    """Load a model saved with ``model.save(path)`` (a fitted ``ODEModel``/``UDE``, a ``LatentODE``,
    a ``LatentSDE`` or an ``SDEFit``).

    Args:
        path: the path given to ``save`` (with or without ``.json``).
        physics: the physics function of an ODE model, or the drift of a fitted SDE (needed unless
            its module is already imported).
        diffusion: the diffusion function of a fitted SDE (same rule).

    Returns:
        The model, with its fitted attributes restored.
    """
    doc, arrays = read_pair(path, FORMATS, what="model")
    try:
        if doc["format"] == latent_file.FORMAT:
            return latent_file.latent_from_document(LatentODE, doc, arrays, path)
        if doc["format"] == latent_file.SDE_FORMAT:
            return latent_file.latent_from_document(LatentSDE, doc, arrays, path)
        if doc["format"] == sde_fit_file.FORMAT:
            return sde_fit_file.sde_fit_from_document(SDEFit, doc, arrays, physics, diffusion)
        return model_file.model_from_document(doc, arrays, physics, _MODEL_CLASSES)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise FileFormatError(
            f"{path} is incomplete or damaged (missing or malformed {exc}); save the model again.", argument="path"
        ) from None


def load_latent(path) -> LatentODE:
    """A LatentODE saved with ``model.save(path)`` (path with or without ``.json``)."""
    return LatentODE.load(path)
