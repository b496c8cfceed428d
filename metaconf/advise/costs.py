"""The cost-matrix reader of the description parser (:mod:`metaconf.advise.describe`): plain-text and markdown
tables (with axis words, numeric codes and legends), sentences ("worse to class a customer as good when they
are bad (5) than ... (1)"), lists, arrows, relative costs ("false negatives cost 10 times as much") and money
amounts. Rows are the true class and columns the predicted class, as in :class:`metaconf.config.model.CostMatrix`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metaconf.advise.facts import CostMatrixFact, Label, ValueFact, label_meanings, match_label, plain_label
from metaconf.advise.text import Evidence, Text

# ------------------------------------------------------------------------------------------ cost matrices

_NUMBER = re.compile(r"^\$?-?\d+(?:,\d{3})*(?:\.\d+)?$")
_AXIS_WORDS = frozenset(
    {"actual", "true", "truth", "real", "observed", "predicted", "prediction", "pred", "predict", "class",
     "classes", "label", "labels", "is", "=", "\\", "/", "->", "→", "x", "vs", "vs.", "cost", "costs", ":"}
)  # fmt: skip
_ANNOTATION = re.compile(r"\((?:actual|true|truth|predicted|prediction|real|observed|rows?|columns?)[^)]*\)", re.IGNORECASE)
_SEPARATOR = re.compile(r"^[\s\-=_+|:]*[-=_][\s\-=_+|:]*$")
_LEGEND_ITEM = re.compile(r"(?<![\w.])(?P<code>\d+)\s*=\s*['\"]?(?P<name>[A-Za-z][\w\-]*)")
_COST_CONTEXT = re.compile(r"cost|penalt|misclassif|loss matrix|payoff|utility", re.IGNORECASE)
_COLUMNS_ACTUAL = re.compile(
    r"\b(?:rows?)\s+(?:represent|are|show|give|correspond to|=|:|is|indicate)\s+(?:the\s+)?(?:predict|prediction|predicted)\w*"
    r"|\brows?\s+(?:represent|are|show|give|correspond to|is|indicate)\s+what\s+(?:the\s+model|we|it|the\s+classifier)\s+predicts?"
    r"|\bcolumns?\s+(?:represent|are|show|give|correspond to|=|:|is|indicate)\s+(?:the\s+)?(?:actual|true|real|observed)",
    re.IGNORECASE,
)


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if not _NUMBER.match(cell):
        return None
    return float(cell.lstrip("$").replace(",", ""))


def _strip_axis(tokens: list[str]) -> list[str]:
    """Drop axis words ("actual", "predicted", "\\") from label tokens, unless nothing else is left."""
    kept = []
    for token in tokens:
        parts = [p for p in re.split(r"[\\/]", token) if p]
        if parts and all(p.lower().strip(":") in _AXIS_WORDS for p in parts):
            continue
        if token.lower().strip(":") in _AXIS_WORDS:
            continue
        kept.append(token)
    return kept or tokens


@dataclass
class _Row:
    line: int
    label: str | None
    numbers: list[float]


def _cells(line: str) -> tuple[list[str], bool]:
    cleaned = _ANNOTATION.sub(" ", line)
    if "|" in cleaned:
        return [c.strip() for c in cleaned.strip().strip("|").split("|")], True
    return cleaned.split(), False


def _parse_row(line_no: int, line: str) -> _Row | None:
    cells, _markdown = _cells(line)
    cells = [c for c in cells if c]
    numbers: list[float] = []
    while cells and (value := _number(cells[-1])) is not None:
        numbers.insert(0, value)
        cells.pop()
    if len(numbers) < 2:
        return None
    label_tokens = _strip_axis(" ".join(cells).replace(":", " ").split()) if cells else []
    label = " ".join(label_tokens).strip("'\"`*") or None
    if label is not None and (len(label) > 30 or len(label_tokens) > 3 or (_number(label) is not None and "." in label)):
        return None
    return _Row(line=line_no, label=label, numbers=numbers)


def _header_labels(line: str, k: int) -> list[str] | None:
    cells, markdown = _cells(line)
    tokens = [c for c in cells if c] if markdown else cells
    candidates = [tokens, _strip_axis(tokens), tokens[1:]]
    for candidate in candidates:
        labels = [c.strip("'\"`*") for c in candidate if c.strip("'\"`*")]
        labels = [" ".join(_strip_axis(label.split())) for label in labels]
        if len(labels) == k and all(len(label) <= 30 for label in labels):
            return labels
    return None


def _legend(lines: list[str], first: int, last: int) -> dict[str, str]:
    """Code -> name from a legend such as ``(1 = Good, 2 = Bad)`` near lines ``first..last``."""
    for index in [*range(last + 1, min(len(lines), last + 8)), *range(first - 1, max(-1, first - 8), -1)]:
        items = _LEGEND_ITEM.findall(lines[index])
        if len(items) >= 2:
            return {code: name for code, name in items}
    return {}


def _pairs_from_sentences(doc: Text) -> list[tuple[str, str, float, int, int]]:
    """(predicted, true, cost, start, end) from "class X as P when they are T (c)"-style sentences."""
    patterns = (
        re.compile(
            r"(?:class(?:ify|ified|ifies|ifying)?|predict(?:s|ed|ing)?|label(?:s|led|ling|ed|ing)?|rat(?:e|es|ed|ing)|"
            r"call(?:s|ed|ing)?|treat(?:s|ed|ing)?)\s+(?:(?:a|an|the)\s+)?(?:[\w\-]+\s+)?as\s+(?:being\s+)?['\"]?(?P<pred>[\w\-]+)['\"]?\s+"
            r"(?:when|if|while|whereas|but|although)\s+(?:(?:they|it|he|she|the\s+[\w\-]+|[\w\-]+)\s+)?(?:are|is|was|were|actually is|really is)\s+"
            r"(?:actually\s+|really\s+|in fact\s+|truly\s+)?['\"]?(?P<true>[\w\-]+)['\"]?\s*"
            r"(?:\(\s*(?:cost\s*(?:=|:)?\s*)?\$?(?P<c1>\d+(?:\.\d+)?)\s*\)|,?\s*(?:which\s+)?(?:costs?|at a cost of)\s+\$?(?P<c2>\d+(?:\.\d+)?))",
            re.IGNORECASE,
        ),
        re.compile(
            r"predict(?:s|ed|ing)?\s+['\"]?(?P<pred>[\w\-]+)['\"]?\s+for\s+(?:an?\s+|the\s+)?(?:actual(?:ly)?\s+|true\s+|truly\s+)?"
            r"['\"]?(?P<true>[\w\-]+)['\"]?\s+(?:[\w\-]+\s+)?(?:costs?|has a cost of)\s+\$?(?P<c1>\d+(?:\.\d+)?)",
            re.IGNORECASE,
        ),
        # "saying a customer will pay when they default: 500 EUR"
        re.compile(
            r"(?:say(?:s|ing)?|predict(?:s|ed|ing)?|claim(?:s|ing)?)\s+(?:that\s+)?(?:an?\s+|the\s+)?[\w\-]+\s+will\s+"
            r"(?P<pred>[\w\-]+)\s+(?:when|if|while|but)\s+(?:they|it|he|she)\s+(?:actually\s+|really\s+)?(?P<true>[\w\-]+)"
            r"\s*[:=,]\s*(?:costs?\s+)?[$€£]?\s*(?P<c1>\d+(?:\.\d+)?)",
            re.IGNORECASE,
        ),
    )
    pairs = []
    for begin, _end, sentence in doc.sentences():
        for regex in patterns:
            for match in regex.finditer(sentence):
                cost = match.group("c1") or (match.groupdict().get("c2"))
                if cost is None:
                    continue
                pairs.append((match.group("pred"), match.group("true"), float(cost), begin + match.start(), begin + match.end()))
    return pairs


def _consistent(labels: Sequence[str], costs: list[list[float]], pairs: Sequence[tuple[str, str, float, int, int]]) -> bool | None:
    """Whether the "as P when T (c)" sentences agree with the matrix; None when they name other labels."""
    index = {str(label).lower(): i for i, label in enumerate(labels)}
    checked = False
    for pred, true, cost, _, _ in pairs:
        if pred.lower() not in index or true.lower() not in index:
            continue
        checked = True
        if costs[index[true.lower()]][index[pred.lower()]] != cost:
            return False
    return True if checked else None


def _transpose(costs: list[list[float]]) -> list[list[float]]:
    return [list(column) for column in zip(*costs, strict=True)]


def _table_matrices(doc: Text, pairs: Sequence[tuple[str, str, float, int, int]]) -> list[CostMatrixFact]:
    text = doc.text
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    rows: list[_Row | None] = [_parse_row(i, line) for i, line in enumerate(lines)]
    separator = [bool(_SEPARATOR.match(line)) and bool(line.strip()) for line in lines]

    found: list[CostMatrixFact] = []
    i = 0
    while i < len(lines):
        row = rows[i]
        if row is None:
            i += 1
            continue
        block = [row]
        j = i + 1
        while j < len(lines):
            if separator[j]:
                j += 1
                continue
            nxt = rows[j]
            if nxt is None or len(nxt.numbers) != len(row.numbers) or (nxt.label is None) != (row.label is None):
                break
            block.append(nxt)
            j += 1
        i = max(j, i + 1)
        fact = _block_matrix(doc, lines, offsets, rows, separator, block, pairs)
        if fact is not None:
            found.append(fact)
    return found


def _block_matrix(
    doc: Text,
    lines: list[str],
    offsets: list[int],
    rows: list[_Row | None],
    separator: list[bool],
    block: list[_Row],
    pairs: Sequence[tuple[str, str, float, int, int]],
) -> CostMatrixFact | None:
    k = len(block)
    m = len(block[0].numbers)
    notes: list[str] = []
    markdown = "|" in lines[block[0].line]
    if k < 2:
        return None
    if block[0].label is not None:
        if m != k:
            return None
        labels: list[str] | None = [r.label or "" for r in block]
        costs = [list(r.numbers) for r in block]
    elif m == k + 1:
        labels = [_format_code(r.numbers[0]) for r in block]
        costs = [list(r.numbers[1:]) for r in block]
    elif m == k:
        labels = None
        costs = [list(r.numbers) for r in block]
    else:
        return None

    first, last = block[0].line, block[-1].line
    header_index = first - 1
    while header_index >= 0 and separator[header_index]:
        header_index -= 1
    header: list[str] | None = None
    header_line = ""
    if header_index >= 0 and lines[header_index].strip():
        header_line = lines[header_index]
        header_row = rows[header_index]
        if header_row is not None and header_row.label is None and len(header_row.numbers) == k:
            header = [_format_code(n) for n in header_row.numbers]
        elif header_row is None:
            header = _header_labels(header_line, k)
        if header is not None:
            first = header_index

    window = "".join(lines[max(0, first - 10) : min(len(lines), last + 4)])
    if not _COST_CONTEXT.search(window):
        return None
    if any(c < 0 for row in costs for c in row) or not any(c > 0 for row in costs for c in row):
        return None

    if labels is None:
        if header is None:
            legend = _legend(lines, first, last)
            if len(legend) != k:
                return None
            labels = list(legend.values())
            notes.append("labels taken from the legend " + ", ".join(f"{c} = {n}" for c, n in legend.items()))
        else:
            labels = list(header)
    elif header is not None:
        lowered = [h.lower() for h in header]
        if sorted(lowered) == sorted(label.lower() for label in labels) and lowered != [label.lower() for label in labels]:
            order = [lowered.index(label.lower()) for label in labels]
            costs = [[row[o] for o in order] for row in costs]
            notes.append("columns reordered to the row order of the labels")

    if len({label.lower() for label in labels}) != len(labels):
        return None  # repeated row names: not a matrix over distinct classes
    legend = _legend(lines, first, last)
    if legend and all(label in legend for label in labels):
        notes.append("codes mapped with the legend " + ", ".join(f"{c} = {n}" for c, n in legend.items()))
        labels = [legend[label] for label in labels]

    start, end = offsets[first], offsets[last + 1]
    paragraph = doc.text[max(0, start - 400) : min(len(doc.text), end + 600)]
    header_says_actual = bool(re.search(r"\b(?:actual|true|truth)\b", _cells(header_line)[0][-1] if header_line.split() else "", re.IGNORECASE)) or bool(
        re.search(r"\((?:actual|true|truth)[^)]*\)", header_line, re.IGNORECASE)
    )
    corner = header_line.strip().strip("|").split("|")[0] if markdown else ""
    corner_says_rows_predicted = bool(re.search(r"predict\w*\s*[\\/]\s*(?:actual|true)", corner, re.IGNORECASE))
    if header_says_actual or corner_says_rows_predicted or _COLUMNS_ACTUAL.search(paragraph):
        costs = _transpose(costs)
        notes.append("transposed: the text puts the predicted class in the rows")

    pairs = [pair for pair in pairs if start - 800 <= pair[3] <= end + 800]  # sentences about this table
    agreement = _consistent(labels, costs, pairs)
    if agreement is False and _consistent(labels, _transpose(costs), pairs):
        costs = _transpose(costs)
        notes.append("transposed to agree with the sentence that names each error's cost")
    elif agreement is False:
        notes.append("the sentences that name each error's cost disagree with the table; the table is used")

    evidence_end = end
    for _, _, _, _pair_start, pair_end in pairs:
        if end <= _pair_start <= end + 800:
            evidence_end = max(evidence_end, doc.sentence_span(pair_end - 1)[1])
    evidence = Evidence(text=doc.text[start:evidence_end].strip("\n"), start=start, end=evidence_end)
    return CostMatrixFact(
        labels=tuple(labels),
        costs=tuple(tuple(float(c) for c in row) for row in costs),
        evidence=evidence,
        layout="markdown" if markdown else "table",
        notes=tuple(notes),
    )


def _format_code(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _sentence_matrix(doc: Text, pairs: Sequence[tuple[str, str, float, int, int]]) -> CostMatrixFact | None:
    """A 2x2 matrix from two "as P when T (c)" sentences that name both errors."""
    costs: dict[tuple[str, str], float] = {}
    names: dict[str, str] = {}
    start, end = len(doc.text), 0
    for pred, true, cost, s, e in pairs:
        costs[(true.lower(), pred.lower())] = cost
        names.setdefault(true.lower(), true)
        names.setdefault(pred.lower(), pred)
        start, end = min(start, s), max(end, e)
    labels = list(names)
    if len(labels) != 2 or len(costs) != 2 or any(t == p for t, p in costs):
        return None
    a, b = labels
    matrix = [[0.0, costs.get((a, b), 0.0)], [costs.get((b, a), 0.0), 0.0]]
    begin, _ = doc.sentence_span(start)
    _, stop = doc.sentence_span(end - 1)
    return CostMatrixFact(
        labels=(names[a], names[b]),
        costs=tuple(tuple(row) for row in matrix),
        evidence=Evidence(text=" ".join(doc.text[begin:stop].split()), start=begin, end=stop),
        layout="sentences",
        notes=("correct predictions cost 0 (the text names only the two errors)",),
    )


_TIMES = {"twice": 2.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "ten": 10.0, "hundred": 100.0}
_RELATIVE = re.compile(
    r"\b(?P<first>false negatives?|false positives?|miss(?:ed|ing)\s+(?:an?\s+|the\s+)?[\w\-]+(?:\s+[\w\-]+)?|false alarms?)\s*"
    r"(?:\([^)]{0,80}\)\s*)?"  # "a false negative (approving someone who defaults) is five times ..."
    r"(?:are|is|cost|costs|is considered|are considered)?\s*"
    r"(?:about\s+|roughly\s+|around\s+)?(?P<k>\d+(?:\.\d+)?|twice|two|three|four|five|ten|a hundred)\s*(?:times|x|×)?\s*"
    r"(?:as\s+(?:costly|expensive|bad|harmful|serious|much)\s+as|(?:more\s+(?:costly|expensive|harmful|serious)\s+|"
    r"worse\s+|costlier\s+|more\s+)than)\s+"
    r"(?:an?\s+|the\s+)?(?P<second>false negatives?|false positives?|false alarms?)",
    re.IGNORECASE,
)
_NESTED_LIST = re.compile(
    r"\[\s*(?P<rows>\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+\s*\]"
    r"(?:\s*,\s*\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+\s*\])+)\s*,?\s*\]"
)
_LABEL_LIST = re.compile(
    r"(?:labels?|classes|order(?:ed)?|rows? and columns?|rows?/columns?)\s*(?:are|is|:|=|in the order)?\s*"
    r"[\[(]\s*(?P<labels>['\"`]?[\w\-]+['\"`]?(?:\s*,\s*['\"`]?[\w\-]+['\"`]?)+)\s*[\])]",
    re.IGNORECASE,
)


def _list_matrix(doc: Text, classes: Sequence[Any] | None, notes: list[str]) -> CostMatrixFact | None:
    """A matrix written as a nested list, ``[[0, 1], [5, 0]]``, next to the word cost. Labels come from a
    label list (``labels: [good, bad]``), a legend (``1 = good``) or, with ``classes``, the order in which the
    sentence names the classes."""
    for match in _NESTED_LIST.finditer(doc.text):
        begin, end = doc.sentence_span(match.start())
        context = doc.text[max(0, begin - 200) : min(len(doc.text), end + 200)]
        if not _COST_CONTEXT.search(context):
            continue
        rows = [[float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", row)] for row in re.findall(r"\[([^\[\]]*)\]", match.group("rows"))]
        k = len(rows)
        if any(len(row) != k for row in rows) or any(c < 0 for row in rows for c in row) or not any(c > 0 for row in rows for c in row):
            continue
        labels: list[str] | None = None
        found = _LABEL_LIST.search(context)
        if found:
            candidate = [v.strip().strip("'\"`") for v in found.group("labels").split(",")]
            labels = candidate if len(candidate) == k else None
        if labels is None:
            legend = {code: name for code, name in _LEGEND_ITEM.findall(context)}
            if len(legend) == k:
                labels = list(legend.values())
        if labels is None and classes is not None and len(classes) == k:
            sentence = doc.text[begin:end].lower()
            positions = {str(plain_label(c)): sentence.find(str(plain_label(c)).lower()) for c in classes}
            if all(p >= 0 for p in positions.values()):
                labels = sorted(positions, key=lambda name: positions[name])
        if labels is None:
            notes.append(f"a {k}x{k} cost matrix was found without class labels; name them, e.g. `labels: [a, b]`")
            continue
        return CostMatrixFact(
            labels=tuple(labels),
            costs=tuple(tuple(row) for row in rows),
            evidence=Evidence(text=" ".join(doc.text[begin:end].split()), start=begin, end=end),
            layout="list",
            notes=("rows are the true class and columns the predicted class (the OpenML convention)",),
        )
    return None


def _relative_matrix(
    doc: Text, classes: Sequence[Any] | None, positive: Label | None, notes: list[str]
) -> CostMatrixFact | None:
    """A 2x2 matrix from "false negatives cost 10 times as much as false positives" (needs the classes)."""
    for begin, _end, sentence in doc.sentences():
        match = _RELATIVE.search(sentence)
        if not match:
            continue
        first = "fn" if "negative" in match.group("first").lower() or "miss" in match.group("first").lower() else "fp"
        second = "fn" if "negative" in match.group("second").lower() else "fp"
        if first == second:
            continue
        raw = match.group("k").lower().replace("a hundred", "hundred")
        ratio = _TIMES.get(raw) or float(raw)
        if positive is None and classes is not None and len(classes) == 2 and first == "fn":
            positive = _missed_class(match.group("first"), sentence, doc.text, classes)
        if classes is None or len(classes) != 2 or positive is None:
            notes.append(
                f"the text weighs the two errors (\"{' '.join(match.group(0).split())}\"); turning that into a cost "
                "matrix needs the two classes and the positive class"
            )
            return None
        negative = next(plain_label(c) for c in classes if plain_label(c) != positive)
        fn_cost, fp_cost = (ratio, 1.0) if first == "fn" else (1.0, ratio)
        return CostMatrixFact(
            labels=(negative, positive),
            costs=((0.0, fp_cost), (fn_cost, 0.0)),
            evidence=doc.evidence(begin + match.start()),
            layout="relative",
            notes=(f"positive class `{positive}`; correct predictions cost 0; the cheaper error costs 1",),
        )
    return None


def _missed_class(phrase: str, sentence: str, text: str, classes: Sequence[Any]) -> Label | None:
    """The class a "missing a malignant tumour" phrase names: a class itself, or what a legend says a coded
    class means (``0 = malignant``)."""
    words = [w.lower() for w in re.findall(r"[\w\-]+", phrase)[1:] if w.lower() not in ("a", "an", "the")]
    meanings = label_meanings(text, classes)
    for cls in classes:
        name = str(plain_label(cls)).lower()
        meaning = meanings.get(str(plain_label(cls)), "").lower().split()
        for word in words:
            if word.rstrip("s") == name.rstrip("s") or (meaning and word.rstrip("s") in (m.rstrip("s") for m in meaning)):
                return plain_label(cls)
    return None


_ERROR_PHRASE = (
    r"(?P<{g}>false negatives?|\bFN\b|miss(?:ed|ing)?\s+(?:an?\s+|the\s+)?[\w\-]+|false positives?|\bFP\b|false alarms?)"
)
_ERROR_COST = re.compile(
    r"(?:\bcost\s*\(\s*)?" + _ERROR_PHRASE.format(g="error") + r"\s*\)?\s*(?:=|:|costs?(?:\s+us)?)\s*(?:about\s+|around\s+|~\s*)?"
    r"(?P<currency>[$€£])?\s*(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<k>[kK]\b)?",
    re.IGNORECASE,
)


def _error_cost_matrix(
    doc: Text, classes: Sequence[Any] | None, positive: Label | None
) -> CostMatrixFact | None:
    """A 2x2 matrix from per-error costs in one sentence: "missed fraud = $200, false alarm = $10",
    "cost(FN) = 25, cost(FP) = 1" (needs the classes, and the positive class unless a "missed X" names it)."""
    if classes is None or len(classes) != 2:
        return None
    for begin, _end, sentence in doc.sentences():
        costs: dict[str, float] = {}
        named: Label | None = None
        for match in _ERROR_COST.finditer(sentence):
            phrase = match.group("error").lower()
            kind = "fn" if "negative" in phrase or phrase == "fn" or phrase.startswith("miss") else "fp"
            value = float(match.group("amount").replace(",", "")) * (1000.0 if match.group("k") else 1.0)
            if kind in costs and costs[kind] != value:
                costs = {}
                break
            costs[kind] = value
            if phrase.startswith("miss"):
                named = _missed_class(match.group("error"), sentence, doc.text, classes)
        if set(costs) != {"fn", "fp"}:
            continue
        chosen = positive if positive is not None else named
        if chosen is None:
            continue
        negative = next(plain_label(c) for c in classes if plain_label(c) != chosen)
        return CostMatrixFact(
            labels=(negative, chosen),
            costs=((0.0, costs["fp"]), (costs["fn"], 0.0)),
            evidence=doc.evidence(begin),
            layout="list",
            notes=(f"positive class `{chosen}`; correct predictions cost 0",),
        )
    return None


_ARROW_ITEM = re.compile(
    r"^\s*(?:[-*+]|\d+[.)])?\s*['\"`]?(?P<a>[\w\-]+)['\"`]?\s*(?:->|→|=>|predicted as|as)\s*['\"`]?(?P<b>[\w\-]+)['\"`]?\s*[:=]\s*"
    r"[$€£]?\s*(?P<c>\d+(?:\.\d+)?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_OTHER_ITEM = re.compile(
    r"^\s*(?:[-*+]|\d+[.)])?\s*(?:every|any|all)\s+other\s+(?:errors?|mistakes?|misclassifications?)\s*[:=]\s*[$€£]?\s*"
    r"(?P<c>\d+(?:\.\d+)?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_PREDICTED_FIRST = re.compile(r"\(\s*predicted\s*(?:->|→|=>)\s*(?:true|actual)\s*\)", re.IGNORECASE)


def _arrow_matrix(doc: Text, classes: Sequence[Any] | None) -> CostMatrixFact | None:
    """A matrix from a list of "true -> predicted: cost" items under a heading about costs (with "every other
    error: c" for the rest): needs the classes, and every mistake covered."""
    if classes is None or len(classes) < 2:
        return None
    items = list(_ARROW_ITEM.finditer(doc.text))
    if len(items) < 2:
        return None
    start, end = items[0].start(), items[-1].end()
    heading = doc.text[max(0, start - 200) : start]
    if not _COST_CONTEXT.search(heading):
        return None
    flip = bool(_PREDICTED_FIRST.search(heading))
    index = {str(plain_label(c)).lower(): i for i, c in enumerate(classes)}
    k = len(classes)
    other = _OTHER_ITEM.search(doc.text, end)
    default = float(other.group("c")) if other and other.start() - end < 200 else None
    costs: list[list[float | None]] = [[0.0 if i == j else default for j in range(k)] for i in range(k)]
    for item in items:
        a, b = item.group("a").lower(), item.group("b").lower()
        if a not in index or b not in index or a == b:
            return None
        truth, predicted = (b, a) if flip else (a, b)
        costs[index[truth]][index[predicted]] = float(item.group("c"))
    if any(c is None for row in costs for c in row):
        return None
    if other is not None and default is not None:
        end = other.end()
    begin, _ = doc.sentence_span(start)
    evidence_start = max(0, doc.text.rfind("\n", 0, begin - 1) + 1) if heading.strip() else begin
    return CostMatrixFact(
        labels=tuple(plain_label(c) for c in classes),
        costs=tuple(tuple(float(c or 0.0) for c in row) for row in costs),
        evidence=Evidence(text=doc.text[evidence_start:end].strip(), start=evidence_start, end=end),
        layout="list",
        notes=("predicted first, then true: transposed" if flip else "each item: true class -> predicted class",),
    )


_MISS_CUES = re.compile(
    r"\bfail\w* to\b|\bmiss\w*|\bundetected\b|\bunnoticed\b|\b(?:don'?t|do not|didn'?t|did not) (?:catch|flag|spot|detect)|"
    r"\blet\w*\b[^,;.]{0,40}\bthrough\b|\bslip\w* through\b|\breach\w* (?:a|the|our) customer|\bwe ship\b|"
    r"\baccept\w* a bad\b|\bapprov\w* (?:someone|a customer|an applicant) who\b|\bfalse negatives?\b|\bstays? silent\b",
    re.IGNORECASE,
)
_ALARM_CUES = re.compile(
    r"\bfalse (?:alarm|positive)s?\b|\bunnecessar\w*|\bneedless\w*|\bwast\w*|\bin vain\b|\bloyal\b|\bhonest\b|"
    r"\bgenuine\b|\blegitimate\b|\binnocent\b|\bturn\w* away\b|\breject\w* a good\b|\bscrap\w*|\bblock\w*|"
    r"\bcancel\w*|\binvestigat\w*|\bwon'?t\b|\bwouldn'?t\b|\bdid(?:n'?t| not) need\b|\bnuisance\b|"
    r"\bthat was fine\b|\bwho (?:was|were) fine\b",
    re.IGNORECASE,
)


def _money_matrix(doc: Text, classes: Sequence[Any] | None, positive: Label | None) -> CostMatrixFact | None:
    """A 2x2 matrix from two cost figures whose clauses say which is a miss and which a false alarm ("a
    customer we fail to flag costs us €300, a retention offer sent to a loyal customer costs €20"). The class
    to find is the positive class, else the class the miss clause names (or the other one than the false
    alarm's), by name, stem or legend meaning, else the `yes` of a yes / no pair of classes; without one the
    costs stay unread here (the LLM's answer to "which class is to be found" can complete them:
    :func:`metaconf.advise.reading.read_description`)."""
    from metaconf.advise.spans import cost_figures  # plain regular expressions; no model is involved

    if classes is None or len(classes) != 2:
        return None
    figures = cost_figures(doc.text)
    if len(figures) != 2 or figures[0].value == figures[1].value:
        return None
    kinds = []
    for figure in figures:
        says_miss = bool(_MISS_CUES.search(figure.clause.text))
        says_alarm = bool(_ALARM_CUES.search(figure.clause.text))
        kinds.append("miss" if says_miss and not says_alarm else "alarm" if says_alarm and not says_miss else None)
    if kinds.count(None) == 1:  # one clause says which mistake it is: the other is the other mistake
        known = next(k for k in kinds if k is not None)
        kinds = [k or ("alarm" if known == "miss" else "miss") for k in kinds]
    if sorted(k or "" for k in kinds) != ["alarm", "miss"]:
        return None
    miss = figures[kinds.index("miss")]
    alarm = figures[kinds.index("alarm")]
    chosen = positive
    named_by = ""
    by_name = False
    if chosen is None:
        named = _named_class(miss.clause.text, doc.text, classes)
        other = _named_class(alarm.clause.text, doc.text, classes)
        if named is not None and named != other:
            chosen, named_by = named, miss.clause.text
        elif other is not None and named is None:
            chosen = next(plain_label(c) for c in classes if plain_label(c) != other)
        elif named is None and other is None:
            # a yes/no target names the event it records (`churn`: yes / no): flagging a case is predicting yes
            chosen = _yes_class(classes)
            by_name = chosen is not None
    if chosen is None:
        return None
    negative = next(plain_label(c) for c in classes if plain_label(c) != chosen)
    start, end = miss.clause.start, max(miss.clause.end, alarm.clause.end)
    start = min(start, alarm.clause.start)
    return CostMatrixFact(
        labels=(negative, chosen),
        costs=((0.0, alarm.value), (miss.value, 0.0)),
        evidence=Evidence(" ".join(doc.text[start:end].split()), start, end),
        layout="sentences",
        notes=(
            f"a missed `{chosen}` costs {miss.written} (\u201c{miss.clause.text}\u201d), a false alarm "
            f"{alarm.written} (\u201c{alarm.clause.text}\u201d); correct predictions cost 0",
            *([f"the miss clause names the class to find: \u201c{named_by}\u201d"] if named_by else []),
            *([f"the classes are a yes / no pair: the class to find is `{chosen}`"] if by_name else []),
        ),
    )


_YES_NO = (("yes", "no"), ("true", "false"), ("y", "n"), ("1", "0"), ("1.0", "0.0"))


def _yes_class(classes: Sequence[Any]) -> Label | None:
    """The `yes` of a yes / no (true / false, y / n, 1 / 0) pair of classes, in the data's spelling; else None."""
    spelled = {str(plain_label(c)).strip().lower(): plain_label(c) for c in classes}
    for yes, no in _YES_NO:
        if set(spelled) == {yes, no}:
            return spelled[yes]
    if all(isinstance(plain_label(c), bool) for c in classes) and len(spelled) == 2:
        return next(plain_label(c) for c in classes if plain_label(c) is True)
    return None


_FIND_IN_MISS = re.compile(
    r"\bfail\w* to (?:flag|catch|detect|spot|anticipate|alert|identify|notice)|\bmiss\w*|\bundetected\b|"
    r"\b(?:don'?t|do not|didn'?t|did not) (?:catch|flag|spot|detect)",
    re.IGNORECASE,
)


def _positive_from_miss(doc: Text, matrix: CostMatrixFact) -> ValueFact | None:
    """The class to find, when the clause that prices a miss names it in words that say so ("a missed fraud",
    "each readmission we fail to anticipate"); "fraudulent orders we ship" weighs the error without saying so."""
    for note in matrix.notes:
        if note.startswith("the miss clause names the class to find: "):
            clause = note.removeprefix("the miss clause names the class to find: ").strip("\u201c\u201d")
            if _FIND_IN_MISS.search(clause):
                start = doc.text.find(clause)
                return ValueFact(value=matrix.labels[1], evidence=doc.evidence(max(start, 0)))
    return None


def _named_class(clause: str, text: str, classes: Sequence[Any]) -> Label | None:
    """The one class a clause names: its label or a word sharing a stem of 4+ letters with it ("churner" for
    `churned`, "fraudulent" for `fraud`), or for a coded label a word of its legend meaning."""
    words = [w.lower() for w in re.findall(r"[A-Za-z][\w\-]*", clause)]
    meanings = label_meanings(text, classes)
    found = set()
    for cls in classes:
        label = str(plain_label(cls))
        names = [label.lower()] if not (label.isdigit() or len(label) <= 2) else []
        names += [m.lower() for m in re.findall(r"[A-Za-z]{4,}", meanings.get(label, "")) if m.lower() not in _STEM_STOP]
        for name in names:
            for word in words:
                common = next((i for i, (a, b) in enumerate(zip(name, word, strict=False)) if a != b), min(len(name), len(word)))
                if word == name or (common >= 4 and common >= min(len(name), len(word)) - 3):
                    found.add(plain_label(cls))
    return next(iter(found)) if len(found) == 1 else None


_STEM_STOP = frozenset({"within", "days", "hours", "case", "cases", "means", "with", "that", "this", "they", "kept", "running", "patient", "customer", "otherwise"})


def _map_to_classes(fact: CostMatrixFact, classes: Sequence[Any] | None, notes: list[str]) -> CostMatrixFact:
    """Use the data's own class values (and spelling) for the matrix labels when they match."""
    if classes is None:
        return fact
    mapped = [match_label(str(label), classes) for label in fact.labels]
    if all(m is not None for m in mapped) and len(set(map(str, mapped))) == len(mapped):
        return CostMatrixFact(
            labels=tuple(m for m in mapped if m is not None),
            costs=fact.costs,
            evidence=fact.evidence,
            layout=fact.layout,
            notes=fact.notes,
        )
    notes.append(
        "the cost matrix labels "
        + ", ".join(f"`{label}`" for label in fact.labels)
        + " do not match the target's classes "
        + ", ".join(f"`{plain_label(c)}`" for c in classes)
    )
    return CostMatrixFact(
        labels=fact.labels,
        costs=fact.costs,
        evidence=fact.evidence,
        layout=fact.layout,
        notes=(*fact.notes, "labels do not match the target's classes"),
    )
