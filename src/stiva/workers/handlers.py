"""Which function runs each kind of job, and which kinds recur (composed by the app).

Each feature adds its rows here: `HANDLERS[kind] = function(ctx, job)`, and its recurring jobs
in `periodic(settings)`.
"""

from __future__ import annotations

from stiva.config import Settings
from stiva.workers.runner import Handler, Periodic

HANDLERS: dict[str, Handler] = {}


def periodic(settings: Settings) -> list[Periodic]:
    """The recurring jobs this deployment runs."""
    del settings
    return []
