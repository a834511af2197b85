# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %%
from cxkit.dashboard import App, resolve_run_dir

# %% tags=["parameters"]
run_dir: str = ""  # run folder to show; "" = $CXKIT_RUN_DIR (set by `cxkit dashboard`), else reports/latest

# %%
app = App(resolve_run_dir(run_dir))

# %%
app.container
