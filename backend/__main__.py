"""``python -m backend`` and the ``image-optimizer`` console script."""

import sys

from backend.cli import main

if __name__ == "__main__":
    sys.exit(main())
