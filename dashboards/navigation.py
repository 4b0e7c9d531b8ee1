"""Page discovery: every ``dashboards/views/<n>_<name>.py`` is a page, in the order of ``<n>``.

Examples
--------
>>> [(order, name) for order, name, _ in page_files()][:3]
[(1, 'overview'), (2, 'backtests'), (3, 'trading')]
>>> page_title("data_quality")
'Data quality'
"""

from __future__ import annotations

from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent / "views"


def page_files(pages_dir: Path = PAGES_DIR) -> list[tuple[int, str, Path]]:
    """Return ``(order, name, path)`` of every ``<n>_<name>.py`` page, in order."""
    found = []
    for path in pages_dir.glob("*.py"):
        order, _, name = path.stem.partition("_")
        if order.isdigit() and name:
            found.append((int(order), name, path))
    return sorted(found)


def page_title(name: str) -> str:
    """Return the navigation title of page ``name`` (underscores to spaces, first letter capital)."""
    return name.replace("_", " ").capitalize()
