#!/usr/bin/env python3
"""Disk full on one validator of four (issue 9), under a light load.

v3's chain directory is a small tmpfs this test mounts (root only; without
the permission the test is skipped). While txs flow, a filler file takes
every free byte of it. v3 must stop cleanly: its store refuses the write
(and every later one: a torn log record is only safe at the end of the
log), it sends no vote it could not persist, logs which disk is full and
exits with status 3 (NODE_EXIT_STORAGE), the one contrib/systemd's unit
restarts. The other three keep committing. Acting as the supervisor, the
test restarts v3 while the disk is still full (it exits 3 again, changing
nothing), then deletes the filler and restarts it: v3 must catch up, agree
with the others at every height and hold every acknowledged tx.
Python 3 standard library; TAP."""

import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import Network, Tap, agree, committed_everywhere, wait  # noqa: E402

TMPFS_SIZE = "8m"
EXIT_STORAGE = 3
BOUND_S = 40


def fill(path):
    """Write path until the filesystem refuses; return the bytes written."""
    n = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            block = b"\0" * chunk
            while True:
                try:
                    w = f.write(block)
                except OSError:
                    break
                if not w:
                    break
                n += w
    return n


def main():
    t = Tap()
    start = time.time()
    net = Network(validators=4, view_change_timeout_ms=1000)
    v = net.validators
    victim, others = v[3], v[:3]
    mnt = os.path.join(victim.dir, "chain")
    filler = os.path.join(mnt, "filler")
    os.makedirs(mnt, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        net.close()
        print("1..0 # SKIP cannot mount a tmpfs (%s)" % (r.stderr.strip() or "not permitted"))
        return 0
    acked = []
    lock = threading.Lock()
    stop = threading.Event()
    targets = [list(v)]  # where the load goes; the victim is dropped while it is down
    figures = {}
    try:
        net.wallet("key", "create", "k")
        signed = [net.sign("k", i, "identity", "register", "--name", "Org %d" % i, "--kind",
                           "designer") for i in range(120)]
        net.start()
        t.ok(net.wait_meshed(), "4 validators connect (v3's chain on a %s tmpfs)" % TMPFS_SIZE)

        def load():
            """2 txs every 0.25 s, round robin over the live targets."""
            i = 0
            while not stop.is_set() and i + 2 <= len(signed):
                nodes = targets[0]
                node = nodes[(i // 2) % len(nodes)]
                try:
                    code, res = node.rpc("POST", "/v1/txs", {"txs": signed[i:i + 2]}, timeout=5)
                    if code == 200:
                        with lock:
                            acked.extend(x["txid"] for x in res["results"] if "txid" in x)
                except OSError:
                    pass  # that node is down: the txs are not acknowledged
                i += 2
                time.sleep(0.25)

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        t.ok(wait(lambda: min(n.height() for n in v) >= 3, 20), "the network commits under load")

        # ---- fill v3's disk
        before = victim.height()
        t0 = time.time()
        figures["filler_bytes"] = fill(filler)
        rc = victim.wait_exit(30)
        figures["exit_s"] = time.time() - t0
        targets[0] = others
        log = victim.log_text()
        t.ok(rc == EXIT_STORAGE,
             "v3's disk filled (%d bytes of filler): it exits with status 3 after %.1f s "
             "(got %s)" % (figures["filler_bytes"], figures["exit_s"], rc), log[-2000:])
        t.ok(("the disk holding %s is full" % mnt) in log and "No space left on device" in log,
             "its log names the full disk (%s)" % mnt, log[-2000:])
        stopped = ("persisting votes failed" in log or
                   "committing a certified block failed" in log)
        t.ok(stopped and "this node stops voting and committing" in log and
             "exiting with status 3" in log,
             "it stopped voting on the failed write, then exited (nothing unsaved sent)",
             log[-2000:])
        top3 = max(n.height() for n in others)
        with lock:
            n_acked = len(acked)
        t.ok(wait(lambda: min(n.height() for n in others) >= top3 + 2, BOUND_S),
             "the other three keep committing (height %d -> %d)" %
             (top3, min(n.height() for n in others)))
        t.ok(wait(lambda: committed_everywhere(others, acked[:n_acked]), BOUND_S),
             "the other three hold every tx acknowledged so far (%d)" % n_acked)

        # ---- the supervisor restarts it while the disk is still full
        victim.start()
        rc = victim.wait_exit(30)
        t.ok(rc == EXIT_STORAGE, "restarted on the still-full disk: it exits 3 again (got %s)" %
             rc, victim.log_text()[-1500:])

        # ---- space returns, once the others are well ahead
        wait(lambda: min(n.height() for n in others) >= before + 12, 20)
        os.unlink(filler)
        top = max(n.height() for n in others)
        t0 = time.time()
        victim.start()
        caught = wait(lambda: victim.height() >= top, BOUND_S)
        figures["recovery_s"] = time.time() - t0
        t.ok(caught and victim.alive(),
             "space freed and v3 restarted: back at the others' height %d (from %d) in %.1f s" %
             (top, before, figures["recovery_s"]), victim.log_text()[-1500:])
        targets[0] = list(v)
        time.sleep(2)  # a little more load, through all four
        stop.set()
        loader.join()
        with lock:
            final = list(acked)
        t.ok(wait(lambda: committed_everywhere(v, final), BOUND_S),
             "v3 holds every acknowledged tx, and so do the others")
        t.ok(wait(lambda: agree(v), 20), "no divergence: same hashes and state roots on all 4")
        t.ok(committed_everywhere(v, final) and len(final) > 0,
             "%d txs acknowledged, 0 lost" % len(final))
        t.ok(all(n.alive() for n in v), "all four validators running at the end")
        figures["acked"] = len(final)
        figures["heights"] = [n.height() for n in v]
    except Exception:
        import traceback
        t.ok(False, "test raised", traceback.format_exc())
    finally:
        stop.set()
        for n in v:
            n.stop(signal.SIGKILL)
        r = subprocess.run(["umount", mnt], capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        if t.failed:
            net.keep = True
            t.diag("kept %s for inspection" % net.root)
        net.close()
    t.diag("disk-full test took %.1f s: %s" % (time.time() - start, figures))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
