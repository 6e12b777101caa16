#!/usr/bin/env python3
"""Process faults on a 4-validator network under load (fault injection):

  - SIGSTOP of the primary: the others change view and go on; SIGCONT, it
    rejoins and agrees;
  - kill -9 of 2 of 4: no commits (no quorum); both restarted, commits
    resume;
  - all 4 killed with -9 and restarted: the chain resumes where it was;
  - kill -9 of a random validator every ~2 s for ~12 s (seeded; HM_KILL_LOOP_S
    sets the length for a soak) under 8 tx/s, each
    restarted after a pause;
  - a validator killed and the tail of its LevelDB log truncated (a torn
    last write): it restarts from what survived and catches up.

Each scenario checks: every acknowledged tx committed exactly where every
node says, no two nodes with different hashes or state roots, progress
within the bound after the fault heals. Python 3 standard library; TAP."""

import glob
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import (Network, Tap, agree, committed_anywhere, committed_everywhere,  # noqa: E402
                   wait)

BOUND_S = 40


def main():
    t = Tap()
    start = time.time()
    rng = random.Random(7)
    net = Network(validators=4, view_change_timeout_ms=1000)
    v = net.validators
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
            try:
                code, res = node.rpc("POST", "/v1/txs", {"txs": txs})
            except OSError:
                return []
            ids = [r["txid"] for r in res["results"] if "txid" in r] if code == 200 else []
            acked.extend(ids)
            return ids

        def primary():
            st = next(n.status() for n in v if n.alive() and n.status())
            return v[st["view"] % 4]

        net.start()
        t.ok(net.wait_meshed(), "4 validators connect")
        ids = submit(v[0])
        t.ok(wait(lambda: committed_everywhere(v, ids), 20), "the network commits")

        # ---- SIGSTOP the primary
        p = primary()
        others = [n for n in v if n is not p]
        p.proc.send_signal(signal.SIGSTOP)
        ids = submit(others[0])
        t.ok(wait(lambda: committed_everywhere(others, ids), BOUND_S),
             "primary stopped (SIGSTOP): the others change view and commit")
        p.proc.send_signal(signal.SIGCONT)
        t.ok(wait(lambda: committed_everywhere(v, acked), BOUND_S) and wait(lambda: agree(v), 20),
             "SIGCONT: the old primary rejoins and agrees")

        # ---- kill 2 of 4: no quorum
        a, b = v[1], v[2]
        a.stop(signal.SIGKILL)
        b.stop(signal.SIGKILL)
        time.sleep(0.5)
        # the survivor one block behind may still fetch it from the other
        # (catch-up, not a new commit): nothing beyond the top, and none of
        # the txs submitted meanwhile committed
        top = max(v[0].height(), v[3].height())
        ids = submit(v[0])
        time.sleep(5)
        t.ok(max(v[0].height(), v[3].height()) == top and
             not committed_anywhere([v[0], v[3]], ids),
             "2 of 4 killed: no commits (top height stays %d)" % top)
        a.start()
        b.start()
        healed = time.time()
        t.ok(wait(lambda: committed_everywhere(v, acked), BOUND_S),
             "both restarted: commits resume, nothing acknowledged lost (%.1f s)" %
             (time.time() - healed))
        t.ok(wait(lambda: agree(v), 20), "2 of 4: no divergence")

        # ---- all four killed and restarted
        submit(v[3])
        time.sleep(0.3)
        top = max(n.height() for n in v)
        for n in v:
            n.stop(signal.SIGKILL)
        for n in v:
            n.start()
        healed = time.time()
        t.ok(wait(lambda: committed_everywhere(v, acked), BOUND_S),
             "all 4 killed and restarted: every acknowledged tx committed (%.1f s)" %
             (time.time() - healed))
        t.ok(min(n.height() for n in v) >= top and wait(lambda: agree(v), 20),
             "all 4: the chain resumed from height >= %d with no divergence" % top)

        # ---- kill -9 a random validator every ~2 s under load; the soak
        # (HM_KILL_LOOP_S=300, say) runs the same loop for longer
        loop_s = float(os.environ.get("HM_KILL_LOOP_S", "12"))
        t_loop = time.time()
        end = t_loop + loop_s
        kills = 0
        acked0 = len(acked)
        while time.time() < end:
            victim = v[rng.randrange(4)]
            victim.stop(signal.SIGKILL)
            kills += 1
            for i in range(8):  # 2 txs every 0.25 s: 4 while it is down, 4 as it restarts
                if i == 4:
                    victim.start()
                submit(rng.choice([n for n in v if n is not victim and n.alive()]), 2)
                time.sleep(0.25)
        loop_txs = len(acked) - acked0
        healed = time.time()
        t.ok(wait(lambda: committed_everywhere(v, acked), BOUND_S + loop_s / 10),
             "kill loop (%d kills in %.0f s, %d txs acknowledged meanwhile): every acknowledged "
             "tx committed on all 4 (%.1f s after the last)" %
             (kills, healed - t_loop, loop_txs, time.time() - healed))
        t.ok(wait(lambda: agree(v), 20), "kill loop: no divergence")
        # ---- a validator's LevelDB log tail truncated (a torn last write)
        victim = v[3]
        submit(v[0])
        wait(lambda: committed_everywhere(v, acked), BOUND_S)
        before = victim.height()
        victim.stop(signal.SIGKILL)
        logs = sorted(glob.glob(os.path.join(victim.dir, "chain", "*.log")),
                      key=os.path.getmtime)
        cut = 0
        if logs:
            size = os.path.getsize(logs[-1])
            cut = min(700, size // 2)
            with open(logs[-1], "r+b") as f:
                f.truncate(size - cut)
        victim.start()
        ok_up = wait(lambda: victim.status() is not None, 15)
        restored = victim.height() if ok_up else -1
        t.ok(ok_up and cut > 0,
             "a validator whose LevelDB log lost its last %d bytes restarts (height %d, was %d)" %
             (cut, restored, before), victim.log_text()[-1500:])
        t.ok(wait(lambda: committed_everywhere(v, acked), BOUND_S) and wait(lambda: agree(v), 20),
             "torn log: it catches up with no divergence and nothing acknowledged lost")
        t.ok(all(n.alive() for n in v), "all four validators running at the end")
    except Exception:
        import traceback
        t.ok(False, "test raised", traceback.format_exc())
    finally:
        for n in v:
            if n.proc and n.proc.poll() is None:
                try:
                    n.proc.send_signal(signal.SIGCONT)
                except OSError:
                    pass
        if t.failed:
            net.keep = True
            t.diag("kept %s for inspection" % net.root)
        net.close()
    t.diag("fault test took %.1f s, %d txs acknowledged" % (time.time() - start, len(acked)))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
