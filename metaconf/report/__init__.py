"""Run results: the run-directory format shared by every target, summary tables and trajectory plots, and what
`metaconf report` writes from them (JSON, Markdown, a self-contained HTML page)."""
