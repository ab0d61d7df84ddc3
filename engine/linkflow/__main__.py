"""`python -m linkflow` is the `linkflow` command."""

import sys

from linkflow.cli import main

sys.exit(main())
