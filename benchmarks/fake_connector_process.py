"""A fake Bot Connector (the `serviceUrl` of every Teams activity) in a process of its own, fast enough for a load
benchmark: it keeps counts per route instead of every request (tests/fakes/bot_connector.py keeps them all). Prints
its URL on the first line of stdout, then serves until killed.

    python benchmarks/fake_connector_process.py --people 2000

It knows `--people` synthetic people (Teams id `29:bench-NNNNNN`, name `PersonN Bench`, an Entra object id) and
answers the routes a thank-you uses:

- `POST /v3/conversations`: 201 `{"id": "a:1on1-<member's Teams id>"}` (a person's 1:1 chat with the bot);
- `POST /v3/conversations/{id}/activities`: 201 `{"id": "activity-N"}`;
- `PUT /v3/conversations/{id}/activities/{activity id}`: 200 `{"id": activity id}`;
- `GET /v3/conversations/{id}/members/{member id}`: the person, or 404.

`GET /_stats` gives the calls so far per route: `open_chat`, `post_channel` (an activity in a channel or group
chat), `post_chat` (an activity in a 1:1 chat), `update`, `member`, `not_found`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import signal
import socket
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

PREFIX = "29:bench-"


def teams_id(n: int) -> str:
    return f"{PREFIX}{n:06d}"


def person(n: int) -> dict:
    """One synthetic person as Teams describes them (TeamsChannelAccount)."""
    return {"id": teams_id(n), "name": f"Person{n} Bench", "aadObjectId": f"00000000-0000-4000-8000-{n:012d}"}


class Connector:
    def __init__(self, people: int):
        self.people = people
        self.stats: Counter = Counter()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)

    def count(self, route: str) -> None:
        with self.lock:
            self.stats[route] += 1

    def route(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        parts = unquote(path).rstrip("/").split("/")  # ["", "v3", "conversations", id, "activities", activity id]
        if method == "GET" and path == "/_stats":
            with self.lock:
                return 200, dict(self.stats)
        if method == "POST" and path == "/v3/conversations":
            self.count("open_chat")
            member = ((body or {}).get("members") or [{}])[0].get("id", "")
            return 201, {"id": f"a:1on1-{member}"}
        if len(parts) >= 5 and parts[1:3] == ["v3", "conversations"]:
            if method == "POST" and len(parts) == 5 and parts[4] == "activities":
                self.count("post_chat" if parts[3].startswith("a:1on1-") else "post_channel")
                return 201, {"id": f"activity-{next(self.ids)}"}
            if method == "PUT" and len(parts) == 6 and parts[4] == "activities":
                self.count("update")
                return 200, {"id": parts[5]}
            if method == "GET" and len(parts) == 6 and parts[4] == "members" and parts[5].startswith(PREFIX):
                n = int(parts[5].removeprefix(PREFIX) or -1)
                if 0 <= n < self.people:
                    self.count("member")
                    return 200, person(n)
        self.count("not_found")
        return 404, {"error": {"code": "NotFound", "message": f"no route {method} {path}"}}


class Server(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: under load the kernel would drop SYNs and the app's calls would stall for
    # a 1 s retransmit, which is a property of the stand-in, not of the Bot Connector or of the app.
    request_queue_size = 1024
    daemon_threads = True

    def get_request(self):
        """Without TCP_NODELAY each call on a kept-alive connection waits about 40 ms: http.server writes an answer's
        head and body in two sends, and Nagle holds the body until the client's delayed ACK of the head."""
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


def serve(connector: Connector) -> Server:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the SDK's httpx clients hold their connections

        def log_message(self, *args) -> None:
            pass

        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            status, answer = connector.route(self.command, urlsplit(self.path).path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = handle_one

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000, help="synthetic people the connector knows")
    args = parser.parse_args(argv)
    server = serve(Connector(args.people))
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    sys.exit(main())
