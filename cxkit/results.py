"""One save/load for fitted models (the driver and value results), in the manner of
pymc-marketing's model IO: the config, the convergence diagnostics and the provenance travel
inside the posterior file (``idata.attrs``), so ``idata.nc`` alone can rebuild the result.

A saved model is a folder::

    idata.nc          posterior (+ sample stats); attrs: config, diagnostics, provenance (JSON)
    config.json       {"config": ..., "diagnostics": ...}, the same, readable by people
    summary.parquet   the result's ``summary()`` table

Subclasses set :attr:`ModelResult.CONFIG_ATTR`, :attr:`ModelResult.DIAGNOSTICS_ATTR` and
:attr:`ModelResult.NAME`, and implement ``summary()``, ``_config_dict()`` and
``_from_saved()``.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import ClassVar

from cxkit._json import jsonable

PROVENANCE_ATTR = "cxkit_provenance"
_PACKAGES = ("cxkit", "pymc", "nutpie", "arviz", "numpy", "pandas")


def provenance() -> dict:
    """Versions of Python and of the packages that made a posterior.

    Examples
    --------
    >>> sorted(provenance())[:2]
    ['arviz', 'cxkit']
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


class ModelResult:
    """Save and load shared by :class:`~cxkit.drivers.DriverResult` and
    :class:`~cxkit.value.ValueResult` (attributes ``idata`` and ``diagnostics``)."""

    CONFIG_ATTR: ClassVar[str]
    DIAGNOSTICS_ATTR: ClassVar[str]
    NAME: ClassVar[str]  # "driver", "value": in messages

    # -- hooks ----------------------------------------------------------------------------
    def _config_dict(self) -> dict:
        """The config as plain JSON values."""
        raise NotImplementedError

    @classmethod
    def _from_saved(cls, idata, config: dict, diagnostics: dict):
        raise NotImplementedError

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``idata.nc``, ``config.json`` and ``summary.parquet`` into folder ``path``;
        the config, diagnostics and provenance also go into ``idata.attrs``.

        Examples
        --------
        >>> result.save("reports/run/models/drivers")      # doctest: +SKIP
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        config = self._config_dict()
        diagnostics = jsonable(self.diagnostics)
        self.idata.attrs[self.CONFIG_ATTR] = json.dumps(config)
        self.idata.attrs[self.DIAGNOSTICS_ATTR] = json.dumps(diagnostics)
        self.idata.attrs[PROVENANCE_ATTR] = json.dumps(provenance())
        self.idata.to_netcdf(str(path / "idata.nc"))
        (path / "config.json").write_text(
            json.dumps({"config": config, "diagnostics": diagnostics}, indent=2),
            encoding="utf-8")
        self.summary().to_parquet(path / "summary.parquet", index=False)
        return path

    @classmethod
    def load(cls, path: str | Path):
        """Read a result written by :meth:`save` (``config.json``, or else ``idata.attrs``).

        Examples
        --------
        >>> result = DriverResult.load("reports/latest/models/drivers")   # doctest: +SKIP
        """
        import arviz as az

        path = Path(path)
        nc = path / "idata.nc"
        missing = (f"{path}: no saved {cls.NAME} model (expected idata.nc and config.json "
                   f"written by {cls.__name__}.save).")
        if not nc.is_file():
            raise FileNotFoundError(missing)
        idata = az.from_netcdf(str(nc))
        # Pull the draws into memory so the file is not held open.
        for group in idata.groups():
            setattr(idata, group, getattr(idata, group).load())
        if (path / "config.json").is_file():
            saved = json.loads((path / "config.json").read_text(encoding="utf-8"))
        elif cls.CONFIG_ATTR in idata.attrs:
            saved = {"config": json.loads(idata.attrs[cls.CONFIG_ATTR]),
                     "diagnostics": json.loads(idata.attrs.get(cls.DIAGNOSTICS_ATTR, "{}"))}
        else:
            raise FileNotFoundError(missing)
        # JSON has no NaN: a missing statistic was written as null
        diagnostics = {k: (float("nan") if v is None and k.startswith(("max_", "min_")) else v)
                       for k, v in saved.get("diagnostics", {}).items()}
        return cls._from_saved(idata, saved["config"], diagnostics)
