"""``python -m axframe.cli``: the ``axframe`` command."""

import sys

from . import main

sys.exit(main())
