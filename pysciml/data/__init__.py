"""Observations in, model-time trajectories out, and back to xarray.

``as_observations`` reads xarray, pandas and numpy observations into
:class:`Observations` (float64 model time, NaN = missing); ``to_dataset`` and
``model_time_to_coord`` turn model-time results back into xarray on the
user's time axis.  Pure numpy / pandas / xarray / cftime.
"""

from .ingest import DataWarning, as_observations
from .timeaxis import (
    CALENDAR_YEAR_DAYS,
    TIME_UNITS,
    TimeMeta,
    model_time_to_coord,
    to_model_time,
)
from .to_xarray import time_coordinate, to_dataset
from .trajectory import Observations, Padded, Trajectory, robust_scales

__all__ = [
    "as_observations",
    "Observations",
    "Trajectory",
    "Padded",
    "TimeMeta",
    "DataWarning",
    "robust_scales",
    "to_model_time",
    "model_time_to_coord",
    "TIME_UNITS",
    "CALENDAR_YEAR_DAYS",
    "to_dataset",
    "time_coordinate",
]
