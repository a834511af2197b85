"""The stakeholder dashboards: one ipywidgets page class per dashboard over a saved run,
served by Voila (``cxkit dashboard``).

``dashboards/<name>.ipynb`` are four cells each (imports, parameters, ``app = App(...)``,
``app.container``); everything with logic lives here and in the domain packages whose
plots and summaries the pages call, and is unit-tested without a browser.

>>> from cxkit.dashboards import DriversApp, resolve_run_dir  # doctest: +SKIP
>>> DriversApp(resolve_run_dir()).container                     # doctest: +SKIP
"""

from cxkit.dashboards.customers import CustomersApp
from cxkit.dashboards.drivers import DriversApp
from cxkit.dashboards.initiatives import InitiativesApp
from cxkit.dashboards.journeys import JourneysApp
from cxkit.dashboards.run import list_runs, load_run, resolve_run_dir
from cxkit.dashboards.serve import serve
from cxkit.dashboards.voice import VoiceApp

__all__ = ["JourneysApp", "DriversApp", "InitiativesApp", "CustomersApp", "VoiceApp", "serve",
           "resolve_run_dir", "load_run", "list_runs"]
