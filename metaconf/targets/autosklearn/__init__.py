"""auto-sklearn 0.15 as a metaconf target.

auto-sklearn pins smac 1.2, ConfigSpace < 0.5 and scikit-learn 0.24: it can never share metaconf's environment
(SMAC3 2.x), so it runs in its own virtual environment and is driven through a subprocess:

- :mod:`~metaconf.targets.autosklearn.environment`: find a Python, install the environment, check it.
- :mod:`~metaconf.targets.autosklearn.compile`: config -> exact estimator arguments (pure data).
- :mod:`~metaconf.targets.autosklearn.worker`: runs *inside* the environment (Python 3.8/3.9, no metaconf
  imports): JSON spec in, progress lines and a result JSON out.
- :mod:`~metaconf.targets.autosklearn.runner`: prepares the run directory, starts and watches the worker,
  writes the shared results format.

Submodules are imported explicitly so that importing this package costs nothing.
"""
