"""Reading a run YAML: ``extends:``, paths resolved against the file that sets them, and
error messages that name the file, the key and a close match.

Generic over the pydantic model of the whole file (:class:`cxkit.config.RunConfig`, which
:func:`cxkit.config.load_config` passes in), so the sections in :mod:`cxkit.config` stay
plain models and adding one needs no loading code.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError

from cxkit._checks import read_yaml_mapping

__all__ = ["ConfigError", "merge", "path_fields", "read_raw", "format_errors"]

#: The model field that records the file a config came from: never set from YAML.
_SOURCE = "source"


class ConfigError(ValueError):
    """A run YAML that cannot be used; the message names the file, the key and the fix."""


def _models_in(ann) -> list[type[BaseModel]]:
    """Pydantic models inside an annotation (``X | None``, ``list[X]``, ``dict[str, X]``)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    return [m for arg in typing.get_args(ann) for m in _models_in(arg)]


def _is_path(ann) -> bool:
    return ann is Path or Path in typing.get_args(ann)


def _sections(model: type[BaseModel]) -> list[str]:
    return [k for k in model.model_fields if k != _SOURCE]


def path_fields(model: type[BaseModel], prefix: tuple = ()) -> list[tuple[str, ...]]:
    """Dotted locations of every ``Path`` field below ``model`` (the top level's ``source``,
    the file itself, left out).

    Examples
    --------
    >>> from cxkit.config import RunConfig
    >>> ("ingest", "sources") in path_fields(RunConfig), ("source",) in path_fields(RunConfig)
    (True, False)
    """
    out = []
    for name, field in model.model_fields.items():
        if name == _SOURCE and not prefix:
            continue
        if _is_path(field.annotation):
            out.append((*prefix, name))
        for sub in _models_in(field.annotation):
            out.extend(path_fields(sub, (*prefix, name)))
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names valid at ``loc`` (the location pydantic reports, minus the bad key)."""
    for part in loc:
        if isinstance(part, int):
            continue  # list index: same model as the list's items
        field = model.model_fields.get(part)
        if field is None:
            break
        subs = _models_in(field.annotation)
        if subs:
            model = subs[0]
    return list(model.model_fields)


def format_errors(exc: ValidationError, path: Path, model: type[BaseModel]) -> str:
    """Every validation error of ``path`` on its own line; unknown keys with a close match
    and the keys allowed where they stand."""
    lines = [f"{path}: invalid run parameters"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = [k for k in _allowed_keys(model, loc[:-1]) if k != _SOURCE]
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            lines.append(f"  unknown key '{where}'.{hint} Allowed here: {', '.join(allowed)}.")
        else:
            lines.append(f"  {where}: {err['msg']} (got {err.get('input')!r})")
    lines.append("Fix the YAML (see README 'Run parameters') and run again.")
    return "\n".join(lines)


def _resolve(p: Path, base: Path) -> Path:
    return p if p.is_absolute() else (base / p).resolve()


def _resolve_paths(raw: dict, base: Path, model: type[BaseModel]) -> dict:
    """Resolve every Path field set in ``raw`` against ``base`` (the YAML's folder)."""
    for loc in path_fields(model):
        node = raw
        for part in loc[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        value = node.get(loc[-1]) if isinstance(node, dict) else None
        if isinstance(value, str):
            node[loc[-1]] = str(_resolve(Path(value), base))
        elif isinstance(value, list):  # list[Path], e.g. value.initiatives
            node[loc[-1]] = [str(_resolve(Path(v), base)) if isinstance(v, str) else v
                             for v in value]
    return raw


def merge(base: dict, over: dict) -> dict:
    """``over`` merged onto ``base``: mappings merge key by key, everything else replaces.

    Examples
    --------
    >>> merge({"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}, "b": [2]})
    {'a': {'x': 1, 'y': 3}, 'b': [2]}
    """
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def read_raw(path: Path, model: type[BaseModel], params_dir: Path,
             chain: tuple[Path, ...] = ()) -> dict:
    """The YAML at ``path`` as a mapping, its ``extends:`` chain merged under it and its
    paths resolved (not yet validated against ``model``; ``params_dir`` is named in the
    message when the file is missing)."""
    if path in chain:
        raise ConfigError(f"{path}: 'extends' loops back to itself "
                          f"({' -> '.join(str(p) for p in (*chain, path))}).")
    where = f" (extended by {chain[-1]})" if chain else ""
    raw = read_yaml_mapping(
        path, error=ConfigError,
        missing=(f"run parameters file not found{where}. "
                 f"Pass a YAML from {params_dir}, e.g. params/sample.yaml."),
        expected=f"a mapping with sections {', '.join(_sections(model))}, got {{got}}.")
    if _SOURCE in raw:
        raise ConfigError(f"{path}: unknown key '{_SOURCE}'. Allowed: extends, "
                          f"{', '.join(_sections(model))}.")
    raw = _resolve_paths(raw, path.parent, model)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: 'extends' must be a file name (got {parent!r}).")
    base = read_raw(_resolve(Path(parent), path.parent), model, params_dir, (*chain, path))
    return merge(base, raw)
