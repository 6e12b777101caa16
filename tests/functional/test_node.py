#!/usr/bin/env python3
"""Functional test of hallmarkd's infrastructure (node issue, part 1).

Starts real hallmarkd processes on 127.0.0.1 and checks, through the real
CLI, the JSON API and raw sockets:
  - init x4, genesis, 4 validators form a full mesh (3 peers each);
  - an unpinned TLS certificate is refused, nodes keep serving;
  - framing and handshake abuse on the p2p port drops only that connection;
  - RPC errors: auth, 404, 405, malformed JSON, body cap -> JSON errors;
  - a second daemon on a data directory is refused;
  - SIGTERM: exit 0, LOCK released, cookie removed.

Python 3 standard library only. Emits TAP. Finds the binary through
HM_BUILDDIR (set by `make check`)."""

import base64
import fcntl
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BUILDDIR = os.environ.get("HM_BUILDDIR", os.getcwd())
HALLMARKD = os.path.join(BUILDDIR, "node", "hallmarkd")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import Tap, free_ports  # noqa: E402  (shared TAP and port helpers)

T = Tap()
ok = T.ok


def run(args, **kw):
    return subprocess.run([HALLMARKD] + args, capture_output=True, text=True, timeout=30, **kw)


# ------------------------------------------------------------------ protobuf
def varint(x):
    out = bytearray()
    while True:
        b = x & 0x7F
        x >>= 7
        if x:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    return varint((num << 3) | 2) + varint(len(data)) + data


def hello_envelope(chain_id, node_key):
    hello = field_bytes(1, chain_id) + field_bytes(2, node_key) + field_bytes(4, b"pytest")
    return field_bytes(1, hello)  # Envelope.hello = 1


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


# ---------------------------------------------------------------------- node
class Node:
    def __init__(self, root, idx, p2p_port, rpc_port, passphrase=None):
        self.idx = idx
        self.dir = os.path.join(root, "n%d" % idx)
        self.p2p_port = p2p_port
        self.rpc_port = rpc_port
        self.proc = None
        self.log = None
        args = ["init", "--datadir", self.dir, "--name", "val%d" % idx,
                "--listen", "127.0.0.1:%d" % p2p_port,
                "--rpc-bind", "127.0.0.1:%d" % rpc_port]
        if passphrase:
            pf = os.path.join(root, "pass%d" % idx)
            with open(pf, "w") as f:
                f.write(passphrase + "\n")
            args += ["--passphrase-file", pf]
        r = run(args)
        self.init_rc = r.returncode
        self.init_err = r.stderr
        self.record = json.loads(r.stdout) if r.returncode == 0 else None
        self.record_file = os.path.join(self.dir, "validator.json")

    def configure(self, *lines):
        with open(os.path.join(self.dir, "hallmarkd.conf"), "a") as f:
            for line in lines:
                f.write(line + "\n")

    def start(self, *extra):
        self.log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen([HALLMARKD, "run", "--datadir", self.dir] + list(extra),
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None
        return rc

    def logtext(self):
        try:
            with open(os.path.join(self.dir, "stderr.log")) as f:
                return f.read()
        except OSError:
            return ""

    def cookie(self):
        with open(os.path.join(self.dir, ".cookie")) as f:
            return f.read().strip()

    def request(self, path, method="GET", body=None, auth="cookie", headers=None):
        """Returns (status, parsed JSON or text, headers)."""
        url = "http://127.0.0.1:%d%s" % (self.rpc_port, path)
        h = dict(headers or {})
        if auth == "cookie":
            h["Authorization"] = "Bearer " + self.cookie().split(":", 1)[1]
        elif auth == "basic":
            h["Authorization"] = "Basic " + base64.b64encode(self.cookie().encode()).decode()
        elif auth:
            h["Authorization"] = auth
        req = urllib.request.Request(url, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, data, rh = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, data, rh = e.code, e.read(), e.headers
        ctype = rh.get("Content-Type", "")
        if ctype.startswith("application/json"):
            try:
                return status, json.loads(data), rh
            except ValueError:
                return status, data, rh
        return status, data.decode("utf-8", "replace"), rh

    def status(self):
        try:
            s, body, _ = self.request("/v1/status")
            return body if s == 200 else None
        except (OSError, ValueError):
            return None


def wait_for(pred, timeout=15.0, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def tls_client(cert_dir):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # pinning is the server's job here
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(os.path.join(cert_dir, "tls.crt"), os.path.join(cert_dir, "tls.key"))
    return ctx


def closed_by_peer(sock, timeout=5.0):
    """True when the peer closes (EOF or TLS/socket error) within timeout;
    frames the node sends first (its Hello, Status) are read and skipped."""
    sock.settimeout(timeout)
    end = time.time() + timeout
    try:
        while time.time() < end:
            data = sock.recv(65536)
            if not data:
                return True
    except (ssl.SSLError, ConnectionError, OSError) as e:
        return not isinstance(e, socket.timeout)
    return False


def connect_tls(port, cert_dir):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return tls_client(cert_dir).wrap_socket(raw)


def read_frame(sock, timeout=5.0):
    sock.settimeout(timeout)
    buf = b""
    while len(buf) < 4:
        d = sock.recv(4 - len(buf))
        if not d:
            return None
        buf += d
    n = struct.unpack(">I", buf)[0]
    body = b""
    while len(body) < n:
        d = sock.recv(n - len(body))
        if not d:
            return None
        body += d
    return body


# ---------------------------------------------------------------------- main
def main():
    t0 = time.time()
    root = tempfile.mkdtemp(prefix="hm-func-")
    nodes = []
    extra = []
    try:
        r = subprocess.run([HALLMARKD, "--version"], capture_output=True, text=True)
        ok(r.returncode == 0 and r.stdout.startswith("hallmarkd "), "hallmarkd --version")
        helps = [run([c, "--help"]) for c in ("init", "genesis", "run", "config-help")]
        ok(all(h.returncode == 0 and "usage:" in h.stdout for h in helps),
           "--help on every subcommand exits 0")
        r = run(["init"])
        ok(r.returncode == 2 and "--datadir" in r.stderr, "init without --datadir: usage error 2")
        r = run(["bogus"])
        ok(r.returncode == 2, "unknown command: exit 2")

        ports = free_ports(14)
        for i in range(4):
            nodes.append(Node(root, i, ports[2 * i], ports[2 * i + 1],
                              passphrase="pw-%d" % i if i == 3 else None))
        ok(all(n.init_rc == 0 and n.record for n in nodes), "init x4 prints validator records",
           "\n".join(n.init_err for n in nodes))
        ok(all(len(n.record["pubkey"]) == 64 and len(n.record["tls_fingerprint"]) == 64
               for n in nodes), "records carry a 64-hex pubkey and TLS fingerprint")
        with open(os.path.join(nodes[3].dir, "node.key"), "rb") as f:
            ok(f.read(6) == b"HMSEAL", "a key initialised with a passphrase is sealed")
        with open(os.path.join(nodes[0].dir, "node.key"), "rb") as f:
            ok(len(f.read().strip()) == 64, "a key without a passphrase is plain hex")
        ok(all((os.stat(os.path.join(n.dir, fn)).st_mode & 0o777) == 0o600
               for n in nodes for fn in ("node.key", "tls.key")), "key files are 0600")
        r = run(["init", "--datadir", nodes[0].dir])
        ok(r.returncode == 2, "init refuses an initialised datadir")

        genesis = os.path.join(root, "genesis.json")
        gargs = ["genesis", "-o", genesis, "--chain-name", "functest", "--time-ms", "1700000000000"]
        for n in nodes:
            gargs += ["--validator", n.record_file]
        gargs += ["--accreditor", "consortium:OPERATOR:%s" % nodes[0].record["pubkey"]]
        r = run(gargs)
        ok(r.returncode == 0 and len(r.stdout.strip()) == 64, "genesis assembles 4 records",
           r.stderr)
        chain_id = bytes.fromhex(r.stdout.strip())
        r = run(gargs)
        ok(r.returncode == 2, "genesis refuses to overwrite")
        bad = run(["genesis", "-o", os.path.join(root, "g2.json"),
                   "--validator", nodes[0].record_file, "--validator", nodes[0].record_file,
                   "--accreditor", "c:OPERATOR:%s" % nodes[0].record["pubkey"]])
        ok(bad.returncode == 2 and "same as" in bad.stderr, "genesis rejects a duplicate validator",
           bad.stderr)

        # A 6th identity allowed as an observer on node 0 only (to reach the
        # framing layer from Python), and a 5th node nobody pins.
        observer = Node(root, 5, ports[10], ports[11])
        outsider = Node(root, 4, ports[8], ports[9])
        extra = [observer, outsider]
        for n in nodes + [outsider]:
            shutil.copy(genesis, os.path.join(n.dir, "genesis.json"))
        nodes[0].configure("observer = " + observer.record["tls_fingerprint"])
        nodes[1].configure("rpc_token = functest-token")

        for n in nodes:
            n.start()

        def meshed():
            sts = [n.status() for n in nodes]
            return sts if all(s and s["peers_connected"] == 3 for s in sts) else None
        sts = wait_for(meshed, timeout=20)
        ok(sts is not None, "4 validators: every node reports 3 connected peers",
           "\n".join(n.logtext()[-1500:] for n in nodes))
        sts = sts or [n.status() or {} for n in nodes]
        ok(all(s.get("chain_id") == chain_id.hex() for s in sts),
           "every node reports the chain id genesis printed")
        ok([s.get("validator_index") for s in sts] == [0, 1, 2, 3],
           "own validator index from genesis")
        ok(all(s.get("height") == 0 for s in sts), "height is 0 before the core is wired")
        ready_names = sorted(p["name"] for p in sts[0].get("peers", []) if p.get("ready"))
        ok(ready_names == ["val1", "val2", "val3"], "node 0's peers are validators 1..3",
           ready_names)
        mets = [n.request("/metrics")[1] for n in nodes]
        ok(all(isinstance(m, str) and "\nhallmark_peers_connected 3\n" in m for m in mets),
           "/metrics: hallmark_peers_connected 3 on every node")
        names = ["hallmark_height", "hallmark_view", "hallmark_view_changes_total",
                 "hallmark_txs_committed_total", "hallmark_mempool_txs",
                 "hallmark_commit_latency_seconds_bucket"]
        ok(all(("\n" + nm) in mets[0] for nm in names), "/metrics carries the DESIGN §9 names")

        # ---- an unpinned certificate is refused
        outsider.configure("peer = 127.0.0.1:%d" % nodes[0].p2p_port, "mode = full")
        outsider.start()
        time.sleep(1.5)
        st = outsider.status()
        ok(st is not None and st["peers_connected"] == 0, "5th node with an unpinned cert: 0 peers",
           outsider.logtext()[-1500:])
        ok("not pinned" in nodes[0].logtext(), "node 0 logs the refused certificate")
        try:
            s = connect_tls(nodes[0].p2p_port, outsider.dir)
            refused = closed_by_peer(s)
            s.close()
        except (ssl.SSLError, OSError):
            refused = True  # the alert arrived during the handshake
        ok(refused, "a TLS client with an unpinned cert is disconnected")
        sts = [n.status() for n in nodes]
        ok(all(x and x["peers_connected"] == 3 for x in sts), "validators keep their 3 peers")
        outsider.stop()

        # ---- framing and handshake abuse on node 0's p2p port
        raw = socket.create_connection(("127.0.0.1", nodes[0].p2p_port), timeout=5)
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(64))
        ok(closed_by_peer(raw), "plain-TCP garbage (no TLS) is disconnected")
        raw.close()

        s = connect_tls(nodes[0].p2p_port, observer.dir)
        s.sendall(struct.pack(">I", 0xFFFFFFFF))
        ok(closed_by_peer(s), "declared frame length 4 GiB: disconnected before any body")
        s.close()
        s = connect_tls(nodes[0].p2p_port, observer.dir)
        s.sendall(struct.pack(">I", 16 * 1024 * 1024 + 1))
        ok(closed_by_peer(s), "declared frame length 16 MiB + 1: disconnected")
        s.close()
        s = connect_tls(nodes[0].p2p_port, observer.dir)
        s.sendall(frame(b"\xff" * 40))
        ok(closed_by_peer(s), "undecodable frame: disconnected")
        s.close()
        s = connect_tls(nodes[0].p2p_port, observer.dir)
        s.sendall(struct.pack(">I", 0))
        ok(closed_by_peer(s), "zero-length frame: disconnected")
        s.close()
        s = connect_tls(nodes[0].p2p_port, observer.dir)
        s.sendall(frame(hello_envelope(b"\x00" * 32, b"\x11" * 32)))
        ok(closed_by_peer(s), "Hello with another chain id: disconnected")
        s.close()
        # A validator's certificate with someone else's consensus key.
        s = connect_tls(nodes[0].p2p_port, nodes[1].dir)
        s.sendall(frame(hello_envelope(chain_id, bytes.fromhex(nodes[2].record["pubkey"]))))
        ok(closed_by_peer(s), "validator cert + another validator's node key: disconnected")
        s.close()
        # The observer with a correct Hello is accepted and gets node 0's Hello.
        s = connect_tls(nodes[0].p2p_port, observer.dir)
        s.sendall(frame(hello_envelope(chain_id, b"\x22" * 32)))
        f = read_frame(s)
        ok(f is not None and f[:1] == b"\x0a" and chain_id in f,
           "a pinned observer with a good Hello receives the node's Hello")
        ok(wait_for(lambda: (nodes[0].status() or {}).get("peers_connected") == 4, timeout=5),
           "the observer counts as a peer")
        s.close()
        ok(wait_for(lambda: (nodes[0].status() or {}).get("peers_connected") == 3, timeout=5),
           "node 0 is back to 3 peers after the abuse and keeps serving")

        # ---- RPC errors
        n0 = nodes[0]
        st, body, h = n0.request("/v1/status", auth=None)
        ok(st == 401 and body["error"]["code"] == "unauthorized", "no credentials: 401 JSON")
        st, body, h = n0.request("/v1/status", auth="Bearer " + "0" * 64)
        ok(st == 401 and "error" in body, "wrong bearer: 401 JSON")
        st, body, h = n0.request("/v1/status", auth="Basic !!!")
        ok(st == 401, "malformed Basic: 401")
        st, body, h = n0.request("/v1/status", auth="basic")
        ok(st == 200, "cookie as Basic __cookie__:secret: 200")
        st, body, h = nodes[1].request("/v1/status", auth="Bearer functest-token")
        ok(st == 200, "configured bearer token: 200")
        st, body, h = nodes[1].request("/v1/status", auth="Bearer functest-tokeX")
        ok(st == 401, "wrong token: 401")
        st, body, h = n0.request("/v1/nope")
        ok(st == 404 and body["error"]["code"] == "not_found", "unknown endpoint: 404 JSON")
        st, body, h = n0.request("/nothing/here/at/all")
        ok(st == 404 and "error" in body, "unknown path outside /v1: 404 JSON")
        st, body, h = n0.request("/v1/status", method="POST", body=b"{}")
        ok(st == 405 and body["error"]["code"] == "method_not_allowed" and h.get("Allow") == "GET",
           "wrong method: 405 JSON with Allow")
        st, body, h = n0.request("/v1/tx", method="GET")
        ok(st == 405 and h.get("Allow") == "POST", "GET on a POST endpoint: 405")
        st, body, h = n0.request("/v1/tx", method="POST", body=b"{\"tx\": ",
                                 headers={"Content-Type": "application/json"})
        ok(st == 400 and body["error"]["code"] == "invalid_json", "malformed JSON: 400 JSON")
        st, body, h = n0.request("/v1/tx", method="POST", body=b"[1,2]")
        ok(st == 400 and body["error"]["code"] == "bad_request", "JSON of the wrong shape: 400")
        st, body, h = n0.request("/v1/tx", method="POST", body=b"{\"tx\": \"zz\"}")
        ok(st == 400 and "error" in body, "non-hex tx: 400")
        st, body, h = n0.request("/v1/tx", method="POST",
                                 body=b"{\"tx\": \"" + b"a" * (4 * 1024 * 1024) + b"\"}")
        # refused from its declared length, before it is buffered: evhttp's own
        # 413 (an HTML page, not JSON; doc/rpc.md, "Limits")
        ok(st == 413, "body over 4 MiB: 413")
        try:
            st, body, h = n0.request("/v1/tx", method="POST", body=b"x" * (8 * 1024 * 1024))
            ok(st == 413, "body of 8 MiB: 413")
        except OSError as e:  # the server may close before reading it all
            ok(True, "body of 8 MiB: connection refused by the hard cap (%s)" % e.__class__.__name__)
        ok(n0.status() is not None and n0.status()["peers_connected"] == 3,
           "node 0 still answers /v1/status after the RPC errors")

        # ---- one daemon per datadir
        r = subprocess.run([HALLMARKD, "run", "--datadir", n0.dir], capture_output=True,
                           text=True, timeout=20)
        ok(r.returncode == 2 and "in use" in r.stderr, "a second daemon on a datadir is refused",
           r.stderr)
        ok(n0.status() is not None, "the first daemon is unaffected")

        # ---- bad config: line-numbered error, exit 2
        observer.configure("bogus_key = 1")
        shutil.copy(genesis, os.path.join(observer.dir, "genesis.json"))
        r = subprocess.run([HALLMARKD, "run", "--datadir", observer.dir], capture_output=True,
                           text=True, timeout=20)
        ok(r.returncode == 2 and "line" in r.stderr and "bogus_key" in r.stderr,
           "an unknown config key: exit 2 naming the line", r.stderr)

        # ---- clean shutdown
        rcs = [n.stop() for n in nodes]
        ok(rcs == [0, 0, 0, 0], "SIGTERM: every node exits 0", rcs)
        ok(not any(os.path.exists(os.path.join(n.dir, ".cookie")) for n in nodes),
           "the cookie files are removed")
        free = True
        for n in nodes:
            with open(os.path.join(n.dir, "LOCK"), "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(f, fcntl.LOCK_UN)
                except OSError:
                    free = False
        ok(free, "LOCK is released")
        ok(all("stopped" in n.logtext() for n in nodes), "every node logs its shutdown")
    except Exception as e:  # a crash of the test is a failure, not a hang
        import traceback
        ok(False, "test raised %s" % e.__class__.__name__, traceback.format_exc())
    finally:
        for n in nodes + extra:
            if n.proc:
                n.proc.kill()
                n.proc.wait()
        if T.failed == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print("# kept %s for inspection" % root)
    print("# functional test took %.1f s" % (time.time() - t0))
    print("1..%d" % T.n)
    return 1 if T.failed else 0


if __name__ == "__main__":
    sys.exit(main())
