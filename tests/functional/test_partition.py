#!/usr/bin/env python3
"""Partitions on real processes (fault injection): every directed link
between 4 validators goes through a FaultProxy (tests/functional/
faultproxy.py), so links can be cut and healed without root or netem.
Scenarios, each checking that no two nodes hold different blocks or state
roots and that every acknowledged tx ends up committed on every node:

  - an isolated validator: the other 3 keep committing; healed, it catches up;
  - a 2|2 split: no commits at all (no quorum on either side); healed,
    commits resume within the bound;
  - flapping links (a link cut and healed repeatedly, plus delays): progress
    continues and nothing diverges.

Python 3 standard library only; TAP output."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultproxy import FaultProxy  # noqa: E402
from hmnet import (Network, Tap, agree, committed_anywhere, committed_everywhere,  # noqa: E402
                   settled, wait)

BOUND_S = 30  # progress must resume within this after a heal


def main():
    t = Tap()
    start = time.time()
    net = Network(validators=4, view_change_timeout_ms=1000)
    v = net.validators
    proxies = {}
    acked = []
    try:
        # each node dials every other through its own proxy on that link
        for a in range(4):
            for b in range(4):
                if a != b:
                    proxies[(a, b)] = FaultProxy(v[b].p2p_port, seed=a * 4 + b)
        for a in range(4):
            v[a].configure(*["peer = 127.0.0.1:%d" % proxies[(a, b)].port
                             for b in range(4) if b != a])
        net.wallet("key", "create", "k")
        nonce = [0]

        def submit(node, count=2):
            txs = []
            for _ in range(count):
                txs.append(net.sign("k", nonce[0], "identity", "register", "--name",
                                    "Org %d" % nonce[0], "--kind", "designer"))
                nonce[0] += 1
            code, res = node.rpc("POST", "/v1/txs", {"txs": txs})
            ids = [r["txid"] for r in res["results"] if "txid" in r] if code == 200 else []
            acked.extend(ids)
            return ids

        def link(a, b, up):
            for p in (proxies[(a, b)], proxies[(b, a)]):
                p.heal() if up else p.cut()

        net.start()
        t.ok(net.wait_meshed(30), "4 validators connect through the fault proxies")
        ids = submit(v[0])
        t.ok(wait(lambda: committed_everywhere(v, ids), 20), "the network commits through them")

        # ---- an isolated validator
        iso = 3
        t.ok(settled(v), "settled before the cut")
        for b in range(4):
            if b != iso:
                link(iso, b, False)
        rest = [n for i, n in enumerate(v) if i != iso]
        h_iso = v[iso].height()
        ids = submit(v[0])
        t.ok(wait(lambda: committed_everywhere(rest, ids), BOUND_S),
             "isolated validator: the other three keep committing")
        t.ok(v[iso].height() == h_iso and not committed_anywhere([v[iso]], ids),
             "the isolated validator committed nothing meanwhile")
        for b in range(4):
            if b != iso:
                link(iso, b, True)
        healed = time.time()
        t.ok(wait(lambda: committed_everywhere(v, acked), BOUND_S),
             "healed: the isolated validator catches up (%.1f s)" % (time.time() - healed))
        t.ok(wait(lambda: agree(v), 20), "isolated validator: no divergence")

        # ---- 2|2 split
        for a in (0, 1):
            for b in (2, 3):
                link(a, b, False)
        time.sleep(1)
        # A node one block behind at the cut may still fetch that block from
        # its side-mate (catch-up is not a commit of anything new), so the
        # invariant is: no height beyond the highest at the cut, and none of
        # the txs submitted during the split is committed anywhere.
        top = max(n.height() for n in v)
        ids = submit(v[0]) + submit(v[2])
        time.sleep(6)
        after = [n.height() for n in v]
        t.ok(max(after) == top and not committed_anywhere(v, ids),
             "2|2 split: no side commits (top height stays %d)" % top, after)
        for a in (0, 1):
            for b in (2, 3):
                link(a, b, True)
        healed = time.time()
        t.ok(wait(lambda: committed_everywhere(v, acked), BOUND_S),
             "healed: commits resume and every acknowledged tx is committed (%.1f s)" %
             (time.time() - healed))
        t.ok(wait(lambda: agree(v), 20), "2|2 split: no divergence")

        # ---- flapping links and delays
        proxies[(0, 1)].delay(50)
        proxies[(2, 3)].delay(30)
        for i in range(6):
            link(i % 4, (i + 1) % 4, False)
            submit(v[(i + 2) % 4], 1)
            time.sleep(0.7)
            link(i % 4, (i + 1) % 4, True)
        for p in proxies.values():
            p.heal()
        t.ok(wait(lambda: committed_everywhere(v, acked), BOUND_S + 15),
             "flapping links: every acknowledged tx is committed on every node")
        t.ok(wait(lambda: agree(v), 20), "flapping links: no divergence")
        t.ok(all(n.alive() for n in v), "no validator died")
    except Exception:
        import traceback
        t.ok(False, "test raised", traceback.format_exc())
    finally:
        if t.failed:
            net.keep = True
            t.diag("kept %s for inspection" % net.root)
        for p in proxies.values():
            p.close()
        net.close()
    t.diag("partition test took %.1f s, %d txs acknowledged" % (time.time() - start, len(acked)))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
