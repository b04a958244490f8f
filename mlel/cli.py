"""Shared plumbing for the command-line tools: one-line errors and exit code 2."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, Sequence

from mlel.errors import MlelError

EXIT_USER_ERROR = 2


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run_main(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run ``main(argv)``; an ``MlelError`` becomes one line on stderr and exit code 2."""
    try:
        return int(main(argv) or 0)
    except MlelError as exc:
        name = prog or sys.argv[0].rsplit("/", 1)[-1]
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
