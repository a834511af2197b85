# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %%
from cxkit.dashboards import VoiceApp, resolve_run_dir

# %% tags=["parameters"]
run_dir: str = ""  # run folder to show; "" = $CXKIT_RUN_DIR (set by `cxkit dashboard`), else reports/latest
min_n: int = 0  # privacy floor (fewest responses with an estimate); 0 = the run's dashboard.min_n

# %%
app = VoiceApp(resolve_run_dir(run_dir), min_n=min_n or None)

# %%
app.container
