"""A fault proxy for functional tests: a TCP relay on 127.0.0.1 placed on one
directed link between two nodes (A dials the proxy, the proxy dials B).
The test drives it in-process:

    p = FaultProxy(target_port); p.port        # where A should dial
    p.cut()      # close every relayed connection and refuse new ones
    p.heal()     # accept again
    p.delay(ms)  # hold every chunk this long before forwarding
    p.drop(pct)  # kill a relayed connection on a chunk with this chance
    p.close()

Bytes are relayed as they come (TLS streams pass through untouched), so
"drop" and "cut" look to the nodes like a broken link, as on a real
network. Python 3 standard library only; threads, no root, no netem."""

import random
import socket
import threading
import time


class FaultProxy:
    def __init__(self, target_port, seed=1):
        self.target = ("127.0.0.1", target_port)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = []
        self.is_cut = False
        self.delay_s = 0.0
        self.drop_pct = 0
        self.rng = random.Random(seed)
        self.closed = False
        self.relayed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    # ---- control
    def cut(self):
        with self.lock:
            self.is_cut = True
            conns, self.conns = self.conns, []
        for a, b in conns:
            self._close(a, b)

    def heal(self):
        with self.lock:
            self.is_cut = False
            self.drop_pct = 0
            self.delay_s = 0.0

    def delay(self, ms):
        self.delay_s = ms / 1000.0

    def drop(self, pct):
        self.drop_pct = pct

    def close(self):
        self.closed = True
        self.cut()
        try:
            self.lsock.close()
        except OSError:
            pass

    # ---- relay
    @staticmethod
    def _close(a, b):
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            if self.is_cut:
                c.close()
                continue
            try:
                u = socket.create_connection(self.target, timeout=2)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns.append((c, u))
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def _pump(self, src, dst):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data or self.is_cut:
                break
            if self.drop_pct and self.rng.randrange(100) < self.drop_pct:
                break
            if self.delay_s:
                time.sleep(self.delay_s)
            try:
                dst.sendall(data)
            except OSError:
                break
            self.relayed += len(data)
        self._close(src, dst)
