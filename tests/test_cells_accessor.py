"""The .sciml accessor: registered whatever the import order, and `import pysciml` stays cheap."""

import json
import subprocess
import sys

import pytest


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


REPORT = ("import json, sys; print(json.dumps({'xarray': 'xarray' in sys.modules, 'jax': 'jax' in sys.modules, "
          "'da': hasattr(xr.DataArray, 'sciml') if 'xr' in dir() else None, "
          "'ds': hasattr(xr.Dataset, 'sciml') if 'xr' in dir() else None}))")


def test_import_pysciml_does_not_import_xarray():
    got = _run("import pysciml\n" + REPORT)
    assert got["xarray"] is False and got["jax"] is False


@pytest.mark.parametrize("order", [
    "import pysciml\nimport xarray as xr",
    "import xarray as xr\nimport pysciml",
    "import pysciml.cells\nimport xarray as xr",
    "import pysciml as ps\nfrom xarray import DataArray\nimport xarray as xr",
])
def test_accessor_is_registered_in_any_import_order(order):
    got = _run(order + "\n" + REPORT)
    assert got["da"] is True and got["ds"] is True
    assert got["jax"] is False  # registering the accessor loads no engine


def test_accessor_methods_reach_the_plain_functions():
    code = ("import pysciml\nimport xarray as xr, numpy as np\n"
            "da = xr.DataArray(np.zeros((3, 2)), dims=('time', 'x'), coords={'time': [0., 1., 2.]}, name='y')\n"
            "acc = da.sciml\nimport pysciml.cells as g\n"
            "print(__import__('json').dumps({'methods': sorted(m for m in dir(acc) if not m.startswith('_')),"
            " 'same': type(acc) is g.SciMLAccessor}))")
    got = _run(code)
    assert got["methods"] == ["fit", "forecast", "plot", "plot_cell", "plot_quality", "solve", "to_netcdf",
                               "to_zarr"] and got["same"]


def test_someone_elses_sciml_attribute_is_left_alone():
    code = ("import xarray as xr\n@xr.register_dataarray_accessor('sciml')\nclass Other:\n"
            "    def __init__(self, obj): pass\n"
            "import pysciml.cells\nimport json\n"
            "print(json.dumps({'other': type(xr.DataArray([1]).sciml).__name__, "
            "'ds': type(xr.Dataset().sciml).__name__}))")
    got = _run(code)
    assert got == {"other": "Other", "ds": "SciMLAccessor"}
