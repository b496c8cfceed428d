"""The advisor: turns a budget, a data profile, a measured trial cost and the user's words into a Config.

``describe`` reads free text (e.g. an OpenML dataset description) into :class:`DescriptionFacts`; the rule
advisor and the LLM advisor build on it.
"""
