"""cxkit.journeys.base: the stage order, and the docstring examples of every analytics module."""

from cxkit.journeys import STAGE_ORDER


def test_stage_order_is_the_catalog():
    assert STAGE_ORDER[0] == "awareness" and STAGE_ORDER[-1] == "renewal"
    assert len(STAGE_ORDER) == 9


def test_docstring_examples_run():
    import doctest

    from cxkit.journeys import base, cohorts, gaps, paths

    attempted = 0
    for module in (base, paths, cohorts, gaps):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted >= 8
