"""`metaconf init`: write a commented, lint-clean starter config from a template.

Templates live in ``templates/<name>.yaml``. Each starts with the schema modeline (so editors offer
completion and hover docs at once), says what it is on a ``# metaconf template:`` line, and runs as it is on a
bundled demo dataset, so ``metaconf init && metaconf run metaconf.yaml`` works before the user edits anything.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from metaconf.cli.common import ForceOption, cli_errors

DESCRIPTION_PREFIX = "# metaconf template:"


class Template(str, Enum):
    smac_hpo = "smac-hpo"
    smac_multi_fidelity = "smac-multi-fidelity"
    auto_sklearn = "auto-sklearn"


def template_text(template: Template) -> str:
    """The text of a bundled template."""
    from metaconf.resources import data_dir

    return (data_dir("templates") / f"{template.value}.yaml").read_text(encoding="utf-8")


def template_description(template: Template) -> str:
    """The one-line description on the template's ``# metaconf template:`` line."""
    for line in template_text(template).splitlines():
        if line.startswith(DESCRIPTION_PREFIX):
            return line.removeprefix(DESCRIPTION_PREFIX).strip()
    return ""


def with_modeline(text: str) -> str:
    """The template with its package-relative modeline replaced by one that resolves from where it is written."""
    from metaconf.config.schema import MODELINE_PREFIX, modeline

    first, _, rest = text.partition("\n")
    return f"{modeline()}\n{rest}" if first.startswith(MODELINE_PREFIX) else text


@cli_errors
def init(
    path: Annotated[
        Path, typer.Argument(help="Where to write the config.", show_default=True)
    ] = Path("metaconf.yaml"),
    template: Annotated[
        Template, typer.Option("--template", help="Which starter config to write.")
    ] = Template.smac_hpo,
    list_templates: Annotated[bool, typer.Option("--list", help="List the templates and exit.")] = False,
    force: ForceOption = False,
) -> None:
    """Write a commented starter config that passes `metaconf lint` and runs on a bundled demo dataset."""
    if list_templates:
        width = max(len(t.value) for t in Template)
        for item in Template:
            typer.echo(f"{item.value:<{width}}  {template_description(item)}")
        return

    from metaconf.errors import UsageError
    from metaconf.io import atomic_write_text

    if path.is_dir():
        raise UsageError(f"`{path}` is a directory", f"give a file name, e.g. `{path / 'metaconf.yaml'}`")
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(
            f"`{path}` does not end in .yaml or .yml",
            "metaconf lint only picks up *.yaml / *.yml files from directories; name it e.g. `metaconf.yaml`",
        )
    atomic_write_text(path, with_modeline(template_text(template)), force=force)
    typer.echo(f"wrote {path} from the {template.value} template")
    typer.echo(f"next: edit it, then `metaconf lint {path}` and `metaconf run {path}`")
