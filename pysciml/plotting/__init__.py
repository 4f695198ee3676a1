"""Pictures of pysciml results (matplotlib, the optional ``plot`` extra).

Each module draws one kind of result from plain arrays and xarray objects and
returns the matplotlib objects (``(fig, axes)``); the result classes call them
(``sol.plot()``, ``model.plot(data)``, ``model.plot_loss()``, ``eqs.plot()``,
``res.sciml.plot("name")``, ``latent.plot_samples(...)``).  matplotlib is imported
only when a picture is drawn; without it the error names the extra to install.

* :mod:`.backend`: loading matplotlib, new figures, saving them (atomic, the user's umask).
* :mod:`.solution`: states against time, one panel per state group.
* :mod:`.fit`: data against a fitted model (bands, forecast region); the loss history.
* :mod:`.discovery`: a network's output against the equations read from it.
* :mod:`.cells`: maps of gridded fits and one cell's series.
* :mod:`.latent`: samples of a generative model against data.
"""
