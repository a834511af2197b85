"""The ingest report: per-source row accounting and identity conflicts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["SourceReport", "IngestReport"]


@dataclass
class SourceReport:
    """Row accounting of one source; ``rows_in == kept + quarantined`` always."""

    rows_in: int
    kept: int
    quarantined: int
    by_reason: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    role: str = "events"

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.kept + self.quarantined == self.kept + sum(self.by_reason.values())


@dataclass
class IngestReport:
    """What an ingestion run did.  ``ok`` is False when the row accounting of a source does
    not balance or a source quarantined more than ``max_quarantine_share`` of its rows.

    Examples
    --------
    >>> r = IngestReport(sources={"orders": SourceReport(10, 9, 1, {"orphan": 1})})
    >>> r.ok, r.sources["orders"].balanced
    (True, True)
    """

    sources: dict[str, SourceReport] = field(default_factory=dict)
    identity_conflicts: list[dict] = field(default_factory=list)
    outputs: dict[str, int] = field(default_factory=dict)
    engine: str = "duckdb"
    as_of: str = ""
    window_days: float = 30.0
    max_quarantine_share: float = 0.5
    seconds: float = 0.0
    sources_file: str = ""
    #: Things that did not stop ingestion but a reader must see (e.g. a source with a
    #: header and no data rows); the runner copies them into the manifest and reports.
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        for s in self.sources.values():
            if not s.balanced:
                return False
            if s.rows_in and s.quarantined / s.rows_in > self.max_quarantine_share:
                return False
        return True

    def problems(self) -> list[str]:
        """Human-readable reasons why ``ok`` is False (empty when ok)."""
        out = []
        for name, s in self.sources.items():
            if not s.balanced:
                out.append(f"{name}: rows_in {s.rows_in} != kept {s.kept} + quarantined {s.quarantined}")
            elif s.rows_in and s.quarantined / s.rows_in > self.max_quarantine_share:
                out.append(f"{name}: {s.quarantined}/{s.rows_in} rows quarantined, more than "
                           f"max_quarantine_share={self.max_quarantine_share}; see quarantine.parquet")
        return out

    def summary(self) -> str:
        """A short text table: one line per source plus output sizes."""
        w = max([len(n) for n in self.sources] + [6])
        wn = max([len(f"{s.rows_in:,}") for s in self.sources.values()] + [7])
        wq = max([len(f"{s.quarantined:,}") for s in self.sources.values()] + [5])
        lines = [f"ingest ({self.engine}, {self.seconds:.1f} s, as of {self.as_of})",
                 f"{'source':<{w}}  {'rows_in':>{wn}} {'kept':>{wn}} {'quar.':>{wq}}  reasons"]
        for name, s in self.sources.items():
            reasons = ", ".join(f"{k}={v}" for k, v in sorted(s.by_reason.items())) or "-"
            lines.append(f"{name:<{w}}  {s.rows_in:>{wn},} {s.kept:>{wn},} {s.quarantined:>{wq},}  {reasons}")
        if self.identity_conflicts:
            lines.append(f"identity conflicts: {len(self.identity_conflicts)} (listed in ingest_report.json)")
        lines += [f"WARNING: {w}" for w in self.warnings]
        if self.outputs:
            lines.append("outputs: " + ", ".join(f"{k}={v:,}" for k, v in self.outputs.items()))
        lines.append("status: OK" if self.ok else "status: PROBLEMS\n  " + "\n  ".join(self.problems()))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        return d

    def to_json(self, path: Path | str | None = None) -> str:
        """JSON text of the report; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=False)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> "IngestReport":
        p = Path(text_or_path) if not str(text_or_path).lstrip().startswith("{") else None
        d = json.loads(p.read_text() if p else str(text_or_path))
        d.pop("ok", None)
        d["sources"] = {k: SourceReport(**v) for k, v in d["sources"].items()}
        return cls(**d)
