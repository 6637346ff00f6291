"""Plots for every model family, one module each (``crm_models.plotting.clv``, ``...attribution``, ...).

matplotlib is imported inside the plotting functions, never at import time; every function returns the
matplotlib ``Axes`` or ``Figure`` it drew on, so a notebook can restyle or save it.
"""
