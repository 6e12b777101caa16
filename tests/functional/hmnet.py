"""Shared helpers for Hallmark's functional tests: a local network of real
hallmarkd processes on 127.0.0.1, driven through the real CLI tools
(hallmarkd, hallmark-wallet) and the JSON API. Python 3 standard library only.

    net = Network(validators=4, full_nodes=1)
    net.start()
    net.submit(node, [hex, ...])      # POST /v1/txs
    net.wait(lambda: ..., timeout)
    net.kill(i); net.restart(i); net.wipe(i)
    net.close()                        # always, in a finally

Each test script prints TAP through Tap."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BUILDDIR = os.environ.get("HM_BUILDDIR", os.getcwd())
SRCDIR = os.environ.get("HM_SRCDIR", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
HALLMARKD = os.path.join(BUILDDIR, "node", "hallmarkd")
WALLET = os.path.join(BUILDDIR, "wallet", "hallmark-wallet")


class Tap:
    """TAP output: one line per check, the plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, desc))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc))
            for line in str(diag if diag is not None else "").splitlines():
                print("#   " + line)
        sys.stdout.flush()
        return cond

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def wait(pred, timeout, step=0.1):
    """Poll pred until it returns a true value (returned) or timeout (None)."""
    end = time.time() + timeout
    while True:
        try:
            v = pred()
        except (OSError, ValueError, KeyError):
            v = None
        if v:
            return v
        if time.time() > end:
            return None
        time.sleep(step)


def headers(node, upto, page=1000):
    """[(height, hash, state_root)] of heights 1..upto from a node's API,
    in pages (the API returns at most 1,000 headers per call)."""
    out = []
    while len(out) < upto:
        lo = len(out) + 1
        code, body = node.rpc("GET", "/v1/headers?from=%d&to=%d" % (lo, min(upto, lo + page - 1)),
                              timeout=20)
        if code != 200 or not body["headers"]:
            return None
        out.extend((h["height"], h["hash"], h["fields"]["state_root"]) for h in body["headers"])
    return out


def agree(nodes):
    """All nodes hold the same hash and state root at every height up to the
    lowest node's height (>= 1)."""
    top = min(n.height() for n in nodes)
    lists = [headers(n, top) for n in nodes]
    return top >= 1 and all(lst == lists[0] for lst in lists) and len(lists[0]) == top


def settled(nodes, timeout=20, quiet_s=0.6):
    """Wait until all nodes report one height that holds still for quiet_s
    (no block in flight), so a fault injected next starts from a known
    point. Returns that height, or None."""
    def same():
        hs = {n.height() for n in nodes}
        return hs.pop() if len(hs) == 1 else None

    def still():
        h = same()
        if h is None:
            return None
        time.sleep(quiet_s)
        return h if same() == h else None
    return wait(still, timeout)


def committed_anywhere(nodes, txids):
    """True when any of the txids reads committed on any of the nodes."""
    for n in nodes:
        for txid in txids:
            code, st = n.rpc("GET", "/v1/tx/" + txid)
            if code == 200 and st.get("status") == "committed":
                return True
    return False


def committed_everywhere(nodes, txids):
    """Every txid reads committed on every node."""
    for n in nodes:
        for txid in txids:
            code, st = n.rpc("GET", "/v1/tx/" + txid)
            if code != 200 or st.get("status") != "committed":
                return False
    return True


class Node:
    def __init__(self, root, idx, full=False, ports=None):
        self.idx = idx
        self.full = full
        self.dir = os.path.join(root, ("f%d" if full else "n%d") % idx)
        self.p2p_port, self.rpc_port = ports if ports else free_ports(2)
        self.proc = None
        self.log = None
        args = ["init", "--datadir", self.dir, "--name", ("full%d" if full else "val%d") % idx,
                "--listen", "127.0.0.1:%d" % self.p2p_port,
                "--rpc-bind", "127.0.0.1:%d" % self.rpc_port]
        if full:
            args.append("--full")
        r = subprocess.run([HALLMARKD] + args, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("hallmarkd init failed: " + r.stderr)
        self.record = json.loads(r.stdout)
        self.record_file = os.path.join(self.dir, "validator.json")

    def configure(self, *lines):
        with open(os.path.join(self.dir, "hallmarkd.conf"), "a") as f:
            for line in lines:
                f.write(line + "\n")

    def start(self, env=None):
        """Start hallmarkd; env: extra environment variables (e.g. HM_CRASH_AT)."""
        self.log = open(os.path.join(self.dir, "stderr.log"), "a")
        full_env = dict(os.environ, **env) if env else None
        self.proc = subprocess.Popen([HALLMARKD, "run", "--datadir", self.dir],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=full_env)

    def wait_exit(self, timeout):
        """The exit status once the process ended by itself, else None."""
        if not self.proc:
            return None
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
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

    def token(self):
        with open(os.path.join(self.dir, ".cookie")) as f:
            return f.read().strip().split(":", 1)[1]

    def rpc(self, method, path, body=None, timeout=10, raw=False):
        """(status, parsed JSON or bytes). Raises OSError when unreachable."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.rpc_port, path),
                                     data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token())
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                payload = resp.read()
                return resp.status, payload if raw else json.loads(payload)
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                return e.code, json.loads(payload)
            except ValueError:
                return e.code, payload

    def status(self):
        code, st = self.rpc("GET", "/v1/status")
        return st if code == 200 else None

    def height(self):
        st = self.status()
        return st["height"] if st else -1

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "stderr.log")) as f:
                return f.read()
        except OSError:
            return ""


class Network:
    """N validators (+ full nodes) from one genesis, on free loopback ports."""

    def __init__(self, validators=4, full_nodes=0, batch_timeout_ms=50,
                 view_change_timeout_ms=1500, keep=False):
        self.root = tempfile.mkdtemp(prefix="hm-net-")
        self.keep = keep
        # all ports in one call: distinct from each other by construction
        ports = free_ports(2 * (validators + full_nodes))
        pairs = [tuple(ports[2 * i:2 * i + 2]) for i in range(validators + full_nodes)]
        self.validators = [Node(self.root, i, ports=pairs[i]) for i in range(validators)]
        self.full = [Node(self.root, i, full=True, ports=pairs[validators + i])
                     for i in range(full_nodes)]
        self.wallet_dir = os.path.join(self.root, "wallet")
        self.env = dict(os.environ, HALLMARK_WALLET_DIR=self.wallet_dir,
                        HALLMARK_PASSPHRASE="functional-test", HALLMARK_TEST_FAST_KDF="1")
        # the consortium's accreditor key lives in the wallet
        self.wallet("key", "create", "consortium")
        acc = json.loads(self.wallet("key", "show", "consortium", "--json"))["pubkey"]
        self.genesis = os.path.join(self.root, "genesis.json")
        args = ["genesis", "-o", self.genesis, "--chain-name", "functional",
                "--batch-timeout-ms", str(batch_timeout_ms),
                "--view-change-timeout-ms", str(view_change_timeout_ms),
                "--accreditor", "Consortium:OPERATOR:" + acc]
        for v in self.validators:
            args += ["--validator", v.record_file]
        r = subprocess.run([HALLMARKD] + args, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("hallmarkd genesis failed: " + r.stderr)
        self.chain_id = r.stdout.strip().splitlines()[0]
        for n in self.validators + self.full:
            shutil.copy(self.genesis, os.path.join(n.dir, "genesis.json"))
        for v in self.validators:
            for f in self.full:
                v.configure("observer = " + f.record["tls_fingerprint"])
        for f in self.full:
            for v in self.validators:
                f.configure("peer = 127.0.0.1:%d" % v.p2p_port)
        # accreditor GID: H_gid(key || 2^64-1)[0..20], as the contracts define it
        self.accreditor_gid = None

    def wallet(self, *args, check=True):
        r = subprocess.run([WALLET] + list(args), capture_output=True, text=True, timeout=60,
                           env=self.env)
        if check and r.returncode != 0:
            raise RuntimeError("hallmark-wallet %s failed (%d): %s%s" %
                               (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def nodes(self):
        return self.validators + self.full

    def start(self):
        for n in self.nodes():
            n.start()

    def wait_meshed(self, timeout=20):
        def meshed():
            return all(v.alive() and (v.status() or {}).get("peers_connected", 0) >=
                       len(self.validators) - 1 for v in self.validators)
        return wait(meshed, timeout)

    def sign(self, key, nonce, *action):
        """Sign one tx offline with the real wallet; return its hex."""
        out = os.path.join(self.root, "tx-%s-%d.hex" % (key, nonce))
        self.wallet("sign", *action, "--key", key, "--nonce", str(nonce),
                    "--genesis", self.genesis, "--out", out)
        with open(out) as f:
            return f.read().strip()

    def close(self):
        for n in self.nodes():
            n.stop(signal.SIGKILL)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def vm_rss_kb(pid):
    """Resident set size of process pid in kB (VmRSS from /proc), or None
    when it cannot be read (process gone, not Linux)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def tx_locations(node, txids):
    """{txid: (height, index, applied)} as node's /v1/tx reports each
    committed txid; a txid not committed there is left out."""
    out = {}
    for txid in txids:
        code, st = node.rpc("GET", "/v1/tx/" + txid, timeout=20)
        if code == 200 and st.get("status") == "committed":
            out[txid] = (st["height"], st["index"], st.get("applied"))
    return out
