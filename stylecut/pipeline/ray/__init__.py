"""`stylecut apply --ray`: a batch, and the segments of its long clips, as Ray tasks.

- :mod:`.options`: the command line's ``--ray``, ``--workers``, ``--segment-seconds`` (no Ray needed);
- :mod:`.driver`: connecting to Ray, the tasks, and the driver that follows them;
- :mod:`.segments`: where a long clip is split, how a segment is written and the parts are joined;
- :mod:`.frame_counter`: the actor the tasks report their frames to, for the progress line.

Ray is an optional extra (``pip install 'stylecut[ray]'``): this module and
:mod:`.options` never import it, so the command line works without it and says
in one sentence how to install it when ``--ray`` asks for it.
"""

from __future__ import annotations

from types import ModuleType

from stylecut.errors import UsageError
from stylecut.pipeline.ray.options import INSTALL_HINT


def load_driver() -> ModuleType:
    """The Ray driver (:mod:`.driver`), or a UsageError saying how to install Ray when it is missing."""
    try:
        import ray  # noqa: F401  (the optional extra)
    except ImportError:
        raise UsageError(
            f"--ray needs Ray, which is not installed: install it with {INSTALL_HINT}."
        ) from None
    from stylecut.pipeline.ray import driver

    return driver
