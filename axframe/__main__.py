"""``python -m axframe ...`` is the ``axframe`` command."""

import sys

from .cli import main

sys.exit(main())
