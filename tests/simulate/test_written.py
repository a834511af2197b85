"""cxkit.simulate.written: the tables as written, with their injected bad rows counted in the truth."""

from cxkit.simulate import simulate
from cxkit.simulate.base import ANALYSIS_COLUMNS, TABLES


def test_written_tables_and_truth_count_injected_rows():
    sim = simulate(seed=3, n_customers=200)
    assert sorted(sim.tables) == sorted(TABLES)
    assert list(sim.analysis.columns) == ANALYSIS_COLUMNS
    for name, df in sim.tables.items():
        exp = sim.truth["expected_counts"][name]
        assert exp["rows_in"] == len(df) and exp["kept"] + exp["quarantined"] == len(df)
    assert sim.truth["expected_counts"]["orders"]["quarantined"] == 3 + 4
    # orders carry 3 bad timestamps and 4 duplicates among the clean rows
    assert sim.tables["orders"]["ordered_at"].isin(["not available"]).sum() == 1
