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


def test_pre_heated_kernel_is_stamped_active_when_handed_out():
    import asyncio
    import types
    from datetime import datetime, timedelta, timezone

    from cxkit.dashboards._voila import _stamp_handed_out_kernels

    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    kernel = types.SimpleNamespace(last_activity=long_ago)

    class Pooled:
        _kernels = {"k1": kernel}

        async def get_rendered_notebook(self, name):
            return "task", [], "k1"

    module = types.SimpleNamespace(voila_kernel_manager_factory=lambda *a, **k: Pooled)
    _stamp_handed_out_kernels(module)
    manager = module.voila_kernel_manager_factory()()
    assert asyncio.run(manager.get_rendered_notebook("drivers.ipynb"))[2] == "k1"
    assert kernel.last_activity > long_ago + timedelta(minutes=59)
