"""``python -m mlel.tradeoff``: see ``mlel.tradeoff.cli``."""

from mlel.cli import exit_process, run_main
from mlel.tradeoff.cli import PROG, main

if __name__ == "__main__":
    exit_process(run_main(main, prog=PROG))
