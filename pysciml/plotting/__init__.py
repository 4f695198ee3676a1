"""Pictures of pysciml results (matplotlib, the optional ``plot`` extra).

Each module draws one kind of result from plain arrays and xarray objects and
returns the matplotlib objects (``(fig, axes)``); the result classes call them
(``sol.plot()``, ``sde_sol.plot()``, ``model.plot(data)``, ``model.plot_loss()``,
``eqs.plot()``, ``res.sciml.plot("name")``, ``latent.plot_samples(...)``,
``nbody.plot(sol)``, ``arm.plot(sol)``).  matplotlib is imported only when a picture is drawn; without it
the error names the extra to install.

* :mod:`.backend`: loading matplotlib, new figures, saving them (atomic, the user's umask).
* :mod:`.solution`: states against time, one panel per state group.
* :mod:`.paths`: sample paths of an SDE as quantile bands.
* :mod:`.fit`: data against a fitted model (bands, forecast region); the loss history.
* :mod:`.discovery`: a network's output against the equations read from it.
* :mod:`.cells`: maps of gridded fits and one cell's series.
* :mod:`.latent`: samples of a generative model against data.
* :mod:`.fields`: snapshots of a 2-D field over time (vorticity).
* :mod:`.orbits`: trajectories of bodies (N-body).
* :mod:`.arms`: poses of a robot arm over time and its tool point's path.
* :mod:`.animation`: GIF / MP4 files of a field's evolution or of any figure.

``pysciml.plotting.animate``, ``plot_snapshots``, ``plot_orbits`` and ``plot_arm_motion`` are reachable from here.
"""

from .animation import animate as animate
from .animation import save_animation as save_animation
from .arms import plot_arm_motion as plot_arm_motion
from .fields import plot_snapshots as plot_snapshots
from .orbits import plot_orbits as plot_orbits
