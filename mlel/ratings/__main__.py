import sys

from mlel.ratings.cli import run

sys.exit(run())
