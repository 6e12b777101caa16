#!/usr/bin/env python3
"""Byzantine validators (fault injection, issue 9): a network of 4
validators where validator 0 (the primary of view 0) runs a Byzantine build
behaviour (HM_BYZANTINE, node/byzantine.h; f = 1) while a steady load of
real txs goes to the 3 honest ones:

  - equivocate: as primary it sends conflicting, correctly signed
    PRE-PREPAREs for the same (view, height) to different peers; first one
    peer gets another block (a quorum still forms, the odd one catches up),
    then every peer gets its own block, so the honest ones must change view;
  - replay: it re-sends old consensus messages and tx batches (old heights,
    old views, its own old votes) to every peer all the time, and puts
    already committed txs into its proposals again; it is also frozen
    (SIGSTOP) for a while so that a view change happens and gets replayed;
  - flood: it sends ~5,000 invalid txs and votes per second to every peer
    (garbage, bad signatures, another chain, wrong heights, views, digests);
  - all three at once.

For each: the honest nodes agree on hash and state root at every height;
every acknowledged tx is committed on every honest node exactly once (same
height and index everywhere, applied, and a resubmission is a duplicate);
commits keep coming (the longest gap between blocks under load is bounded;
with equivocation the view changes away within the bound); the honest
nodes' memory stays bounded (VmRSS sampled from /proc: peak under a bound,
no steady growth from the first half to the second); they keep answering
the API. Prints one figures line per scenario for doc/reliability.md.
~70 s. HM_BYZANTINE_ONLY=NAME runs one scenario, HM_BYZANTINE_FLOOD=N sets
the flood rate (invalid messages per second per peer).

Python 3 standard library only; TAP output."""

import calendar
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import (HALLMARKD, Network, Tap, agree, committed_everywhere,  # noqa: E402
                   tx_locations, vm_rss_kb, wait)

LOAD_S = 13            # steady load per scenario
TX_EVERY_S = 0.1       # one tx every 0.1 s, round robin over the honest nodes
SAMPLE_EVERY_S = 0.5   # RSS and API sampling
EQUIVOCATE_SPLIT = 40  # heights with a 2-1 split before every peer gets its own block
GAP_BOUND_S = 10.0     # longest time with no block while the load runs
RECOVERY_BOUND_S = 10.0  # from the fault to the first block of the next view
RSS_PEAK_MB = 128      # peak VmRSS of an honest node (19 MB here, Byzantine or not)
RSS_GROWTH_MB = 16     # second-half peak minus first-half peak (4-5 MB here, also honest-only)
API_BOUND_S = 5.0      # every status request answered within this


def log_time(line):
    """Epoch seconds of a log line's "2026-11-24T10:00:00.123Z" stamp."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z", line)
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + \
        int(m.group(2)) / 1000.0


def block_times(node, upto):
    """[(height, view, time_ms)] of heights 1..upto."""
    code, body = node.rpc("GET", "/v1/headers?from=1&to=%d" % upto, timeout=20)
    if code != 200:
        return []
    return [(h["height"], int(h["fields"]["view"]), int(h["fields"]["time_ms"]))
            for h in body["headers"]]


def scenario(t, mode, env_value, rows):
    start = time.time()
    net = Network(validators=4, view_change_timeout_ms=1000)
    v = net.validators
    byz, honest = v[0], v[1:]
    acked, api_fail, rss = [], [], {n.idx: [] for n in honest}
    sent = {}  # txid -> the SignedTx hex submitted
    api_worst = 0.0
    events = {}
    try:
        # pre-signed load: one key per honest node, nonces in submission order
        per_key = int(LOAD_S / TX_EVERY_S / 3) + 1
        load = {}
        for n in honest:
            key = "k%d" % n.idx
            net.wallet("key", "create", key)
            load[n.idx] = [net.sign(key, i, "identity", "register", "--name",
                                    "%s org %d" % (key, i), "--kind", "designer")
                           for i in range(per_key)]
        byz.start(env={"HM_BYZANTINE": env_value})
        for n in honest:
            n.start()
        t.ok(net.wait_meshed(), "%s: 4 validators connect" % mode)
        st = byz.status() or {}
        t.ok(st.get("validator_index") == 0 and st.get("view") == 0,
             "%s: the Byzantine node is validator 0, primary of view 0" % mode, st)

        t0 = time.time()
        next_tx, next_sample, k = t0, t0, 0
        stopped = False
        while time.time() < t0 + LOAD_S:
            now = time.time()
            if now >= next_tx:
                n = honest[k % 3]
                i = k // 3
                k += 1
                next_tx += TX_EVERY_S
                if i < len(load[n.idx]):
                    try:
                        code, res = n.rpc("POST", "/v1/txs", {"txs": [load[n.idx][i]]})
                    except OSError as e:
                        code, res = None, str(e)
                    if code == 200:
                        for r in res["results"]:
                            if "txid" in r:
                                acked.append(r["txid"])
                                sent[r["txid"]] = load[n.idx][i]
                    else:
                        api_fail.append("POST to val%d: %s %s" % (n.idx, code, res))
            if now >= next_sample:
                next_sample += SAMPLE_EVERY_S
                for n in honest:
                    r = vm_rss_kb(n.proc.pid) if n.alive() else None
                    if r is not None:
                        rss[n.idx].append((now - t0, r))
                    a = time.time()
                    try:
                        ok = n.status() is not None
                    except OSError:
                        ok = False
                    took = time.time() - a
                    api_worst = max(api_worst, took)
                    if not ok or took > API_BOUND_S:
                        api_fail.append("status of val%d: ok=%s in %.1f s" % (n.idx, ok, took))
            if mode == "replay" and not stopped and now - t0 >= 4:
                # freeze the Byzantine primary: the honest ones change view,
                # and it later has VIEW-CHANGEs and NEW-VIEWs to replay
                byz.proc.send_signal(signal.SIGSTOP)
                events["stop"] = time.time()
                stopped = True
            if mode == "replay" and stopped and "cont" not in events and now - t0 >= 7:
                byz.proc.send_signal(signal.SIGCONT)
                events["cont"] = time.time()
            time.sleep(0.01)
        load_end = time.time()

        # ---- invariants
        done = wait(lambda: committed_everywhere(honest, acked), 40)
        t.ok(done, "%s: every acknowledged tx (%d) committed on the 3 honest nodes" %
             (mode, len(acked)))
        locs = [tx_locations(n, acked) for n in honest]
        lost = sum(1 for x in acked if any(x not in loc for loc in locs))
        moved = [x for x in acked if len({loc.get(x) for loc in locs}) != 1]
        unapplied = [x for x in acked if locs[0].get(x) and not locs[0][x][2]]
        t.ok(lost == 0 and not moved and not unapplied,
             "%s: each at one height and index on every honest node, applied "
             "(lost %d, differing %d, not applied %d)" % (mode, lost, len(moved),
                                                          len(unapplied)))
        dup_bad = []
        for i in range(0, len(acked), 50):
            chunk = acked[i:i + 50]
            n = honest[(i // 50) % 3]
            code, res = n.rpc("POST", "/v1/txs", {"txs": [sent[x] for x in chunk]})
            for r in (res.get("results", []) if code == 200 else [{}]):
                if not (r.get("duplicate") and r.get("status") == "committed" and
                        (r.get("txid") not in locs[0] or
                         r.get("height") == locs[0][r["txid"]][0])):
                    dup_bad.append(r)
        t.ok(not dup_bad, "%s: resubmitting every acknowledged tx gives 'duplicate', "
             "committed at the same height (exactly once)" % mode, dup_bad[:3])
        # a tx a block carries again (a replaying primary) is rejected there,
        # and the index keeps pointing at its first, applied copy
        occ, bad_blocks = {}, 0
        for h in range(1, min(n.height() for n in honest) + 1):
            code, blk = honest[0].rpc("GET", "/v1/blocks/%d" % h, timeout=20)
            if code != 200:
                bad_blocks += 1
                continue
            for i, r in enumerate(blk.get("results", [])):
                occ.setdefault(r["txid"], []).append((h, i, r["code"]))
        again = {x: o for x, o in occ.items() if len(o) > 1}
        twice = [x for x, o in again.items() if sum(1 for _, _, c in o if c == 0) > 1]
        shadow = [x for x in acked if x in occ and locs[0].get(x) and
                  (occ[x][0][0], occ[x][0][1]) != tuple(locs[0][x][:2])]
        t.ok(not bad_blocks and not twice and not shadow and
             (mode != "replay" or again),
             "%s: %d copies of %d committed txs were put into later blocks; no tx applied "
             "twice, every index points at the first copy" %
             (mode, sum(len(o) - 1 for o in again.values()), len(again)),
             "unreadable blocks %d, applied twice %s, shadowed %s" % (bad_blocks, twice[:3],
                                                                      shadow[:3]))
        agreed = wait(lambda: agree(honest), 20)
        top = min(n.height() for n in honest)
        t.ok(agreed, "%s: the 3 honest nodes agree on hash and state root at all %d heights" %
             (mode, top))
        divergences = 0 if agreed else 1

        # progress: the longest gap between blocks while the load ran
        bt = block_times(honest[0], top)
        in_load = [b for b in bt if t0 * 1000 <= b[2] <= load_end * 1000 + 1000]
        gaps = [(b[2] - a[2]) / 1000.0 for a, b in zip(in_load, in_load[1:])]
        gap = max(gaps) if gaps else float("inf")
        t.ok(len(in_load) >= 10 and gap <= GAP_BOUND_S,
             "%s: commits kept coming under load (%d blocks, longest gap %.2f s, bound %.0f s)" %
             (mode, len(in_load), gap, GAP_BOUND_S))

        # memory of the honest nodes
        peak = 0
        growth = 0
        for idx, s in rss.items():
            if not s:
                continue
            first = [r for (ts, r) in s if ts < LOAD_S / 2]
            second = [r for (ts, r) in s if ts >= LOAD_S / 2]
            peak = max(peak, max(r for _, r in s))
            if first and second:
                growth = max(growth, max(second) - max(first))
        t.ok(all(rss.values()) and peak <= RSS_PEAK_MB * 1024 and
             growth <= RSS_GROWTH_MB * 1024,
             "%s: honest memory bounded (peak VmRSS %.1f MB <= %d; second-half growth "
             "%.1f MB <= %d)" % (mode, peak / 1024, RSS_PEAK_MB, growth / 1024, RSS_GROWTH_MB))
        t.ok(not api_fail and all(n.alive() for n in honest),
             "%s: the honest nodes kept serving the API (worst status %.2f s)" %
             (mode, api_worst), "\n".join(api_fail[:5]))

        # the fault really happened; the recovery from it
        modes = set(m.split(":")[0] for m in env_value.split(","))
        byz.stop(signal.SIGTERM)  # its exit line carries the final counters
        log = byz.log_text()
        counters = re.findall(r"proposals rewritten (\d+), committed txs put into blocks again "
                              r"(\d+), messages replayed (\d+), invalid txs sent (\d+), "
                              r"invalid votes sent (\d+)", log)
        blocks, extra, replayed, bad_txs, bad_votes = \
            (int(x) for x in counters[-1]) if counters else (0, 0, 0, 0, 0)
        duration = load_end - t0
        faults, recovery = [], []
        if "equivocate" in modes:
            eq = [ln for ln in log.splitlines() if "equivocating at view" in ln]
            every = [ln for ln in eq if "a different block to each" in ln]
            split = [int(re.search(r"height (\d+)", ln).group(1)) for ln in eq
                     if ln not in every]
            t.ok(len(split) >= 10 and len(every) >= 1,
                 "%s: it equivocated (%d heights with one peer fed another block, %d with a "
                 "block per peer)" % (mode, len(split), len(every)), log[-1500:])
            # one peer fed another block: the other two and the primary still
            # form a quorum, the odd one catches up, so no view change
            views = {b[0]: b[1] for b in bt}
            changed = [h for h in split if views.get(h, 0) != 0]
            t.ok(split and not changed,
                 "%s: every height split 2-1 committed in view 0, without a view change "
                 "(%d of %d did not)" % (mode, len(changed), len(split)))
            rec = None
            if every:
                h = int(re.search(r"height (\d+)", every[0]).group(1))
                split_at = log_time(every[0])
                after = [b for b in bt if b[0] == h]
                if after and after[0][1] > 0 and split_at:
                    rec = after[0][2] / 1000.0 - split_at
            t.ok(rec is not None and rec <= RECOVERY_BOUND_S,
                 "%s: a block per peer: the view changed away from it, height committed in "
                 "view >= 1 %s s after (bound %.0f s)" %
                 (mode, "%.2f" % rec if rec is not None else "?", RECOVERY_BOUND_S))
            faults.append("%d heights equivocated (%d split 2-1, %d a block per peer)" % (
                len(eq), len(split), len(every)))
            recovery.append("view change %.2f s after the per-peer split" %
                            (rec if rec is not None else -1))
        if "replay" in modes:
            t.ok(replayed > 1000 and ("equivocate" in modes or extra > 0),
                 "%s: it replayed %d old messages and put %d committed txs into %d proposals "
                 "again" % (mode, replayed, extra, blocks), log[-1500:])
            faults.append("%d old messages replayed to each of 3 peers" % replayed)
            if extra:
                faults.append("%d committed txs put into %d re-signed proposals" %
                              (extra, blocks))
            if "stop" in events:
                later = [b for b in bt if b[1] > 0]
                rec = later[0][2] / 1000.0 - events["stop"] if later else None
                t.ok(rec is not None and rec <= RECOVERY_BOUND_S,
                     "%s: with it frozen the others changed view and committed %s s later "
                     "(bound %.0f s)" % (mode, "%.2f" % rec if rec is not None else "?",
                                         RECOVERY_BOUND_S))
                faults.append("frozen (SIGSTOP) 3 s while primary")
                recovery.append("view change %.2f s after the freeze" %
                                (rec if rec is not None else -1))
        if "flood" in modes:
            rate = (bad_txs + bad_votes) / duration
            t.ok(rate > 1000, "%s: it sent %d invalid txs and %d invalid votes (%.0f/s)" %
                 (mode, bad_txs, bad_votes, rate), log[-1500:])
            faults.append("%d invalid txs + %d invalid votes (%.0f/s over 3 peers)" % (
                bad_txs, bad_votes, rate))
        recovery.append("longest gap between blocks %.2f s" % gap)
        faults, recovery = "; ".join(faults), "; ".join(recovery)
        row = {"mode": mode, "duration": duration, "load": len(acked) / duration,
               "faults": faults, "acked": len(acked), "lost": lost,
               "divergences": divergences, "recovery": recovery, "peak": peak / 1024,
               "growth": growth / 1024, "blocks": len(in_load)}
        rows.append(row)
        t.diag("%s: %.1f s, %d txs acknowledged (%.1f tx/s), lost %d, divergences %d; "
               "faults: %s; recovery: %s; peak RSS %.1f MB (growth %.1f MB); scenario %.1f s" %
               (mode, duration, len(acked), row["load"], lost, divergences, faults, recovery,
                row["peak"], row["growth"], time.time() - start))
    except Exception:
        import traceback
        t.ok(False, "%s: test raised" % mode, traceback.format_exc())
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


def main():
    with open(HALLMARKD, "rb") as f:
        if b"HM_BYZANTINE" not in f.read():
            print("1..0 # SKIP hallmarkd built without test hooks (--disable-test-hooks)")
            return 0
    t = Tap()
    rows = []
    only = os.environ.get("HM_BYZANTINE_ONLY")  # one scenario, by name (local runs)
    flood = os.environ.get("HM_BYZANTINE_FLOOD", "5000")  # invalid msgs/s per peer
    for mode, value in (("equivocate", "equivocate:%d" % EQUIVOCATE_SPLIT),
                        ("replay", "replay:16"), ("flood", "flood:" + flood),
                        ("all three", "equivocate:%d,replay:16,flood:%s" % (EQUIVOCATE_SPLIT,
                                                                           flood))):
        if not only or only == mode:
            scenario(t, mode, value, rows)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
