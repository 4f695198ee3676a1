"""``pysciml demo NAME``: runnable demonstrations, each writing NetCDF files and a PNG.

:mod:`.catalog` lists them (``pysciml demo --list``); each demo is a module here with a
``run(out_dir, engine=None, quick=False) -> dict`` function.
"""
