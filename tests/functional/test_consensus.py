#!/usr/bin/env python3
"""Functional test of hallmarkd as a validator network (node issue):

  - 4 validators from one genesis commit a stream of transactions; every node
    reports the same block hash and state root at every height;
  - kill -9 of the primary under load: a view change happens, commits go on,
    no acknowledged tx is lost; the killed node restarts and catches up;
  - a validator whose chain data is wiped resyncs from its peers (verifying
    every commit certificate it fetches) and agrees with them;
  - a 5th, non-voting full node follows the chain;
  - bad input (a tx for another chain, malformed hex) is refused cleanly and
    changes nothing that was committed.

Real processes on 127.0.0.1, driven by the real hallmarkd and
hallmark-wallet binaries. Python 3 standard library only; TAP output."""

import json
import os
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import Network, Tap, committed_everywhere, headers, wait  # noqa: E402

KEYS = 5




def consistent(t, nodes, what):
    """Every node reaches the validators' height, then holds the same hash and
    state root at every height up to it."""
    goal = max(n.height() for n in nodes)
    wait(lambda: min(n.height() for n in nodes) >= goal, 30)
    hs = [n.height() for n in nodes]
    top = min(hs)
    lists = [headers(n, top) for n in nodes]
    same = top >= 1 and all(lst is not None and lst == lists[0] for lst in lists)
    t.ok(same and len(lists[0]) == top,
         "%s: %d nodes agree on hash and state root at heights 1..%d" % (what, len(nodes), top),
         "heights %s" % hs)
    return top




def codes(node, txids):
    out = []
    for txid in txids:
        _, st = node.rpc("GET", "/v1/tx/" + txid)
        out.append(st.get("code_name"))
    return out


def main():
    t = Tap()
    start = time.time()
    net = Network(validators=4, full_nodes=1)
    try:
        for k in range(KEYS):
            net.wallet("key", "create", "k%d" % k)
        nonce = [0] * KEYS

        def batch(per_key):
            txs = []
            for _ in range(per_key):
                for k in range(KEYS):
                    txs.append(net.sign("k%d" % k, nonce[k], "identity", "register",
                                        "--name", "Org %d-%d" % (k, nonce[k]),
                                        "--kind", "manufacturer"))
                    nonce[k] += 1
            return txs

        net.start()
        t.ok(net.wait_meshed(), "4 validators connect to each other")
        v = net.validators

        # ---- a stream of transactions, every node agrees
        txs = batch(4)
        code, res = v[1].rpc("POST", "/v1/txs", {"txs": txs})
        ids = [r.get("txid") for r in res.get("results", [])] if code == 200 else []
        t.ok(code == 200 and res.get("accepted") == len(txs) and all(ids),
             "batch of %d signed txs accepted by one validator" % len(txs), res)
        t.ok(wait(lambda: committed_everywhere(net.nodes(), ids), 30),
             "every tx committed on every node, the full node too")
        t.ok(all(c == "HM_R_OK" for c in codes(v[2], ids)), "every tx applied (HM_R_OK)",
             codes(v[2], ids))
        consistent(t, net.nodes(), "after the first stream")

        # ---- kill -9 the primary under load
        st = v[1].status()
        primary = st["view"] % len(v)
        h0 = min(n.height() for n in v)
        t.diag("primary is validator %d at view %d, height %d" % (primary, st["view"], h0))
        entry = v[(primary + 1) % len(v)]
        load = batch(4)
        acked, errors = [], []

        def submit_stream():
            for tx in load:
                try:
                    code, r = entry.rpc("POST", "/v1/tx", {"tx": tx})
                    if code == 200:
                        acked.append(r["txid"])
                    else:
                        errors.append(r)
                except OSError as e:
                    errors.append(str(e))
                time.sleep(0.05)

        th = threading.Thread(target=submit_stream)
        th.start()
        time.sleep(0.3)
        v[primary].stop(signal.SIGKILL)
        th.join()
        survivors = [n for i, n in enumerate(v) if i != primary]
        t.ok(not errors and len(acked) == len(load),
             "%d txs acknowledged while the primary was killed" % len(acked), errors)
        t.ok(wait(lambda: committed_everywhere(survivors, acked), 40),
             "no acknowledged tx is lost: all committed on the 3 survivors")
        sts = [n.status() for n in survivors]
        t.ok(all(s["view"] > st["view"] for s in sts),
             "a view change happened (views %s, was %d)" % ([s["view"] for s in sts],
                                                           st["view"]))
        code, text = survivors[0].rpc("GET", "/metrics", raw=True)
        vc = [ln for ln in text.decode().splitlines()
              if ln.startswith("hallmark_view_changes_total ")]
        t.ok(code == 200 and vc and int(float(vc[0].split()[1])) >= 1,
             "the view change shows in hallmark_view_changes_total", vc)
        t.ok(all(c == "HM_R_OK" for c in codes(survivors[0], acked)),
             "the txs of the stream applied in order", codes(survivors[0], acked))
        consistent(t, survivors, "after the view change")

        # ---- the killed node restarts and catches up
        v[primary].start()
        target = max(n.height() for n in survivors)
        t.ok(wait(lambda: v[primary].height() >= target, 30),
             "the killed primary restarts and catches up to height %d" % target)
        more = batch(1)
        code, res = survivors[0].rpc("POST", "/v1/txs", {"txs": more})
        more_ids = [r["txid"] for r in res["results"]]
        t.ok(wait(lambda: committed_everywhere(v, more_ids), 30),
             "with all 4 back, new txs commit everywhere")
        consistent(t, net.nodes(), "after the restart")

        # ---- a wiped data directory resyncs
        wiped = v[(primary + 2) % len(v)]
        wiped.stop(signal.SIGTERM)
        shutil.rmtree(os.path.join(wiped.dir, "chain"))
        wiped.start()
        target = max(n.height() for n in v if n is not wiped)
        t.ok(wait(lambda: wiped.height() >= target, 40),
             "a validator with a wiped chain resyncs to height %d" % target)
        consistent(t, net.nodes(), "after the resync")
        t.ok("catch-up" in wiped.log_text() or wiped.height() >= target,
             "the resynced node fetched certified blocks from peers")

        # ---- the full node follows and never votes
        f = net.full[0]
        fst = f.status()
        t.ok(fst["mode"] == "full" and fst["validator_index"] is None,
             "the 5th node runs as a non-voting full node")
        t.ok(wait(lambda: f.height() >= target, 30), "the full node follows the chain")

        # ---- bad input changes nothing
        before = headers(v[0], v[0].height())
        other = net.wallet("key", "create", "stranger")
        bad = os.path.join(net.root, "other-chain.hex")
        net.wallet("sign", "identity", "register", "--key", "stranger", "--nonce", "0",
                   "--chain-id", "ab" * 32, "--name", "X", "--kind", "designer", "--out", bad)
        with open(bad) as fh:
            code, r = v[0].rpc("POST", "/v1/tx", {"tx": fh.read().strip()})
        t.ok(code == 400 and r["error"]["code"] == "wrong_chain",
             "a tx signed for another chain id is refused (400 wrong_chain)", r)
        code, r = v[0].rpc("POST", "/v1/tx", {"tx": "zz"})
        t.ok(code == 400 and "error" in r, "a malformed tx is refused (400)", r)
        code, r = v[0].rpc("POST", "/v1/txs", {"txs": ["00", 7, txs[0]]})
        t.ok(code == 200 and "error" in r["results"][0] and "error" in r["results"][1]
             and r["results"][2].get("status") == "committed",
             "a batch reports per tx: malformed, not a string, already committed", r)
        code, r = v[0].rpc("GET", "/v1/tx/" + "00" * 32)
        t.ok(code == 200 and r["status"] == "unknown", "an unknown txid reads unknown")
        code, r = v[0].rpc("GET", "/v1/blocks/999999")
        t.ok(code == 404, "a block beyond the tip is 404")
        code, body = v[0].rpc("GET", "/v1/blocks/1?raw=1", raw=True)
        r = json.loads(body) if code == 200 else {}
        hexes = [r.get("block", ""), r.get("cert", "")]
        t.ok(code == 200 and r.get("height") == 1 and all(
                 x and len(x) % 2 == 0 and x == x.lower() and bytes.fromhex(x) for x in hexes) and
             body.decode() == json.dumps(r, separators=(",", ":")) + "\n",
             "?raw=1: the block and certificate as hex, in compact JSON", body[:120])
        after = headers(v[0], len(before))
        t.ok(after == before and v[0].status() is not None,
             "nothing committed changed and the node still answers")
        alive = [n for n in net.nodes() if not n.alive()]
        t.ok(not alive, "no node died", [n.dir for n in alive])
    except Exception as e:  # a harness failure is a test failure, with context
        import traceback
        t.ok(False, "test raised %s" % type(e).__name__, traceback.format_exc())
        net.keep = True
        t.diag("kept %s for inspection" % net.root)
    finally:
        if t.failed:
            net.keep = True
            t.diag("kept %s for inspection" % net.root)
        net.close()
    t.diag("functional test took %.1f s" % (time.time() - start))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
