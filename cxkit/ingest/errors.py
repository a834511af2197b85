"""Errors raised by ingestion; each names the file (and row / column where known)."""

from __future__ import annotations

__all__ = ["IngestError", "ConfigError", "SchemaMismatchError", "SourceReadError",
           "EncodingError"]


class IngestError(Exception):
    """Base class for every ingestion error (catch this one in callers)."""


class ConfigError(IngestError):
    """A sources YAML or touchpoint catalog is invalid (unknown key, bad value, missing file)."""


class SchemaMismatchError(IngestError):
    """A source file's columns do not match the mapping declared for it in the YAML."""


class SourceReadError(IngestError):
    """A source file could not be read at all (missing file, unreadable format)."""


class EncodingError(SourceReadError):
    """A source file holds bytes that are invalid in its declared ``encoding``."""
