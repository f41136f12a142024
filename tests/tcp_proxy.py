"""A TCP proxy on loopback between the app and its database, which can stop forwarding (a network that silently
drops packets: connections stay open, bytes go nowhere, nothing is refused), resume, or refuse outright."""

from __future__ import annotations

import select
import socket
import threading


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._closed = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    # ---------------------------------------------------------------- control
    def stop_forwarding(self) -> None:
        """Bytes in either direction wait in the proxy; new connections are accepted and then hear nothing."""
        self._forwarding.clear()

    def forward(self) -> None:
        self._forwarding.set()

    def refuse(self) -> None:
        """Cut every connection (RST) and refuse new ones: a database that is down."""
        self._closed.set()
        self._forwarding.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    s.close()
                except OSError:
                    pass
            self._sockets.clear()

    close = refuse

    # ---------------------------------------------------------------- plumbing
    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _track(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.add(s)

    def _connect(self, client: socket.socket) -> None:
        self._track(client)
        self._forwarding.wait()
        if self._closed.is_set():
            return
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        self._track(upstream)
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        self._pump(upstream, client)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                self._forwarding.wait()
                ready, _, _ = select.select([src], [], [], 0.1)
                if not ready:
                    continue
                data = src.recv(65536)
                if not data:
                    break
                self._forwarding.wait()  # a stalled network: the bytes wait here
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
