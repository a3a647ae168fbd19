"""``tinygrad-bp play``'s server: 127.0.0.1 only, a token, bounded inputs, messages."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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


def test_any_json_a_page_may_send_is_answered_with_a_message(server: PlayServer) -> None:
    for body, message in (
        ({"features": [1]}, "features: unknown feature 1; expected some of x1, x2"),
        ({"features": [["x1"]]}, "features: unknown feature ['x1']"),
        ({"points": "²"}, "points: expected a whole number, got '²'"),  # isdigit, not int()
        ({"layers": "4,³"}, "layers: expected neurons per layer as whole numbers, got '³'"),
    ):
        status, answer = request(server, "POST", "/api/settings", body)
        assert status == 400 and answer["error"].startswith(message)
    status, answer = request(
        server, "POST", "/api/weight", {"layer": 0, "neuron": 0, "input": 0, "value": 10**400}
    )
    assert status == 400 and answer["error"].startswith("value: expected a finite number")
    assert server.session.settings == Settings().changed({"points": 40})


def raw_request(server: PlayServer, head: str, body: bytes = b"") -> str:
    """Bytes as a client may send them, the writing side closed after: the server's answer."""
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.replace("PORT", str(port)).encode() + body)
        s.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: s.recv(65536), b"")).decode()


@pytest.mark.parametrize(
    ("length", "body", "message"),
    [
        ("-5", b"", "the request's Content-Length is not a size: '-5'"),
        ("abc", b"", "the request's Content-Length is not a size: 'abc'"),
        ("50", b'{"steps"', "the request body ended after 8 of 50 bytes"),
    ],
)
def test_a_body_not_as_announced_is_refused(
    server: PlayServer, length: str, body: bytes, message: str
) -> None:
    head = (
        "POST /api/step HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nX-Token: secret-token\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    answer = raw_request(server, head, body)
    assert answer.startswith("HTTP/1.1 400") and json.loads(answer.split("\r\n\r\n", 1)[1]) == {
        "error": message
    }
    assert server.session.steps == 0


def test_a_failure_of_the_servers_own_is_a_message_not_a_traceback(
    server: PlayServer, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise AttributeError("a mistake of the server's")

    monkeypatch.setattr(server.session, "snapshot", broken)
    status, body = request(server, "GET", "/api/snapshot")
    assert status == 500
    assert body == {"error": "the server failed: AttributeError: a mistake of the server's"}
    monkeypatch.undo()
    # A client gone before its answer: nothing printed, the server goes on.
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            f"POST /api/step HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Token: secret-token\r\n"
            'Content-Length: 13\r\n\r\n{"steps": 50}'.encode()
        )
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset
    status, body = request(server, "POST", "/api/step", {"steps": 1})
    assert status == 200 and body["step"] in (1, 51)
    assert "Traceback" not in capfd.readouterr().err


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_the_command_prints_its_url_serves_with_the_token_and_stops_on_ctrl_c() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_bp", "play", "xor", "--no-browser", "--points", "40"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split("the playground: ", 1)[1].strip()
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.path == "/"
        token = parse_qs(parts.query)["token"][0]
        assert len(token) >= 32  # secrets.token_urlsafe(24): 192 bits
        conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
        conn.request("GET", "/api/snapshot", headers={"X-Token": token})
        response = conn.getresponse()
        snap = json.loads(response.read())
        conn.close()
        assert response.status == 200 and snap["settings"]["dataset"] == "xor"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "stopped" in out
    assert "Traceback" not in err


def test_what_would_take_minutes_is_refused_with_what_would_do() -> None:
    # 1,000 training points (half of 2,000) in one batch through 2-32-32-1 (1,185 parameters).
    big = Settings().changed({"points": 2000, "batch_size": 2000, "layers": "32,32"})
    s = PlayServer(0, big, token="secret-token")
    thread = threading.Thread(target=s.serve_forever, daemon=True)
    thread.start()
    try:
        status, body = request(s, "GET", "/api/explain?layer=0&neuron=0&input=0")
        assert status == 400 and body["error"] == (
            "a weight's chain rule reads the graph of the minibatch: 1,000 points × 1,185 "
            "parameters is 1,185,000 edges, more than 1,000,000; a batch of at most 843 points "
            "(or a smaller network) keeps it within"
        )
        status, body = request(s, "POST", "/api/step", {"steps": 1000})
        assert status == 400 and body["error"] == (
            "steps: 1,000 updates of this run pass 1,185,000,000 points × parameters, more than "
            "200,000,000 a request; ask for at most 168"
        )
        assert s.session.steps == 0
        status, body = request(s, "POST", "/api/settings", {"batch_size": 800})
        status, body = request(s, "POST", "/api/step", {"steps": 1})
        status, body = request(s, "GET", "/api/explain?layer=0&neuron=0&input=0")
        assert status == 200 and body["step"] == 1 and body["batch"] == 800
    finally:
        s.shutdown()
        s.server_close()


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tinygrad_bp", "play", "--no-browser", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"tinygrad-bp play: cannot listen on 127.0.0.1:{port}: ")
    assert len(done.stderr.splitlines()) == 1


def test_the_command_lines_datasets_are_nns() -> None:
    from nn.data import DATASETS
    from tinygrad_bp.cli.common import PLANE_DATASETS

    assert PLANE_DATASETS == tuple(DATASETS)
