"""Evaluation core shared by every target: metrics as costs, preprocessing, and the :class:`Evaluator`
that SMAC's target function, the benchmarks and the trial-cost probe call.

Submodules are imported explicitly (``metaconf.targets.metrics`` ...) so that importing this package stays
cheap: scikit-learn and pandas load only when an evaluation is actually built.
"""
