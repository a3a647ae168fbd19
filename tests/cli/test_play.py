"""``tinygrad-bp play``'s server: 127.0.0.1 only, a token, bounded inputs, messages."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from nn.playground import Settings
from tinygrad_bp.cli.command import build_parser
from tinygrad_bp.cli.play import PlayServer, settings_from_args


@pytest.fixture()
def server() -> Iterator[PlayServer]:
    s = PlayServer(0, Settings().changed({"points": 40}), token="secret-token")
    thread = threading.Thread(target=s.serve_forever, daemon=True)
    thread.start()
    yield s
    s.shutdown()
    s.server_close()


def request(
    server: PlayServer,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = "secret-token",
    host: str | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    port = server.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host or f"127.0.0.1:{port}"}
    if token is not None:
        headers["X-Token"] = token
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    kind = response.getheader("Content-Type") or ""
    return response.status, (json.loads(payload) if "json" in kind else payload.decode())


def test_it_listens_on_127_0_0_1_only(server: PlayServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith(
        "/?token=secret-token"
    )


def test_no_token_no_answer(server: PlayServer) -> None:
    for token in (None, "wrong"):
        status, body = request(server, "GET", "/api/snapshot", token=token)
        assert status == 403 and "token" in body["error"]
    status, body = request(server, "POST", "/api/step", {"steps": 1}, token=None)
    assert status == 403
    assert server.session.steps == 0  # nothing ran
    status, page = request(server, "GET", "/?token=secret-token", token=None)
    assert status == 200 and page.startswith("<!doctype html>")


def test_another_host_name_is_refused(server: PlayServer) -> None:
    # A page of another site reaching this port through a name of its own (DNS rebinding).
    status, body = request(server, "GET", "/api/snapshot", host="attacker.example:80")
    assert status == 403 and "127.0.0.1 only" in body["error"]


def test_a_bad_setting_gets_a_message_and_the_run_goes_on(server: PlayServer) -> None:
    request(server, "POST", "/api/step", {"steps": 3})
    status, body = request(server, "POST", "/api/settings", {"layers": "8,99", "lr": 0.5})
    assert status == 400 and body == {"error": "layers: at most 32 neurons a layer, got 99"}
    assert server.session.steps == 3 and server.session.settings.lr == 0.03  # nothing applied
    for bad, message in (
        ({"steps": 10**6}, "steps: expected a whole number from 1 to 1,000"),
        ({"steps": "3"}, "steps: expected a whole number"),
    ):
        status, body = request(server, "POST", "/api/step", bad)
        assert status == 400 and message in body["error"]
    status, body = request(server, "POST", "/api/settings", raw=b"{not json")
    assert status == 400 and body["error"] == "the request body is not JSON"
    status, body = request(server, "POST", "/api/settings", raw=b"x" * 70_000)
    assert status == 400 and "at most 65,536" in body["error"]
    status, body = request(server, "GET", "/api/explain?layer=7&neuron=0&input=0")
    assert status == 400 and body["error"] == "layer: expected 0 to 2, got 7"
    status, body = request(server, "GET", "/etc/passwd")
    assert status == 404
    status, body = request(server, "POST", "/api/step", {"steps": 2})  # still serving
    assert status == 200 and body["step"] == 5


def test_a_setting_changed_takes_effect(server: PlayServer) -> None:
    status, body = request(server, "POST", "/api/settings", {"dataset": "xor", "layers": "3"})
    assert status == 200
    assert body["settings"]["dataset"] == "xor" and [len(layer) for layer in body["layers"]] == [
        3,
        1,
    ]
    assert "dataset=xor" in body["hash"] and len(body["points"]["train"]) == 20


def test_a_weight_set_from_the_page(server: PlayServer) -> None:
    status, body = request(
        server, "POST", "/api/weight", {"layer": 0, "neuron": 2, "input": 1, "value": -1.25}
    )
    assert status == 200 and body["layers"][0][2]["weights"][1] == -1.25
    status, body = request(
        server, "POST", "/api/weight", {"layer": 0, "neuron": 2, "input": "bias", "value": "1e400"}
    )
    assert status == 400 and "value: expected a finite number" in body["error"]


def test_plays_flags_become_settings() -> None:
    args = build_parser().parse_args(
        [
            "play",
            "circles",
            "--layers",
            "4,4",
            "--features",
            "x1sq,x2sq",
            "--no-browser",
            "--lr",
            "0.1",
        ]
    )
    s = settings_from_args(args)
    assert (s.dataset, s.layers, s.features, s.lr) == ("circles", (4, 4), ("x1sq", "x2sq"), 0.1)
    args = build_parser().parse_args(["play", "--layers", "40"])
    with pytest.raises(ValueError, match="at most 32 neurons a layer"):
        settings_from_args(args)
