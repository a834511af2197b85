"""Plain words for a run: units, sentences, KPIs with change, the one-screen summary."""

import pandas as pd
import pytest

from cxkit.summary import (driver_words, effect_sentence, format_kpi, headline_kpis,
                           kpi_changes, outcome_words, run_summary)
from tests.dashboards.conftest import PREVIOUS_ID, make_reports


def test_units_in_plain_words():
    assert driver_words("rating_delivery") == ("delivery rating", "rating point")
    assert driver_words("gap_delivery", "hours") == ("delivery delay", "hour late")
    assert driver_words("breach_support_ticket")[1] == "missed promise"
    assert outcome_words("nps") == ("likelihood-to-recommend answer (0-10)",
                                    "points on the 0-10 recommend scale")
    assert outcome_words("review_score")[1] == "stars"


def test_effect_sentence_direction_and_uncertainty():
    row = pd.Series({"driver": "gap_delivery", "effect_mean": -0.38, "effect_low": -0.42,
                     "effect_high": -0.33})
    assert effect_sentence(row) == (
        "Delivery delay: -0.38 points on the 0-10 recommend scale per day late (94% interval "
        "-0.42 to -0.33); a higher delivery delay goes with a lower answer.")
    row["effect_high"] = 0.1
    assert effect_sentence(row).endswith("the direction is not clear from these data.")


def test_kpis_and_change_since_previous(tmp_path):
    current = make_reports(tmp_path / "reports")
    k = kpi_changes(headline_kpis(current), headline_kpis(current.parent / PREVIOUS_ID))
    k = k.set_index("metric")
    assert k.loc["nps", "value"] == 20.0 and k.loc["nps", "change"] == 5.0
    # promises kept: overall rows, weighted by n: (0.8 * 98 + 0.6 * 98) / 196
    assert k.loc["promises_met", "value"] == pytest.approx(0.7)
    # region rows (the first segment_var); Tiny (6 customers) was saved under the privacy
    # floor, without an estimate, so it adds nothing: 9,000 + 5,000
    assert k.loc["revenue_at_risk", "value"] == 14_000.0
    assert k.loc["best_roi", "label"] == "Best ROI (faster delivery)"
    assert format_kpi(0.7, "share") == "70%" and format_kpi(5.0, "pts", change=True) == "+5.0"


def test_summary_has_the_four_findings_and_respects_the_floor(tmp_path):
    current = make_reports(tmp_path / "reports")
    text = run_summary(current)
    assert [t.split("**")[1] for t in text] == ["Top drivers", "Biggest broken promise",
                                                 "Best initiative", "Revenue at risk"]
    assert "Price rating: +0.45" in text[0] and "all customers" in text[0]
    # support tickets kept 60% overall: the worst promise; South (40%) is the worst segment,
    # Tiny (90%, 8 cases) is under the floor and never named
    assert "support ticket" in text[1] and "missed for 40% of 98 cases" in text[1]
    assert "worst in region South, missed 60%" in text[1]
    assert "Tiny" not in " ".join(text)
    assert "faster delivery" in text[2] and "chance it pays back" in text[2]
    assert "BRL 14,000" in text[3]  # North 9,000 + South 5,000; Tiny (6 customers) left out
    assert run_summary(current, min_n=1000)[0].startswith("**Top drivers**: too few responses")
