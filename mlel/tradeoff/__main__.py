"""``python -m mlel.tradeoff``: see ``mlel.tradeoff.cli``."""

import sys

from mlel.cli import run_main
from mlel.tradeoff.cli import PROG, main

if __name__ == "__main__":
    sys.exit(run_main(main, prog=PROG))
