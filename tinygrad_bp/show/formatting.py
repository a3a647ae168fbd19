"""Numbers and text as the drawing, the explanations and the stepper page show them.

One number formatter (``number``) and one text cleaner (``printable``), with
what each output needs on top: ``dot_text`` for a Graphviz label, ``html_text``
for a web page, ``quoted`` for a message in a terminal. A label is a user's
string: it may hold markup, escapes, newlines or lone surrogates, and none of
them may reach the output as anything but text.

>>> number(0.5, 4), number(0.5, 4, trim=True)
('0.5000', '0.5')
>>> printable("w5\\x1b[31m\\ud800")
'w5\\\\x1b[31m\\\\ud800'
>>> dot_text('a<b> & "c"')
'a&lt;b&gt; &amp; &quot;c&quot;'
"""

from __future__ import annotations

import html
import math

from ..checks import LABEL_LIMIT, printable, short_repr

__all__ = ["LABEL_LIMIT", "dot_text", "html_text", "number", "printable", "quoted", "short_repr"]


def number(x: float, precision: int, *, trim: bool = False) -> str:
    """``x`` to ``precision`` decimals.

    As the drawing's cells show numbers (``trim=False``): always
    ``precision`` decimals, exponent form from 1e12 on. As the article
    writes them in equations (``trim=True``): no trailing zeros, exponent
    form below 1e-4 and from 1e15 on, and 0 for a number that rounds to 0.

    >>> number(1234.5, 2), number(1e13, 1), number(float("nan"), 3)
    ('1234.50', '1.0e+13', 'nan')
    >>> [number(x, 9, trim=True) for x in (0.74136507, 0.00001234, -1e-12, 2.0)]
    ['0.74136507', '1.234e-05', '-1e-12', '2']
    """
    if not math.isfinite(x):
        return repr(x)
    if not trim:
        return f"{x:.{precision}e}" if abs(x) >= 1e12 else f"{x:.{precision}f}"
    if x == 0.0:
        return "0"
    if abs(x) < 1e-4 or abs(x) >= 1e15:
        mantissa, exponent = f"{x:.{max(precision - 1, 0)}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{exponent}"
    shown = f"{x:.{precision}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return "0" if shown in ("-0", "") else shown


def dot_text(s: str, limit: int = LABEL_LIMIT) -> str:
    """``s`` as literal text inside a DOT HTML-like label.

    Markup characters become entities, backslashes are doubled (Graphviz
    would read ``\\N`` as the node's name), a newline becomes a line break,
    other unprintable characters are shown as escapes, and a long label is
    cut with an ellipsis.

    >>> dot_text('a<b> & "c" {d|e}\\\\N\\nx')
    'a&lt;b&gt; &amp; &quot;c&quot; {d|e}\\\\\\\\N<br/>x'
    """
    escaped = html.escape(printable(s, limit, lines=True), quote=True).replace("\\", "\\\\")
    return escaped.replace("\n", "<br/>")


def html_text(s: str, limit: int = LABEL_LIMIT) -> str:
    """``s`` as text in a web page's markup: printable, then escaped.

    >>> html_text('<b title="x">\\x07</b>')
    '&lt;b title=&quot;x&quot;&gt;\\\\x07&lt;/b&gt;'
    """
    return html.escape(printable(s, limit), quote=True)


def quoted(s: str, limit: int = LABEL_LIMIT) -> str:
    """``s`` in quotes for a message, its escapes shown once (not doubled as ``repr`` would).

    >>> quoted("w5\\x1b[31m")
    "'w5\\\\x1b[31m'"
    """
    return f"'{printable(s, limit)}'"
