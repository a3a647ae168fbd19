"""``tinygrad-bp play``: the playground, live, served from this machine to its browser.

A small HTTP server (the standard library's) on 127.0.0.1 only, holding one
run (``nn.playground.Session``) that the page drives: step it, change its
settings, set a weight, ask for a weight's chain rule or the code. Safe by
default:

- it listens on 127.0.0.1, and answers only requests for that host (a
  page of another site cannot reach it through a name that points here);
- every request must carry the secret token of the printed URL (as
  Jupyter's): in the URL's query or, from the page, in the header
  ``X-Token``; without it, 403;
- it reads and writes no files; bodies are at most 64 kB of JSON, every
  setting is bounded (``nn.playground.settings``), a bad one is answered
  with 400 and a message the page shows, and a failing step with 500 and
  its message: never a traceback, never a stopped server.
"""

from __future__ import annotations

import argparse
import hmac
import json
import math
import secrets
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .common import nn_module

MAX_BODY = 64 * 1024
MAX_STEPS = 1_000  # updates one request may ask for
# ... and points × parameters they pass through, all told: about 2 s on a two-core Xeon
# (measured: 5 updates of 4,500 points through 8 layers of 32, 1.4 s). The page asks for
# an epoch a frame, at most 4,500 points × 7,521 parameters: always within.
MAX_WORK = 200_000_000


class PlayServer(ThreadingHTTPServer):
    """The playground's server: one run behind a lock, a token, 127.0.0.1 only."""

    daemon_threads = True

    def __init__(self, port: int, settings: Any, token: str | None = None) -> None:
        playground = nn_module("playground")
        self.Session, self.SettingsError = playground.Session, playground.SettingsError
        self.page = nn_module("playground.page")
        self.token = token or secrets.token_urlsafe(24)
        self.lock = threading.Lock()
        self.session = self.Session(settings)
        super().__init__(("127.0.0.1", port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that failed outside the routes (a browser gone before its answer): one
        line at most, never the base class's traceback; the server goes on."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            print(f"tinygrad-bp play: a request failed: {error!r}"[:300], file=sys.stderr)

    @property
    def url(self) -> str:
        port = self.server_address[1]
        return f"http://127.0.0.1:{port}/?token={self.token}"


class Handler(BaseHTTPRequestHandler):
    server: PlayServer
    protocol_version = "HTTP/1.1"
    # A connection that sends less than it announced, or idles, is closed after this many
    # seconds (the base class then ends the request quietly), not held open for ever.
    timeout = 30
    # An answer's headers and body go out as two writes: with Nagle's algorithm on, the
    # second waits for the client's delayed ACK, some 40 ms an answer on Linux.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # quiet: the terminal shows the URL and nothing else

    # -- the gate
    def _allowed(self) -> bool:
        host = self.headers.get("Host", "")
        port = self.server.server_address[1]
        if host not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            self._send(403, {"error": "this server answers requests for 127.0.0.1 only"})
            return False
        query = parse_qs(urlsplit(self.path).query)
        token = self.headers.get("X-Token") or (query.get("token") or [""])[0]
        if not hmac.compare_digest(token.encode(), self.server.token.encode()):
            self._send(403, {"error": "missing or wrong token: open the URL the command printed"})
            return False
        return True

    def _send(self, status: int, body: Any, kind: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if kind == "text/html":  # the page loads nothing from anywhere else
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                "img-src data:; connect-src 'self'",
            )
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        announced = (self.headers.get("Content-Length") or "0").strip()
        if not (announced.isascii() and announced.isdigit()):
            raise ValueError(f"the request's Content-Length is not a size: {announced[:20]!r}")
        length = int(announced)
        if length > MAX_BODY:
            raise ValueError(f"the request body is {length:,} bytes; at most {MAX_BODY:,}")
        raw = self.rfile.read(length) if length else b"{}"
        if len(raw) != length and length:
            raise ValueError(f"the request body ended after {len(raw):,} of {length:,} bytes")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("the request body is not JSON") from None
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        return body

    # -- the routes
    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        if not self._allowed():
            return
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self._answer(parts.path, query, "GET")

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        if not self._allowed():
            return
        try:
            body = self._body()
        except ValueError as e:
            self._send(400, {"error": str(e)})
            return
        self._answer(urlsplit(self.path).path, body, "POST")

    def _answer(self, path: str, args: dict[str, Any], method: str) -> None:
        server = self.server
        route = ROUTES.get((method, path))
        if route is None:
            self._send(404, {"error": f"no {method} {path[:60]}"})
            return
        try:
            with server.lock:
                status, body, kind = route(server, args)
        except (server.SettingsError, ValueError, TypeError, KeyError) as e:
            self._send(400, {"error": str(e)})
            return
        except (ArithmeticError, RecursionError, MemoryError) as e:
            self._send(500, {"error": f"the run failed: {type(e).__name__}: {e}"})
            return
        except Exception as e:  # noqa: BLE001 - a mistake of ours: a message, never a traceback
            self._send(500, {"error": f"the server failed: {type(e).__name__}: {str(e)[:200]}"})
            return
        self._send(status, body, kind)


# Each route: (server, arguments) -> (status, body, content type). Called with the lock held.
def _page(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    return 200, server.page.live_page(), "text/html"


def _snapshot(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    return 200, server.session.snapshot(with_points=args.get("points") == "1"), "application/json"


def _step(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    steps = args.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps: expected a whole number from 1 to {MAX_STEPS:,}, got {steps!r}")
    session = server.session
    each = min(session.settings.batch_size, len(session.train)) * len(session.parameters)
    if steps * each > MAX_WORK:
        raise ValueError(
            f"steps: {steps:,} updates of this run pass {steps * each:,} points × parameters, "
            f"more than {MAX_WORK:,} a request; ask for at most {max(1, MAX_WORK // each):,}"
        )
    server.session.step(steps)
    return 200, server.session.snapshot(), "application/json"


def _settings(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    settings = server.session.settings.changed(args)  # checked whole, before anything changes
    server.session = server.session.apply(settings)
    return 200, server.session.snapshot(with_points=True), "application/json"


def _reset(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    server.session = server.Session(server.session.settings)
    return 200, server.session.snapshot(with_points=True), "application/json"


def _where(args: dict[str, Any]) -> tuple[int, int, int | None]:
    def whole(name: str) -> int:
        value = args.get(name)
        try:
            return int(str(value))
        except ValueError:
            raise ValueError(f"{name}: expected a whole number, got {str(value)[:20]!r}") from None

    index = args.get("input")
    return whole("layer"), whole("neuron"), None if index in (None, "", "bias") else whole("input")


def _weight(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    layer, neuron, index = _where(args)
    value = args.get("value")
    # JSON's whole numbers have no bound (10**400 is too large for a float): refused here too.
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, int) and abs(value) > 2**53)
        or not math.isfinite(value)
    ):
        raise ValueError(f"value: expected a finite number, got {str(value)[:20]!r}")
    server.session.set_weight(layer, neuron, index, float(value))
    return 200, server.session.snapshot(), "application/json"


def _explain(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    where = _where(args)
    session = server.session
    # The minibatch's graph is built for it: refused, with the batch that would do, if huge.
    server.page.check_chain_graph(len(session.parameters), len(session.last_batch))
    return 200, session.explain_weight(*where), "application/json"


def _neuron(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    layer, neuron, _ = _where(args)
    return 200, server.session.explain_neuron(layer, neuron), "application/json"


def _code(server: PlayServer, args: dict[str, Any]) -> tuple[int, Any, str]:
    return 200, {"code": server.session.code()}, "application/json"


ROUTES = {
    ("GET", "/"): _page,
    ("GET", "/api/snapshot"): _snapshot,
    ("POST", "/api/step"): _step,
    ("POST", "/api/settings"): _settings,
    ("POST", "/api/reset"): _reset,
    ("POST", "/api/weight"): _weight,
    ("GET", "/api/explain"): _explain,
    ("GET", "/api/neuron"): _neuron,
    ("GET", "/api/code"): _code,
}


def settings_from_args(args: argparse.Namespace) -> Any:
    """The playground's settings from ``play``'s flags (train's names where they match)."""
    Settings = nn_module("playground").Settings
    values: dict[str, Any] = {"dataset": args.dataset or "moons", "seed": args.seed}
    for flag, name in (
        ("points", "points"),
        ("noise", "noise"),
        ("activation", "activation"),
        ("lr", "lr"),
        ("optimizer", "optimizer"),
        ("batch_size", "batch_size"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            values[name] = value
    if getattr(args, "layers", None) is not None:
        values["layers"] = list(args.layers)
    if getattr(args, "features", None) is not None:
        values["features"] = list(args.features)
    return Settings().changed(values)


def run_play(args: argparse.Namespace) -> int:
    """Serve the playground until Ctrl-C."""
    try:
        settings = settings_from_args(args)
    except ValueError as e:
        print(f"tinygrad-bp play: error: {e}", file=sys.stderr)
        return 2
    try:
        server = PlayServer(args.port, settings)
    except OSError as e:
        print(
            f"tinygrad-bp play: cannot listen on 127.0.0.1:{args.port}: {e.strerror or e}",
            file=sys.stderr,
        )
        return 1
    print(f"the playground: {server.url}")
    print("(only this machine can open it, with the token in the URL; Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0
