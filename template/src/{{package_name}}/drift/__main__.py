"""Allow ``python -m <package>.drift``; see :mod:`.cli` for options and exit codes."""

import sys

from .cli import main

sys.exit(main())
