"""One exception hierarchy for the whole package.

Command-line tools turn any ``MlelError`` into one line on stderr and exit code 2
(see ``mlel.cli``); everything else is a bug and keeps its traceback.
"""


class MlelError(Exception):
    """Root of every error this package raises on purpose."""


class UserInputError(MlelError, ValueError):
    """The user asked for something that does not exist or cannot work.

    The message names the problem and, where there is a fixed set, the valid choices.
    """


class ModelError(MlelError, ValueError):
    """The model library refused the parameters or the data while fitting or predicting
    (e.g. a k-NN asked for more neighbours than there are training samples).

    Not a ``UserInputError``: a trade-off search records it as one failed configuration and goes on.
    """


class HardwareUnavailableError(MlelError, RuntimeError):
    """Hardware the user explicitly asked for (``--device cuda``, a meter) is not there."""


class SchemaError(MlelError, ValueError):
    """A file is not in a format (or schema version) this version of mlel can read."""


class IncompleteExperimentError(SchemaError):
    """An experiment folder is missing its completion marker or a required file."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none): vendor errors quoted
    in a one-line message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def choices_message(what: str, got: object, choices) -> str:
    """Format the house-style message: "The 'x' parameter must be one of ...; got 'y'"."""
    listed = ", ".join(repr(c) for c in sorted(choices))
    return f"The {what!r} parameter must be one of {listed}; got {got!r}"


class RunInterrupted(BaseException):
    """SIGINT or SIGTERM arrived during a run (or between runs of a longer job). A ``BaseException`` so
    that libraries' broad ``except Exception`` cannot swallow it; an experiment folder is marked
    ``interrupted`` on the way out, and command-line tools exit with 128 + the signal's number."""

    def __init__(self, signum: int, folder=None):
        import signal

        self.signum = signum
        self.folder = folder
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
