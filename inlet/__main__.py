"""`python -m inlet`."""

import sys

from inlet.cli import main

sys.exit(main())
