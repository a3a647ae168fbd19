"""The stepper's web page: the template, its Content-Security-Policy, the checked SVG.

``page(title, svg, data)`` fills ``stepper.html`` (package data) with a
title, a drawing's SVG and the steps as JSON. Nothing inserted can become
markup or script:

- the SVG is parsed and refused unless it holds only the shapes and text
  Graphviz draws (``parse_svg``), then written out again from the tree,
  every text and attribute escaped (``svg_markup``);
- the JSON has every ``<``, ``>`` and ``&`` written as an escape
  (``script_json``), and the page's script puts text in with
  ``textContent``;
- the title is cleaned as labels are (``html_text``);
- the Content-Security-Policy loads nothing and runs only the page's own
  script, named by its hash.

>>> svg = parse_svg(b'<svg xmlns="http://www.w3.org/2000/svg"><text>a&lt;b</text></svg>')
>>> html = page("t\\x07", svg, {"steps": []})
>>> "<title>t\\\\x07</title>" in html, "<text>a&lt;b</text>" in html
(True, True)
"""

from __future__ import annotations

import base64
import hashlib
import html as html_module
import json
import re
import xml.etree.ElementTree as ET
from importlib import resources

from .formatting import html_text

SVG_NS = "http://www.w3.org/2000/svg"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# The elements Graphviz's SVG for a drawing is made of. Anything else (a
# script, a foreignObject, a link) is refused rather than put into the page.
SVG_ELEMENTS = frozenset(
    {"svg", "g", "title", "polygon", "polyline", "ellipse", "path", "text", "defs", "stop"}
    | {"linearGradient", "radialGradient"}
)
TEMPLATE = "stepper.html"  # package data beside this module
TITLE_LIMIT = 200  # a longer title is cut, as a long label is


def page(title: str, svg: ET.Element, data: object) -> str:
    """The page: ``stepper.html`` with the title, the checked SVG and ``data`` as JSON."""
    template = resources.files(__package__).joinpath(TEMPLATE).read_text(encoding="utf-8")
    # The page's Content-Security-Policy lets only its own script run, named by hash.
    script = re.search(r"<script>(.*?)</script>", template, re.DOTALL)
    if script is None:
        raise RuntimeError(f"stepper: the page template {TEMPLATE} has no script")
    digest = hashlib.sha256(script.group(1).encode("utf-8")).digest()
    parts = {
        "SCRIPTHASH": base64.b64encode(digest).decode("ascii"),
        "TITLE": html_text(title, TITLE_LIMIT),
        "SVG": svg_markup(svg),
        "DATA": script_json(data),
    }
    # One pass, so that nothing inserted is ever read as a placeholder.
    return re.sub(r"__TG_([A-Z]+)__", lambda m: parts[m.group(1)], template)


def parse_svg(svg: bytes) -> ET.Element:
    """Graphviz's SVG as a tree, refusing anything but the shapes and text of a drawing."""
    root = ET.fromstring(svg)
    prefix = f"{{{SVG_NS}}}"
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str) or not tag.startswith(prefix):
            raise RuntimeError(f"stepper: unexpected {tag!r} in the rendered SVG")
        local = tag[len(prefix) :]
        if local not in SVG_ELEMENTS:
            raise RuntimeError(f"stepper: the rendered SVG has a <{local}> element; refusing it")
        for attr in el.attrib:
            name = attr.rsplit("}", 1)[-1].lower()
            if name.startswith("on") or "href" in name:
                raise RuntimeError(
                    f"stepper: the rendered SVG has a {name!r} attribute on <{local}>; refusing it"
                )
            if attr.startswith("{") and not attr.startswith(f"{{{XML_NS}}}"):
                raise RuntimeError(f"stepper: unexpected attribute {attr!r} in the rendered SVG")
    return root


def svg_markup(root: ET.Element) -> str:
    """The checked SVG tree written out again, every text and attribute escaped.

    What goes into the page is exactly what ``parse_svg`` let through.
    """
    out: list[str] = []
    cut = len(SVG_NS) + 2
    escape = html_module.escape
    xml_prefix = f"{{{XML_NS}}}"
    # Iterative: a tree of any depth is written without recursion.
    stack: list[tuple[ET.Element, bool]] = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag[cut:]
        if closing:
            out.append(f"</{tag}>")
            if el.tail and el is not root:
                out.append(escape(el.tail, quote=False))
            continue
        attrs = "".join(
            f" {'xml:' + k[len(xml_prefix) :] if k.startswith(xml_prefix) else k}"
            f'="{escape(v, quote=True)}"'
            for k, v in el.attrib.items()
        )
        if el is root:
            attrs = f' xmlns="{SVG_NS}"' + attrs
        out.append(f"<{tag}{attrs}>")
        if el.text:
            out.append(escape(el.text, quote=False))
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    return "".join(out)


def script_json(data: object) -> str:
    """``data`` as JSON safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` become ``\\u003c`` etc., so no ``</script>`` or
    ``<!--`` can appear; U+2028 and U+2029 are escaped too. JSON.parse reads
    it back unchanged. NaN and infinities are refused (JSON has none).

    >>> script_json({"label": "</script><!--"})
    '{"label": "\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for ch, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, escape)
    return text
