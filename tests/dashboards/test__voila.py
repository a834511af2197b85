"""The Voila wrapper drops the routine culling lines and nothing else."""

import logging

from cxkit.dashboards._voila import _DropRoutine


def _record(msg, *args, level=logging.WARNING):
    return logging.LogRecord("Voila", level, __file__, 1, msg, args, None)


def test_routine_lines_dropped_real_ones_kept():
    f = _DropRoutine()
    assert not f.filter(_record("Culling '%s' kernel '%s' (%s) with %d connections", "idle",
                                "python3", "abc", 0))
    assert not f.filter(_record("The following exception was encountered while checking the "
                                "idle duration of kernel x: The 'last_activity' trait of a "
                                "ServerKernelManager instance expected a datetime"))
    assert f.filter(_record("The following exception was encountered while checking the "
                            "idle duration of kernel x: disk full"))
    assert f.filter(_record("Received message of type \"execute_request\", which is not "
                            "allowed. Ignoring."))
