"""Shared plumbing for the command-line tools: one-line errors and exit code 2."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Callable, Sequence

from mlel.errors import MlelError, RunInterrupted, UserInputError

EXIT_USER_ERROR = 2


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def folder_path(text: str) -> Path:
    """argparse type of a folder option: ``Path("")`` would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder; got an empty string")
    return Path(text)


class _AboveProgressBars(logging.StreamHandler):
    """Log lines go above a running progress bar (``tqdm.write``) instead of through it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def positive_int(text: str) -> int:
    """argparse type of a count: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer of at least 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type of a duration or size: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number above 0; got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0; got {text}")
    return value


def setup_logging(verbose: bool = False) -> None:
    handler = _AboveProgressBars(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])


def check_listen_address(host: str, port: int) -> None:
    """Raise ``UserInputError`` unless a server could listen on ``host:port`` now.

    Checked before a server loads anything, so a port in use is one line rather than the server's
    ``OSError`` traceback after start-up.
    """
    if not 0 < port < 65536:
        raise UserInputError(f"--port must be 1..65535; got {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UserInputError(f"--host {host!r} is not an address this machine can resolve ({exc.strerror})") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserInputError(f"port {port} on {host} is already in use; choose another with --port") from exc
            raise UserInputError(f"cannot listen on {host}:{port} ({exc.strerror}); check --host and --port") from exc


FIT_THREAD_NAME = "mlel-fit"  # mlel.experiments.common.run_interruptibly's worker


def exit_process(code: int) -> None:
    """``sys.exit(code)`` for the scripts; but where a signal stopped the work (exit code above 128),
    or a fit still runs on a worker thread, end the process at once: a fit abandoned by a signal may
    leave PyTorch's thread pool busy, and letting the interpreter finalise under it makes C++ abort
    ("terminate called without an active exception") with the wrong exit code. Everything the run
    had to say is written by then; the output is flushed first."""
    import threading

    if code > 128 or any(t.name == FIT_THREAD_NAME for t in threading.enumerate()):
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)


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
    except RunInterrupted as exc:  # a signal between the places that say more
        print(f"{prog or sys.argv[0].rsplit('/', 1)[-1]}: {exc}", file=sys.stderr)
        return 128 + int(exc.signum)
    except BrokenPipeError:  # `... | head`: the reader has gone, which is no error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's exit flush does not raise again
        return 141
