"""Real database outages for tests: a TCP proxy to PostgreSQL that can be cut, or a SQLite file locked
by another connection. The app keeps running through either and must recover by itself."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from collections.abc import Iterator

from sqlalchemy.engine import make_url

from bot.store.db import Store, normalise_url


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a real server until cut(); while cut, connections are dropped."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
            self._open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


class Outage:
    """A store whose database can be made unavailable and brought back."""

    def __init__(self, database_url: str):
        url = make_url(normalise_url(database_url))
        self._lock: sqlite3.Connection | None = None
        self._proxy: TcpProxy | None = None
        if url.get_backend_name() == "sqlite":
            self.path = url.database
            self.store = Store.from_url(database_url, connect_args={"check_same_thread": False, "timeout": 0.2})
        else:
            self._proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
            proxied = url.set(host="127.0.0.1", port=self._proxy.port)
            self.store = Store.from_url(proxied.render_as_string(hide_password=False))

    def begin(self) -> None:
        if self._proxy:
            self._proxy.cut()
        else:
            # Another process holding the write lock: every write here fails with "database is locked".
            self._lock = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            self._lock.execute("BEGIN EXCLUSIVE")

    def end(self) -> None:
        if self._proxy:
            self._proxy.restore()
        elif self._lock:
            self._lock.execute("ROLLBACK")
            self._lock.close()
            self._lock = None

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        finally:
            self.end()

    def close(self) -> None:
        self.end()
        self.store.engine.dispose()
        if self._proxy:
            self._proxy.close()
