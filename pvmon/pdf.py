"""HTML to PDF (WeasyPrint): the documents people print, post and archive — disclosure
sheets, reports. Chinese text is set in Noto CJK (Debian's ``fonts-noto-cjk``, installed by
``setup.sh``), whose glyphs WeasyPrint embeds as a subset, so a sheet reads the same on any
machine."""

from __future__ import annotations

import logging

from weasyprint import HTML

# WeasyPrint's own logger reports every unsupported CSS property of the screen styles at
# WARNING; the print styles are what matter, and they are checked by the tests.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


def pdf_of(html: str) -> bytes:
    """``html`` (a whole document with its styles inline) as a PDF."""
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
