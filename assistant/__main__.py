"""`python -m assistant ...` is the `reperes` command."""

import sys

from assistant.cli import main

sys.exit(main())
