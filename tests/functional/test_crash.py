#!/usr/bin/env python3
"""Crash points (fault injection on real processes): hallmarkd _exit()s at a
named site when started with HM_CRASH_AT=NAME (node/crashpoint.h). For each
site this test arms it on one validator of a 4-validator network, makes the
network reach it, asserts the crash really happened (exit status 99 and the
"crashpoint NAME hit" line), restarts the node without it, and checks the
invariants: every node holds the same block hash and state root at every
height, and every acknowledged tx is committed on every node.

Python 3 standard library only; TAP output."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import Network, Tap, agree, committed_everywhere, wait  # noqa: E402








def main():
    t = Tap()
    start = time.time()
    net = Network(validators=4)
    acked = []
    try:
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

        net.start()
        t.ok(net.wait_meshed(), "4 validators connect")
        v = net.validators
        ids = submit(v[0])
        t.ok(wait(lambda: committed_everywhere(v, ids), 20), "the network commits")

        def crash_and_recover(site, victim, trigger, others_live=True):
            """Arm `site` on victim, run trigger(), check the crash, restart."""
            victim.stop(signal.SIGTERM)
            victim.start(env={"HM_CRASH_AT": site})
            wait(lambda: victim.status() is not None, 10)
            trigger()
            rc = victim.wait_exit(30)
            t.ok(rc == 99 and ("crashpoint %s hit" % site) in victim.log_text(),
                 "%s: the node crashed at the site (exit %s)" % (site, rc),
                 victim.log_text()[-1500:])
            victim.start()
            live = [n for n in v if n.alive()]
            t.ok(wait(lambda: committed_everywhere(live, acked), 40),
                 "%s: after restart every acknowledged tx is committed on every node" % site)
            t.ok(agree(live), "%s: all nodes agree on hashes and state roots" % site)

        # the core signed votes (not yet on disk) / votes on disk, nothing sent
        for site in ("vote-before-persist", "persist-before-send"):
            crash_and_recover(site, v[1], lambda: submit(v[0]))

        # a block executed but its batch not written / written, core not told
        for site in ("block-before-commit", "block-after-commit"):
            crash_and_recover(site, v[2], lambda: submit(v[0]))

        # mid view change: the primary dies, the victim persists its
        # VIEW-CHANGE and crashes before sending it (2 of 4 down: no commits
        # until the victim is back)
        st = v[0].status()
        primary = v[st["view"] % 4]
        victim = next(n for n in v if n is not primary)
        entry = next(n for n in v if n is not primary and n is not victim)

        def kill_primary():
            primary.stop(signal.SIGKILL)
            submit(entry)
        crash_and_recover("viewchange-persisted", victim, kill_primary)
        primary.start()
        t.ok(wait(lambda: agree(v), 40), "the old primary rejoins and agrees")

        # during catch-up: a wiped node crashes while applying fetched blocks
        wiped = v[3]
        wiped.stop(signal.SIGTERM)
        import shutil
        shutil.rmtree(os.path.join(wiped.dir, "chain"))
        crash_and_recover("catchup-block", wiped, lambda: None)
        t.ok(all(n.alive() for n in v), "all four validators are running at the end")
    except Exception:
        import traceback
        t.ok(False, "test raised", traceback.format_exc())
    finally:
        if t.failed:
            net.keep = True
            t.diag("kept %s for inspection" % net.root)
        net.close()
    t.diag("crash-point test took %.1f s" % (time.time() - start))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
