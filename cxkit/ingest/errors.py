"""Errors raised by ingestion; each names the file (and row / column where known)."""

from __future__ import annotations

from cxkit import config as _config

__all__ = ["IngestError", "ConfigError", "SchemaMismatchError", "SourceReadError",
           "EncodingError"]


class IngestError(Exception):
    """Base class for every ingestion error (catch this one in callers)."""


class ConfigError(IngestError, _config.ConfigError):
    """A sources YAML or touchpoint catalog is invalid (unknown key, bad value, missing file).

    Also a :class:`cxkit.config.ConfigError`, so ``except cxkit.config.ConfigError`` catches
    a bad run YAML and a bad sources YAML alike.
    """


class SchemaMismatchError(IngestError):
    """A source file's columns do not match the mapping declared for it in the YAML."""


class SourceReadError(IngestError):
    """A source file could not be read at all (missing file, unreadable format)."""


class EncodingError(SourceReadError):
    """A source file holds bytes that are invalid in its declared ``encoding``."""
