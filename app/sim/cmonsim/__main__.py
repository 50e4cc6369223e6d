"""`python -m cmonsim` = the `cmonsim` console script."""

import sys

from .cli import main

sys.exit(main())
