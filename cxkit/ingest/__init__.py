"""Journey ingestion: many sources in, one validated journey table out.

Sources are declared in YAML (``params/sources/*.yaml``), touchpoints and their expectation
rules in a catalog (``params/catalog/*.yaml``).  The pipeline reads each source (DuckDB
reader layer), validates every row into kept or quarantined-with-a-reason, stitches
identities across sources and builds events, customers, journeys, gaps and survey responses
with their preceding-journey window features, as Ibis expressions that run on DuckDB or
PySpark.

Public API: :func:`ingest`, :func:`run_ingest`, :func:`load_ingest`, :class:`IngestResult`,
:class:`IngestReport`, :class:`SourceReport`, :func:`load_sources`, :func:`load_catalog` and
the :class:`IngestError` family.
"""

from cxkit.ingest.api import IngestResult, TABLES, ingest, load_ingest, run_ingest
from cxkit.ingest.catalog import Catalog, load_catalog
from cxkit.ingest.config import SourcesSpec, load_sources
from cxkit.ingest.errors import ConfigError, IngestError, SchemaMismatchError, SourceReadError
from cxkit.ingest.pipeline import REASONS
from cxkit.ingest.report import IngestReport, SourceReport

__all__ = ["ingest", "run_ingest", "load_ingest", "IngestResult", "IngestReport", "SourceReport",
           "SourcesSpec", "Catalog", "load_sources", "load_catalog", "IngestError", "ConfigError",
           "SchemaMismatchError", "SourceReadError", "REASONS", "TABLES"]
