"""``python -m assetry``: the same as the ``assetry`` command."""

import sys

from assetry.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
