"""Nothing leaves the machine: the switches that keep stylecut's libraries off the network.

The package imports this module first (``stylecut/__init__.py``), so the switches are set in every
process that runs stylecut's code before any of those libraries is imported: the command itself and
each Ray worker (a worker imports stylecut to unpickle its tasks).

OpenVINO: ``import openvino`` and every ``convert_model`` call report to an analytics service through
the optional openvino-telemetry package, which counts a missing consent file as consent and writes a
client id into ``~/intel``. Where that package cannot be imported, OpenVINO uses a no-op stub of its
own; marking the package absent makes it so, without writing a consent file into the user's home.

Ray: its usage statistics, and the cloud metadata requests that only label them, are off with
RAY_USAGE_STATS_ENABLED=0; set in this process's environment, it reaches the processes of a local
runtime, which inherit it. (The processes of a cluster started elsewhere are its owner's to configure.)
"""

from __future__ import annotations

import os
import sys

# Telemetry packages that stylecut's libraries import optionally (in a try/except ImportError).
OPTIONAL_TELEMETRY = ("openvino_telemetry",)
# Environment switches read by the libraries and by the processes they start.
ENVIRONMENT = {"RAY_USAGE_STATS_ENABLED": "0"}


def stay_offline() -> None:
    """Switch off every channel that would reach beyond this machine, in this process and its children."""
    for name in OPTIONAL_TELEMETRY:
        if sys.modules.get(name) is None:  # an import that already happened can no longer be undone
            sys.modules[name] = None  # what `import name` meets when the package is not installed
    os.environ.update(ENVIRONMENT)
