"""Rule modules, one per family. Importing this package registers every rule."""

from metaconf.lint.rules import (
    autosklearn,  # noqa: F401
    budget,  # noqa: F401
    data,  # noqa: F401
    data_access,  # noqa: F401
    fidelity,  # noqa: F401
    parallel,  # noqa: F401
    reproducibility,  # noqa: F401
    resampling,  # noqa: F401
    search_space,  # noqa: F401
    stopping,  # noqa: F401
    yaml_schema,  # noqa: F401
)
