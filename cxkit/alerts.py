"""Alerts: rules applied to each run's results, routed to their owners by e-mail and webhook.

Rules live in ``params/alerts.yaml`` (named in the run YAML's ``alerts.rules``), each with an
``owner``. Four kinds:

- ``metric_drop``: a trend metric (``nps``, ``csat``, ``importance:<driver>``,
  ``share_met:<touchpoint>/<rule>``) fell since the previous run with probability above
  ``p`` (``p_drop`` of ``tables/trend.parquet``, :mod:`cxkit.trend`);
- ``gap_above``: a touchpoint's mean gap (``tables/journey_gaps``, e.g. days late) above
  ``threshold`` in a segment with at least ``min_n`` customers;
- ``at_risk_above``: an active customer whose revenue at risk
  (``tables/at_risk.parquet``, ``revenue_at_risk_mean``) is above ``threshold``;
- ``broken_promise_detractor``: a detractor (score <= ``max_score``) whose journey broke a
  promise (a ``breach_<touchpoint>`` count > 0 in ``ingest/responses.parquet``), once: a
  response the previous run already had does not alert again (``new_only``).

A run writes every alert to ``alerts.csv`` and ``alerts.json`` in its folder before
delivering anything, so a failed delivery (recorded in the manifest) loses no alert. The
``cxkit run`` exit code is 3 when alerts fired.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cxkit.rundir import Run

__all__ = ["AlertRules", "load_rules", "evaluate", "write_alerts", "deliver", "run_alerts",
           "ALERT_COLUMNS"]

ALERT_COLUMNS = ["run_id", "rule", "kind", "owner", "subject", "value", "threshold",
                 "message"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Model):
    name: str
    kind: Literal["metric_drop", "gap_above", "at_risk_above", "broken_promise_detractor"]
    owner: str
    metric: str | None = None  # metric_drop: e.g. nps, csat, share_met:delivery/on_time
    segment: str | None = None  # metric_drop / gap_above: only this segment (default: any)
    p: float = Field(0.9, gt=0, lt=1)  # metric_drop: probability of a real fall
    touchpoint: str | None = None  # gap_above: e.g. delivery
    threshold: float | None = None  # gap_above (gap units), at_risk_above (currency)
    min_n: int = Field(30, ge=1)  # gap_above: smallest segment considered
    score: str = "nps"  # broken_promise_detractor: score column
    max_score: float = 6  # broken_promise_detractor: detractor = score <= this
    new_only: bool = True  # broken_promise_detractor: skip responses the previous run had

    @model_validator(mode="after")
    def _needs(self):
        need = {"metric_drop": ["metric"], "gap_above": ["touchpoint", "threshold"],
                "at_risk_above": ["threshold"], "broken_promise_detractor": []}[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"rule {self.name!r} ({self.kind}) needs {missing}")
        return self


class Owner(_Model):
    email: str | None = None
    webhook: bool = True  # include this owner's alerts in the webhook post


class EmailChannel(_Model):
    host: str = "localhost"
    port: int = 25
    sender: str
    starttls: bool = False
    username_env: str | None = None  # environment variable holding the SMTP user name
    password_env: str | None = None  # ... and the password (never in the YAML)
    timeout_s: float = 10


class WebhookChannel(_Model):
    url: str | None = None
    url_env: str | None = None  # environment variable holding the URL (e.g. with a token)
    timeout_s: float = 10


class Channels(_Model):
    email: EmailChannel | None = None
    webhook: WebhookChannel | None = None


class AlertRules(_Model):
    """A validated ``params/alerts.yaml``."""

    owners: dict[str, Owner]
    rules: list[Rule]
    channels: Channels = Field(default_factory=Channels)

    @model_validator(mode="after")
    def _owners_known(self):
        for r in self.rules:
            if r.owner not in self.owners:
                raise ValueError(f"rule {r.name!r}: owner {r.owner!r} is not under owners "
                                 f"({sorted(self.owners)})")
        return self


def load_rules(path: str | Path) -> AlertRules:
    """Read and validate an alert rules YAML; ``ValueError`` names the file and problem.

    Examples
    --------
    >>> [r.kind for r in load_rules("params/alerts.yaml").rules]  # doctest: +SKIP
    ['metric_drop', 'gap_above', 'at_risk_above', 'broken_promise_detractor']
    """
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and raw.get("channels") is None:
            raw.pop("channels", None)  # every channel commented out: deliver nothing
        return AlertRules.model_validate(raw)
    except OSError as exc:
        raise ValueError(f"{path}: alert rules file cannot be read ({exc.strerror}); fix "
                         f"alerts.rules in the run YAML.") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
                 for e in exc.errors()]
        raise ValueError(f"{path}: invalid alert rules\n" + "\n".join(lines)
                         + "\nSee the comments in params/alerts.yaml.") from None


# --------------------------------------------------------------------------- evaluation
def _read(run_dir: str | Path, name: str) -> pd.DataFrame | None:
    """A run's table, without the rows under the privacy floor; None when it has none."""
    return Run(run_dir).table_or_none(name, drop_floored=True)


def _alert(rule: Rule, subject: str, value: float, threshold: float, message: str) -> dict:
    return {"rule": rule.name, "kind": rule.kind, "owner": rule.owner, "subject": subject,
            "value": float(value), "threshold": float(threshold), "message": message}


def _metric_drop(rule: Rule, trend: pd.DataFrame | None) -> list[dict]:
    if trend is None or trend.empty:
        return []
    t = trend[(trend["metric"] == rule.metric) & (trend["p_drop"] > rule.p)]
    if rule.segment is not None:
        t = t[t["segment"] == rule.segment]
    return [_alert(rule, f"{r.metric} ({r.segment})", r.p_drop, rule.p,
                   f"{r.metric} in {r.segment} fell from {r.previous_value:.3g} to "
                   f"{r.value:.3g} since run {r.previous_run_id}; probability of a real "
                   f"fall {r.p_drop:.0%} (rule: above {rule.p:.0%})")
            for r in t.itertuples(index=False)]


def _gap_above(rule: Rule, run_dir: Path) -> list[dict]:
    gaps = _read(run_dir, "journey_gaps")
    if gaps is None:
        return []
    g = gaps[(gaps["touchpoint"] == rule.touchpoint) & (gaps["n"] >= rule.min_n)
             & (gaps["mean_gap"] > rule.threshold)]
    out = []
    for r in g.itertuples(index=False):
        seg = "all customers" if r.segment_var == "overall" else f"{r.segment_var}={r.segment_value}"
        if rule.segment is not None and rule.segment not in (seg, str(r.segment_value)):
            continue
        out.append(_alert(rule, f"{r.touchpoint}/{r.rule} ({seg})", r.mean_gap, rule.threshold,
                          f"{r.touchpoint} {r.rule}: mean gap {r.mean_gap:.2f} {r.unit} for "
                          f"{seg} ({r.n} customers), above {rule.threshold:g} {r.unit}"))
    return out


def _at_risk_above(rule: Rule, run_dir: Path) -> list[dict]:
    risk = _read(run_dir, "at_risk")
    if risk is None:
        return []
    r = risk[risk["revenue_at_risk_mean"] > rule.threshold].sort_values(
        "revenue_at_risk_mean", ascending=False)
    issues = [c for c in ("issue_1", "issue_2", "issue_3") if c in r]
    out = []
    for row in r.itertuples(index=False):
        why = "; ".join(str(getattr(row, c)) for c in issues
                        if pd.notna(getattr(row, c)) and str(getattr(row, c)))
        out.append(_alert(rule, f"customer {row.customer_id}", row.revenue_at_risk_mean,
                          rule.threshold,
                          f"customer {row.customer_id}: revenue at risk "
                          f"{row.revenue_at_risk_mean:,.0f}, above {rule.threshold:,.0f}"
                          + (f" ({why})" if why else "")))
    return out


def _broken_promise_detractor(rule: Rule, run_dir: Path, previous_dir: Path | None) -> list[dict]:
    resp = Run(run_dir).ingest_or_none("responses")
    if resp is None or rule.score not in resp:
        return []
    if rule.new_only and previous_dir is not None and "response_id" in resp:
        # each run re-reads the whole survey history: alert on a response once
        seen = Run(previous_dir).ingest_or_none("responses")
        if seen is not None and "response_id" in seen:
            resp = resp[~resp["response_id"].isin(seen["response_id"])]
    breach = [c for c in resp if c.startswith("breach_")]
    if not breach:
        return []
    score = pd.to_numeric(resp[rule.score], errors="coerce")
    broke = resp[breach].fillna(0).gt(0)
    hit = resp[(score <= rule.max_score) & broke.any(axis=1)]
    out = []
    for i, row in hit.iterrows():
        promises = ", ".join(c.removeprefix("breach_").replace("_", " ")
                             for c in breach if broke.at[i, c])
        who = row.get("customer_id", "?")
        rid = row.get("response_id")
        out.append(_alert(rule, f"customer {who}", score[i], rule.max_score,
                          f"customer {who} answered {rule.score} {score[i]:g} (detractor)"
                          + (f" in response {rid}" if rid is not None else "")
                          + f" after a broken promise: {promises}"))
    return out


def evaluate(rules: AlertRules, run_dir: str | Path, *, trend: pd.DataFrame | None = None,
             run_id: str = "", previous_dir: str | Path | None = None) -> pd.DataFrame:
    """Apply every rule to a run folder; one row per alert (:data:`ALERT_COLUMNS`).

    ``trend`` is this run's rows of :func:`cxkit.trend.update_trend` (read from
    ``tables/trend.parquet`` when omitted). ``previous_dir`` is the previous successful run
    of the same name: detractor alerts skip the responses it already had (``new_only``).
    Tables a rule needs but the run lacks give no alert.

    Examples
    --------
    >>> evaluate(load_rules("params/alerts.yaml"), "reports/latest")  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    if trend is None:
        t = _read(run_dir, "trend")
        trend = t[t["run_id"] == run_id] if t is not None and run_id else t
    found: list[dict] = []
    for rule in rules.rules:
        if rule.kind == "metric_drop":
            found += _metric_drop(rule, trend)
        elif rule.kind == "gap_above":
            found += _gap_above(rule, run_dir)
        elif rule.kind == "at_risk_above":
            found += _at_risk_above(rule, run_dir)
        else:
            found += _broken_promise_detractor(rule, run_dir, previous_dir)
    table = pd.DataFrame(found, columns=ALERT_COLUMNS[1:])
    table.insert(0, "run_id", run_id)
    return table


def write_alerts(alerts: pd.DataFrame, run_dir: str | Path) -> list[Path]:
    """``alerts.csv`` and ``alerts.json`` (a list of records) in the run folder."""
    run_dir = Path(run_dir)
    csv, js = run_dir / "alerts.csv", run_dir / "alerts.json"
    alerts.to_csv(csv, index=False)
    js.write_text(json.dumps(alerts.to_dict(orient="records"), indent=2, default=str),
                  encoding="utf-8")
    return [csv, js]


# --------------------------------------------------------------------------- delivery
def _send_email(ch: EmailChannel, to: str, alerts: pd.DataFrame, run_id: str) -> None:
    msg = EmailMessage()
    msg["Subject"] = f"cxkit run {run_id}: {len(alerts)} alert(s) for you"
    msg["From"], msg["To"] = ch.sender, to
    lines = [f"- [{a.rule}] {a.message}" for a in alerts.itertuples(index=False)]
    msg.set_content(f"Run {run_id} raised {len(alerts)} alert(s) you own:\n\n"
                    + "\n".join(lines) + "\n\nThe full list is attached (alerts.csv).\n")
    msg.add_attachment(alerts.to_csv(index=False).encode("utf-8"), maintype="text",
                       subtype="csv", filename="alerts.csv")
    with smtplib.SMTP(ch.host, ch.port, timeout=ch.timeout_s) as smtp:
        if ch.starttls:
            smtp.starttls()
        if ch.username_env and ch.password_env:
            smtp.login(os.environ[ch.username_env], os.environ[ch.password_env])
        smtp.send_message(msg)


def _post_webhook(ch: WebhookChannel, alerts: pd.DataFrame, run_id: str) -> None:
    url = ch.url or (os.environ.get(ch.url_env, "") if ch.url_env else "")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"webhook URL {url!r} is not http(s); set channels.webhook.url or "
                         f"the variable named by url_env")
    # "text" is what chat incoming webhooks (Slack, Mattermost, Teams) display
    text = (f"cxkit run {run_id}: {len(alerts)} alert(s)\n"
            + "\n".join(f"- [{a.rule}] {a.message} (owner: {a.owner})"
                        for a in alerts.head(20).itertuples(index=False))
            + (f"\n... and {len(alerts) - 20} more in alerts.csv" if len(alerts) > 20 else ""))
    body = json.dumps({"text": text, "run_id": run_id,
                       "alerts": alerts.to_dict(orient="records")}, default=str).encode("utf-8")
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=ch.timeout_s) as resp:  # noqa: S310 - http(s) checked
        if not 200 <= resp.status < 300:
            raise urllib.error.HTTPError(url, resp.status, resp.reason, resp.headers, None)


def deliver(rules: AlertRules, alerts: pd.DataFrame, *, run_id: str) -> list[dict]:
    """Send the alerts: one e-mail per owner with an address, one webhook post with every
    alert whose owner has ``webhook: true``. Never raises: each attempt is returned as
    ``{channel, target, alerts, ok, error}`` for the manifest.
    """
    results = []
    if alerts.empty:
        return results
    ch = rules.channels
    if ch.email is not None:
        for owner, part in alerts.groupby("owner", sort=True):
            to = rules.owners[owner].email
            if not to:
                continue
            results.append(_attempt("email", to, len(part),
                                    lambda: _send_email(ch.email, to, part, run_id)))
    if ch.webhook is not None:
        hooked = alerts[alerts["owner"].map(lambda o: rules.owners[o].webhook)]
        if len(hooked):
            target = ch.webhook.url or f"${ch.webhook.url_env}"
            results.append(_attempt("webhook", target, len(hooked),
                                    lambda: _post_webhook(ch.webhook, hooked, run_id)))
    return results


def _attempt(channel: str, target: str, n: int, send) -> dict:
    try:
        send()
        return {"channel": channel, "target": target, "alerts": n, "ok": True, "error": None}
    except Exception as exc:  # noqa: BLE001 - recorded in the manifest; the alerts are on disk
        return {"channel": channel, "target": target, "alerts": n, "ok": False,
                "error": f"{type(exc).__name__}: {exc}"}


def run_alerts(rules_path: str | Path, run_dir: str | Path, *, trend: pd.DataFrame | None,
               run_id: str, send: bool = True, previous_dir: str | Path | None = None) -> dict:
    """What the runner calls after a run: evaluate, write the files, deliver.

    Returns the manifest's ``alerts`` section: ``rules`` (file), ``fired`` (records),
    ``files``, ``deliveries`` and ``undelivered`` (number of failed delivery attempts).
    """
    rules = load_rules(rules_path)
    alerts = evaluate(rules, run_dir, trend=trend, run_id=run_id, previous_dir=previous_dir)
    files = write_alerts(alerts, run_dir)
    deliveries = deliver(rules, alerts, run_id=run_id) if send else []
    return {"rules": str(rules_path), "fired": alerts.to_dict(orient="records"),
            "files": [p.name for p in files], "deliveries": deliveries,
            "undelivered": sum(not d["ok"] for d in deliveries)}
