"""Notebook display: small HTML tables for ``_repr_html_`` of results (no dependencies)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = ["html_table", "html_card", "STYLE"]

#: inline style shared by every card (notebooks strip <style> blocks in some viewers)
STYLE = "border-collapse:collapse;font-size:0.9em;margin:0.2em 0"
_CELL = "padding:0.15em 0.6em;border-bottom:1px solid #ddd;text-align:left"


def html_table(header: Sequence[str], rows: Iterable[Sequence[object]], *, raw_columns: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped except the columns in ``raw_columns`` (already HTML)."""

    def cell(i, v, tag):
        text = str(v) if i in raw_columns else html.escape(str(v))
        return f'<{tag} style="{_CELL}">{text}</{tag}>'

    head = "".join(cell(-1, h, "th") for h in header)
    body = "".join("<tr>" + "".join(cell(i, v, "td") for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f'<table style="{STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def html_card(title: str, lines: Sequence[str] = (), tables: Sequence[str] = ()) -> str:
    """A titled block: escaped ``lines`` of text, then ``tables`` (HTML from :func:`html_table`)."""
    parts = [f"<div><strong>{html.escape(title)}</strong>"]
    parts += [f"<div>{html.escape(line)}</div>" for line in lines]
    parts += list(tables)
    return "".join(parts) + "</div>"
