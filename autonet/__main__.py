"""``python -m autonet``: the command line, which lives in ``autonet.cli``."""

import sys

from autonet.cli import main

if __name__ == "__main__":
    sys.exit(main())
