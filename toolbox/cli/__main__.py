"""``python -m toolbox.cli``: the same as the ``toolbox`` command."""

import sys

from ._main import main

sys.exit(main())
