"""``python -m pysciml`` is the ``pysciml`` command."""

import sys

from .cli import main

sys.exit(main())
