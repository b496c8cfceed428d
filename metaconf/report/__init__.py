"""Run results: the run-directory format shared by every target, summary tables and trajectory plots."""
