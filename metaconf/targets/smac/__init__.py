"""SMAC3 target: compile a config into SMAC3 calls, run them (locally or on Dask), record the results."""
