"""``python -m mlel.ratings``: see ``mlel.ratings.cli``."""

import sys

from mlel.ratings.cli import run

if __name__ == "__main__":
    sys.exit(run())
