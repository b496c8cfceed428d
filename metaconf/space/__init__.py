"""Search spaces: built-in model families (``builtin``), user ConfigSpace spaces (``user``) and the meta-space of
legal AutoML-run settings (``meta``).

Nothing here imports ConfigSpace or scikit-learn at module level beyond what each function needs, so that
importing :mod:`metaconf.space` from a CLI command stays cheap.
"""
