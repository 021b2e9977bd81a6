"""A bounded HTTP load on 127.0.0.1 that counts every failure, for the zero-downtime tests.

Each of `connections` threads keeps one keep-alive connection and sends GETs in a loop;
a connection error, a timeout or a status other than 200 counts as a failure (and the
thread opens a new connection). A reused keep-alive connection that the server closed as
the request went out is retried once on a new one, as HTTP clients do (RFC 9112 9.3.1),
and counted in `retried`; that retry failing is a failure. Each response body is matched against `markers` so the
test can tell which release answered, and when.
"""

import http.client
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Self


@dataclass
class Load:
    port: int
    path: str
    cafile: str = ""
    connections: int = 24
    markers: tuple[str, ...] = ()
    timeout: float = 10.0
    ok: int = 0
    retried: int = 0
    failures: Counter = field(default_factory=Counter)
    seen: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _connect(self) -> http.client.HTTPConnection:
        if self.cafile:
            context = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=self.timeout, context=context
            )
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def _get(self, connection: http.client.HTTPConnection) -> str:
        connection.request("GET", self.path)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        return body

    def _run(self) -> None:
        connection, reused = self._connect(), False
        while not self._stop.is_set():
            try:
                try:
                    body = self._get(connection)
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    # A server may close an idle keep-alive connection just as a request
                    # goes out (Nginx does on a graceful reload); like browsers and urllib3,
                    # resend a GET once on a new connection. A fresh connection gets no retry.
                    if not reused:
                        raise
                    with self._lock:
                        self.retried += 1
                    connection.close()
                    connection = self._connect()
                    body = self._get(connection)
                reused = True
                marker = next((m for m in self.markers if m in body), "")
                with self._lock:
                    self.ok += 1
                    if marker and (not self.seen or self.seen[-1][1] != marker):
                        self.seen.append((time.monotonic(), marker))
            except Exception as error:  # noqa: BLE001 - every failure kind is counted by name
                with self._lock:
                    self.failures[type(error).__name__ + ": " + str(error)[:80]] += 1
                connection.close()
                connection, reused = self._connect(), False
                time.sleep(0.05)
        connection.close()

    def __enter__(self) -> Self:
        for _ in range(self.connections):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())
