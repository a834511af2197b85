"""Plain words for a run: units of driver effects, headline KPIs, the one-screen summary.

Used by the HTML reports (:mod:`cxkit.report`) and the dashboards (page header), so both
say the same thing the same way. Everything reads the saved tables of a run folder
(``reports/<run_id>/tables``); nothing here fits a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxkit.privacy import MIN_N, min_n_of

#: outcome column -> (what it is, its unit in plural); NPS the index (-100..100) is never
#: mixed up with the 0-10 likelihood-to-recommend answer the model explains.
OUTCOMES = {
    "nps": ("likelihood-to-recommend answer (0-10)", "points on the 0-10 recommend scale"),
    "csat": ("satisfaction score (1-5)", "CSAT points (1-5 scale)"),
    "ces": ("customer effort score (1-7)", "effort points (1-7 scale)"),
    "review_score": ("review score (1-5 stars)", "stars"),
}


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """The run's manifest (:class:`cxkit.rundir.Manifest`) as JSON values; {} when it is
    missing or unreadable."""
    from cxkit.rundir import ManifestError, Run

    try:
        return Run(run_dir).manifest.dump()
    except ManifestError:
        return {}


def read_tables(run_dir: str | Path, names) -> dict[str, pd.DataFrame]:
    """The named ``tables/<name>.parquet`` of a run that exist and can be read."""
    from cxkit.rundir import Run

    run = Run(run_dir)
    out = {}
    for name in names:
        if run.has_table(name):
            try:
                out[name] = run.table(name)
            except Exception:  # noqa: BLE001 - a broken table is reported by the caller's loader
                continue
    return out


def outcome_words(outcome: str, family: str = "gaussian") -> tuple[str, str]:
    """(what the outcome is, the unit an effect is in) in plain words.

    Examples
    --------
    >>> outcome_words("nps")[1]
    'points on the 0-10 recommend scale'
    >>> outcome_words("nps", "bernoulli")[1]
    'log-odds of a high answer'
    """
    what, unit = OUTCOMES.get(outcome, (outcome.replace("_", " "), f"{outcome} points"))
    if family in ("bernoulli", "ordinal"):
        unit = "log-odds of a high answer"
    return what, unit


def driver_words(driver: str, gap_unit: str = "days") -> tuple[str, str]:
    """(plain name, unit in singular) of a driver column of the responses table.

    Examples
    --------
    >>> driver_words("rating_price")
    ('price rating', 'rating point')
    >>> driver_words("gap_delivery")
    ('delivery delay', 'day late')
    """
    def name(rest: str) -> str:
        return rest.replace("_", " ")

    if driver.startswith("rating_"):
        return f"{name(driver[7:])} rating", "rating point"
    if driver.startswith("gap_"):
        unit = {"days": "day", "hours": "hour", "minutes": "minute"}.get(gap_unit, gap_unit)
        return f"{name(driver[4:])} delay", f"{unit} late"
    if driver.startswith("breach_"):
        return f"missed {name(driver[7:])} promises", "missed promise"
    if driver.startswith("had_"):
        return f"having had a {name(driver[4:])}", "yes vs no"
    if driver.startswith("n_"):
        return f"number of {name(driver[2:])}s", f"extra {name(driver[2:])}"
    if driver.startswith("topic_"):
        return f"mentions topic {name(driver[6:])}", "mention vs none"
    return name(driver), f"unit of {name(driver)}"


def effect_sentence(row: pd.Series, *, outcome: str = "nps", family: str = "gaussian",
                    gap_unit: str = "days") -> str:
    """One sentence for one row of ``driver_importance``: size, unit, interval, direction.

    Examples
    --------
    >>> r = pd.Series({"driver": "rating_price", "effect_mean": 0.45, "effect_low": 0.35,
    ...                "effect_high": 0.52})
    >>> effect_sentence(r)  # doctest: +NORMALIZE_WHITESPACE
    'Price rating: +0.45 points on the 0-10 recommend scale per rating point (94% interval
    +0.35 to +0.52); a higher price rating goes with a higher answer.'
    """
    label, unit = driver_words(str(row["driver"]), gap_unit)
    _, out_unit = outcome_words(outcome, family)
    mean, low, high = (float(row[k]) for k in ("effect_mean", "effect_low",
                                               "effect_high"))
    if low > 0:
        direction = f"a higher {label} goes with a higher answer"
    elif high < 0:
        direction = f"a higher {label} goes with a lower answer"
    else:
        direction = "the direction is not clear from these data"
    return (f"{label[0].upper()}{label[1:]}: {mean:+.2f} {out_unit} per {unit} "
            f"(94% interval {low:+.2f} to {high:+.2f}); {direction}.")


def _money(x: float, currency: str = "") -> str:
    return f"{currency}{x:,.0f}".strip() if np.isfinite(x) else "n/a"


def headline_kpis(run_dir: str | Path) -> pd.DataFrame:
    """The run's headline numbers: ``metric, label, value, unit`` (missing tables skipped).

    NPS is the -100..100 index over all respondents; promises met is the share of every
    service promise (delivery dates, ticket SLAs) kept; revenue at risk sums the at-risk
    customers' expected loss; best ROI is the top single initiative's mean ROI.
    """
    t = read_tables(run_dir, ["nps_by_segment", "journey_gaps", "revenue_at_risk",
                              "initiatives", "scenarios"])
    rows = []
    nps = t.get("nps_by_segment")
    if nps is not None and {"segment", "nps_mean"} <= set(nps.columns):
        allrow = nps[nps["segment"].astype(str) == "All"]
        if len(allrow):
            rows.append(("nps", "NPS (-100 to 100)", float(allrow["nps_mean"].iloc[0]), "pts"))
    gaps = t.get("journey_gaps")
    if gaps is not None and "segment_var" in gaps.columns:
        overall = gaps[gaps["segment_var"] == "overall"]
        if len(overall) and overall["n"].sum() > 0:
            share = float((overall["share_met"] * overall["n"]).sum() / overall["n"].sum())
            rows.append(("promises_met", "Promises kept", share, "share"))
    rar = t.get("revenue_at_risk")
    if rar is not None and "revenue_at_risk_mean" in rar.columns and len(rar):
        first = rar[rar["segment_var"] == rar["segment_var"].iloc[0]]
        rows.append(("revenue_at_risk", "Revenue at risk",
                     float(first["revenue_at_risk_mean"].sum()), "money"))
    ini = t.get("initiatives")
    if ini is not None and "roi_mean" in ini.columns and len(ini):
        single = ini[ini.get("kind", "single") == "single"] if "kind" in ini else ini
        best = single.sort_values("roi_mean", ascending=False).iloc[0]
        rows.append(("best_roi", f"Best ROI ({best['initiative']})", float(best["roi_mean"]),
                     "ratio"))
    return pd.DataFrame(rows, columns=["metric", "label", "value", "unit"])


def kpi_changes(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``current`` with ``previous`` and ``change`` columns (NaN where not comparable)."""
    out = current.copy()
    prev = (previous.set_index("metric")["value"] if previous is not None and len(previous)
            else pd.Series(dtype=float))
    out["previous"] = out["metric"].map(prev).astype(float)
    out["change"] = out["value"] - out["previous"]
    return out


def format_kpi(value: float, unit: str, *, change: bool = False) -> str:
    """A KPI value (or a change, with its sign) as people read it.

    Examples
    --------
    >>> format_kpi(0.753, "share"), format_kpi(-0.021, "share", change=True)
    ('75%', '-2.1 pts')
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = "+" if change else ""
    if unit == "share":
        return f"{100 * value:{sign}.1f} pts" if change else f"{value:.0%}"
    if unit == "money":
        return f"{value:{sign},.0f}"
    if unit == "ratio":
        return f"{value:{sign}.0%}"
    return f"{value:{sign}.1f}"


def run_summary(run_dir: str | Path, *, min_n: int | None = None) -> list[str]:
    """The one-screen summary of a run in plain words, one Markdown bullet per finding:
    the top drivers, the biggest broken promise, the best initiative with its ROI, and the
    revenue at risk. Segments under the privacy floor never contribute a number.
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    min_n = min_n if min_n is not None else min_n_of(manifest)
    params = manifest.get("parameters", {}) if isinstance(manifest, dict) else {}
    drivers_cfg = params.get("drivers", {}) or {}
    outcome, family = drivers_cfg.get("outcome", "nps"), drivers_cfg.get("family", "gaussian")
    t = read_tables(run_dir, ["driver_importance", "journey_gaps", "initiatives", "scenarios",
                              "revenue_at_risk", "nps_by_segment"])
    out: list[str] = []

    imp = t.get("driver_importance")
    if imp is not None and len(imp):
        seg = "All" if (imp["segment"].astype(str) == "All").any() else None
        if seg is None and "n" in imp:
            seg = imp.groupby("segment")["n"].max().idxmax()
        elif seg is None:
            seg = imp["segment"].iloc[0]
        rows = imp[imp["segment"].astype(str) == str(seg)].sort_values("rank")
        if "n" in rows and len(rows) and rows["n"].max() < min_n:
            out.append(f"**Top drivers**: too few responses (under {min_n}) to say.")
        elif len(rows):
            unit = gap_unit(t.get("journey_gaps"))
            top = [effect_sentence(r, outcome=outcome, family=family, gap_unit=unit)
                   for _, r in rows.head(3).iterrows()]
            where = "all customers" if str(seg) == "All" else f"segment {seg}"
            out.append(f"**Top drivers** ({where}, by importance): " + " ".join(top))

    gaps = t.get("journey_gaps")
    if gaps is not None and len(gaps):
        overall = gaps[(gaps["segment_var"] == "overall") & (gaps["n"] >= min_n)]
        seg = gaps[(gaps["segment_var"] != "overall") & (gaps["n"] >= min_n)]
        if len(overall):
            worst = overall.sort_values("share_met").iloc[0]
            text = (f"**Biggest broken promise**: {worst['touchpoint'].replace('_', ' ')} "
                    f"({worst['rule'].replace('_', ' ')}) was missed for "
                    f"{1 - worst['share_met']:.0%} of {int(worst['n']):,} cases "
                    f"(kept {worst['share_met_low']:.0%} to {worst['share_met_high']:.0%}, "
                    f"94% interval)")
            sub = seg[seg["touchpoint"] == worst["touchpoint"]].sort_values("share_met")
            if len(sub):
                w = sub.iloc[0]
                text += (f"; worst in {w['segment_var']} {w['segment_value']}, "
                         f"missed {1 - w['share_met']:.0%}")
            out.append(text + ".")

    ini = t.get("initiatives")
    sc = t.get("scenarios")
    if ini is not None and len(ini) and "roi_mean" in ini:
        single = ini[ini["kind"] == "single"] if "kind" in ini else ini
        b = single.sort_values("roi_mean", ascending=False).iloc[0]
        cur = str(b.get("currency", "") or "")
        out.append(f"**Best initiative**: {b['initiative']}: ROI {b['roi_mean']:.0%} (90% "
                   f"interval {b['roi_low']:.0%} to {b['roi_high']:.0%}), net value "
                   f"{_money(b['net_value_mean'], cur + ' ')}, chance it pays back "
                   f"{b['p_roi_positive']:.0%}.")
    elif sc is not None and len(sc):
        b = sc.sort_values("rank").iloc[0]
        out.append(f"**Best initiative**: {b['scenario']}: revenue "
                   f"{b['delta_revenue_mean']:+,.0f} (94% interval "
                   f"{b['delta_revenue_low']:+,.0f} to {b['delta_revenue_high']:+,.0f}"
                   f"); costs are not in this run, so no ROI.")

    rar = t.get("revenue_at_risk")
    if rar is not None and len(rar) and "revenue_at_risk_mean" in rar:
        first = rar[rar["segment_var"] == rar["segment_var"].iloc[0]]
        first = first[first["customers"] >= min_n] if "customers" in first else first
        cur = str(first["currency"].iloc[0]) + " " if "currency" in first and len(first) else ""
        days = (f" over {int(first['horizon_days'].iloc[0])} days"
                if "horizon_days" in first and len(first) else "")
        out.append(f"**Revenue at risk**{days}: {_money(first['revenue_at_risk_mean'].sum(), cur)}"
                   f" (90% interval {_money(first['revenue_at_risk_low'].sum(), cur)} to "
                   f"{_money(first['revenue_at_risk_high'].sum(), cur)}; the bounds of the "
                   f"groups are added, so the total's interval is wider than exact), from "
                   f"{int(first['customers'].sum()):,} customers.")
    if not out:
        out.append("This run has no result tables yet.")
    return out


def gap_unit(gaps: pd.DataFrame | None) -> str:
    """The unit of delivery gaps in a journey_gaps table (else the first row's; "days")."""
    if gaps is None or "unit" not in gaps or not len(gaps):
        return "days"
    d = gaps[gaps["touchpoint"].astype(str).str.contains("deliver")]
    return str((d if len(d) else gaps)["unit"].iloc[0])
