"""``python -m cxkit.dashboards._voila ARGS``: Voila with two routine log lines dropped.

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
    from voila.app import main as voila_main

    return voila_main()



if __name__ == "__main__":
    sys.exit(main())
