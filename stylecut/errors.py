"""Errors a user can cause, and the exit code each one ends the command with.

Everything raised as a :class:`StylecutError` is reported by the CLI as one
sentence with no traceback and the class's ``exit_code``; anything else is a
bug. The code follows the error's type, never the command or the place where
it was caught: 2 for a usage error (a bad option, an unknown style, an
unusable output, a command that cannot start), 1 for an input that failed,
130 for Ctrl-C and 143 for SIGTERM (see sigterm.py).
"""

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process SIGTERM ended


class StylecutError(Exception):
    """A problem the user can fix; ``str(err)`` is the one sentence shown."""

    exit_code = EXIT_FAILED


class UsageError(StylecutError):
    """The command as given cannot run: a bad option value, name or device."""

    exit_code = EXIT_USAGE


class MediaError(StylecutError):
    """An input file is missing, not a video, corrupt or unsupported."""


class StyleError(UsageError):
    """A style is unknown, damaged or fails its checksum."""


class OutputError(UsageError):
    """The output cannot be written (permissions, disk full, exists)."""


class Interrupted(StylecutError):
    """Ctrl-C or SIGTERM (``terminated``): what was finished is kept; the message says how to resume."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str, terminated: bool = False) -> None:
        super().__init__(message)
        if terminated:
            self.exit_code = EXIT_TERMINATED


class Terminated(KeyboardInterrupt):  # noqa: N818 (named for the signal, like KeyboardInterrupt)
    """SIGTERM, raised in the main thread while a command runs: every Ctrl-C clean-up runs for it too."""
