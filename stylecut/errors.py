"""Errors a user can cause.

Everything raised as a :class:`StylecutError` is reported by the CLI as one
sentence with a non-zero exit code and no traceback; anything else is a bug.
"""


class StylecutError(Exception):
    """A problem the user can fix; ``str(err)`` is the one sentence shown."""


class MediaError(StylecutError):
    """An input file is missing, not a video, corrupt or unsupported."""


class StyleError(StylecutError):
    """A style is unknown, damaged or fails its checksum."""


class OutputError(StylecutError):
    """The output cannot be written (permissions, disk full, exists)."""
