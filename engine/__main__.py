"""`python -m engine` is the `linkflow` command."""

import sys

from engine.cli import main

sys.exit(main())
