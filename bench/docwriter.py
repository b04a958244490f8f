"""Where benchmark results go: each benchmark owns one marked section of docs/benchmarks.md."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(marker: str, title: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the section between ``<!-- marker:begin/end -->``, leaving the rest alone."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    block = f"{begin}\n## {title}\n\n{body}\n{end}"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if begin in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text)
