"""``python -m cxkit.dashboards._voila ARGS``: Voila with routine log lines dropped, and
pre-heated kernels stamped active when handed to a page.

A kernel that waited in Voila's pool is idle for as long as it waited; the moment Voila
hands it to a page it leaves the pool, and Jupyter Server's culler would shut it down
before the browser's websocket connects (it has no connection yet and has "been idle" for
minutes). Stamping ``last_activity`` at hand-over gives the page the full
``cull_idle_timeout`` to connect.

Jupyter Server logs every culled kernel at WARNING ("Culling 'idle' kernel ..."): with the
culling policy of :mod:`cxkit.dashboards.serve` that is one warning per page view, which
drowns real warnings. Tornado warns once that Jupyter's kernel websocket ping timeout is
longer than its interval (and fixes it itself). Nothing else is filtered.
"""

from __future__ import annotations

import logging
import sys

#: (message start, text it must also contain) of the records dropped.
DROPPED = (
    ("Culling 'idle' kernel", ""),
    ("The websocket_ping_timeout", "cannot be longer than the websocket_ping_interval"),
    # Jupyter Server's culler racing a kernel that is still starting (no activity stamp
    # yet): harmless, the next check culls or keeps it normally
    ("The following exception was encountered while checking the idle duration of kernel",
     "'last_activity' trait"),
)


class _DropRoutine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(text.startswith(start) and also in text for start, also in DROPPED)


def main() -> int:
    routine = _DropRoutine()
    # Voila's application log is the "Voila" logger, shared by its kernel manager (the
    # culler); tornado warns through "tornado.general"
    for name in ("Voila", "tornado.general"):
        logging.getLogger(name).addFilter(routine)
    import voila.app

    _stamp_handed_out_kernels(voila.app)
    return voila.app.main()


def _stamp_handed_out_kernels(app_module) -> None:
    """Wrap Voila's kernel manager factory so a pre-heated kernel counts as active from the
    moment a page gets it (see the module docstring)."""
    from jupyter_server._tz import utcnow

    original = app_module.voila_kernel_manager_factory

    def factory(*args, **kwargs):
        cls = original(*args, **kwargs)
        if not hasattr(cls, "get_rendered_notebook"):  # no pool: nothing waits idle
            return cls

        class StampedKernelManager(cls):
            async def get_rendered_notebook(self, *a, **k):
                out = await super().get_rendered_notebook(*a, **k)
                kernel = self._kernels.get(out[2])
                if kernel is not None:
                    kernel.last_activity = utcnow()
                return out

        return StampedKernelManager

    app_module.voila_kernel_manager_factory = factory



if __name__ == "__main__":
    sys.exit(main())
