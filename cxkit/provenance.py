"""What a run read and where it ran: input files with their SHA-256, the git state.

Split from :mod:`cxkit.runner` (which re-exports :func:`sha256` and :func:`input_files`);
the manifest of every run records these.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any, Sequence

from cxkit import config
from cxkit.config import RunConfig

__all__ = ["sha256", "input_files", "git_state"]


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks (inputs can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expand(paths: list[Path]) -> list[Path]:
    import glob

    found: list[Path] = []
    for p in paths:
        if p.is_file():
            found.append(p.resolve())
        elif p.is_dir():
            found.extend(sorted(q.resolve() for q in p.iterdir() if q.is_file()))
        else:  # a glob pattern (several part files) or a file that is missing
            found.extend(sorted(Path(q).resolve() for q in glob.glob(str(p)) if Path(q).is_file()))
    return found


def _referenced_files(yaml_path: Path) -> list[Path]:
    """Data files and catalog a sources YAML reads.

    Asks the ingest layer (which expands ``${VAR:-default}`` and knows the schema) and falls
    back to every string in the YAML that names an existing path relative to it.
    """
    try:
        from cxkit.ingest.config import load_sources

        spec = load_sources(yaml_path)
        paths = [spec.resolve(spec.catalog)]
        paths += [spec.resolve(s.path) for s in spec.sources.values() if s.path]
        return _expand(paths)
    except Exception:  # noqa: BLE001 - not an ingest sources YAML: fall back to the walk
        pass
    import yaml

    try:
        doc = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []
    found: list[Path] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and len(node) < 400 and "\n" not in node:
            candidate = Path(node) if Path(node).is_absolute() else yaml_path.parent / node
            try:
                if candidate.is_file():
                    found.append(candidate.resolve())
                elif candidate.is_dir() and node.strip() not in ("", ".", ".."):
                    found.extend(sorted(p.resolve() for p in candidate.iterdir() if p.is_file()))
                elif any(ch in node for ch in "*?["):  # a glob of part files
                    found.extend(_expand([candidate]))
            except OSError:
                pass

    walk(doc)
    return found


def input_files(cfg: RunConfig, notebooks: Sequence[Path]) -> list[Path]:
    """Everything a run reads: its YAML, the sources YAMLs and their data files, notebooks."""
    files: list[Path] = []
    if cfg.source is not None:
        files.append(cfg.source)
    for src in [cfg.ingest.sources] + ([cfg.olist.sources] if cfg.olist else []):
        if src.is_file():
            files.append(src)
            files.extend(_referenced_files(src))
    files.extend(notebooks)
    seen: dict[Path, None] = {}
    for f in files:
        seen.setdefault(Path(f).resolve(), None)
    return list(seen)


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=config.PROJECT_ROOT, capture_output=True,
                                 text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


