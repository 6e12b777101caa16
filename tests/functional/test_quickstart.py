#!/usr/bin/env python3
"""Functional test of contrib/quickstart.sh (issue 7), end to end:

  - runs the quickstart non-interactively (--no-build, the binaries of
    $HM_BUILDDIR, its own --dir and last-run file) and checks its exit status,
    the refused over-quota mint and the auditor's verdicts (VALID for a good
    part, RECALLED for a recalled one, INVALID/RECALLED for the assembly with
    a recalled component, the recipe document check, the offline bundle
    verification, EPCIS, the DOT graph and its SVG when graphviz is there);
    without hallmark-audit the audit checks are skipped and the node's
    unverified statuses are checked instead;
  - re-runs it in the same directory: the old network is stopped, a fresh
    one tells the story again;
  - `contrib/devnet.sh status` sees the 4 validators;
  - `quickstart.sh --down` stops every validator it started.

Real processes on 127.0.0.1. Python 3 standard library only; TAP output."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import BUILDDIR, SRCDIR, Tap  # noqa: E402

QUICKSTART = os.path.join(SRCDIR, "contrib", "quickstart.sh")
DEVNET = os.path.join(SRCDIR, "contrib", "devnet.sh")
AUDIT = os.path.join(BUILDDIR, "wallet", "hallmark-audit")


def pids_of(statefile):
    """[(pid, datadir)] recorded by devnet.sh."""
    out = []
    try:
        with open(statefile) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    out.append((int(parts[1]), parts[2]))
    except OSError:
        pass
    return out


def running(pid, datadir):
    """Is pid a live hallmarkd on datadir (not a zombie, not a recycled pid)?"""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return "hallmarkd" in cmd and ("--datadir " + datadir) in cmd


def run_quickstart(env, *args, timeout=240):
    start = time.time()
    r = subprocess.run(["bash", QUICKSTART] + list(args), capture_output=True, text=True,
                       env=env, timeout=timeout)
    return r, time.time() - start


def check_story(t, r, secs, what):
    out = r.stdout
    t.ok(r.returncode == 0, "%s: quickstart exits 0 (%.0f s)" % (what, secs),
         out[-3000:] + r.stderr[-2000:])
    t.ok(out.count("committed at height") >= 25 and "UNEXPECTED" not in out,
         "%s: every step committed with the expected result" % what)
    t.ok(re.search(r"HM_R_LICENCE_EXHAUSTED .*rejected", out) is not None,
         "%s: the mint beyond Lyon's 40-unit licence is refused (HM_R_LICENCE_EXHAUSTED)" % what)
    t.ok("remaining: 10 of 40 units" in out, "%s: Lyon's licence has 10 of 40 units left" % what)
    return out


def main():
    t = Tap()
    root = tempfile.mkdtemp(prefix="hm-qs-test-")
    qsdir = os.path.join(root, "qs")
    env = dict(os.environ, HM_BUILDDIR=BUILDDIR, NO_COLOR="1",
               HM_QUICKSTART_LAST=os.path.join(root, "quickstart.last"))
    env.pop("HALLMARK_WALLET_DIR", None)
    env.pop("HALLMARK_NODE", None)
    statefile = os.path.join(qsdir, "net", "devnet.state")
    have_audit = os.access(AUDIT, os.X_OK)
    seen = []
    try:
        r, secs = run_quickstart(env, "--no-build", "--builddir", BUILDDIR, "--dir", qsdir)
        out = check_story(t, r, secs, "first run")
        t.diag("quickstart took %.1f s" % secs)
        first = pids_of(statefile)
        seen += first
        t.ok(len(first) == 4 and all(running(p, d) for p, d in first),
             "4 validators are left running after the story", first)

        if have_audit:
            verdicts = dict(re.findall(r"auditor verdict: (\S+) (\S+)", out))
            t.ok(verdicts.get("ACME-BRKT-000010") == "VALID",
                 "the auditor finds a good Acme bracket VALID", verdicts)
            t.ok(verdicts.get("LYON-BRKT-000005") == "RECALLED",
                 "the auditor finds a bracket of the recalled batch RECALLED", verdicts)
            t.ok(verdicts.get("NW-ARM-000002") in ("INVALID", "RECALLED"),
                 "the auditor rejects the assembly with a recalled component", verdicts)
            t.ok(verdicts.get("NW-ARM-000001") == "VALID",
                 "the assembly of good brackets is VALID", verdicts)
            t.ok("offline verdict: NW-ARM-000001 VALID" in out and
                 os.path.getsize(os.path.join(qsdir, "out", "NW-ARM-000001.bundle")) > 0,
                 "the exported bundle verifies offline")
            t.ok("recipe document matches" in out,
                 "the auditor checks the part's recipe against the sample recipe document")
            epcis = os.path.join(qsdir, "out", "NW-ARM-000001.epcis.jsonld")
            t.ok(os.path.exists(epcis) and '"EPCISDocument"' in open(epcis).read(),
                 "the assembly's verified history is written as EPCIS 2.0")
            dot = os.path.join(qsdir, "out", "NW-ARM-000002.dot")
            t.ok(os.path.exists(dot) and "digraph" in open(dot).read(),
                 "the provenance graph is written as DOT")
            if shutil.which("dot"):
                svg = os.path.join(qsdir, "out", "NW-ARM-000002.svg")
                t.ok(os.path.exists(svg) and "<svg" in open(svg).read(),
                     "graphviz renders it as SVG")
        else:
            t.ok("hallmark-audit not built yet" in out,
                 "without hallmark-audit the quickstart says so")
            t.ok("the node says: ACME-BRKT-000010 ACTIVE" in out and
                 "the node says: LYON-BRKT-000005 RECALLED" in out and
                 "the node says: NW-ARM-000002 RECALLED" in out,
                 "the node's (unverified) statuses: ACTIVE, RECALLED, RECALLED for the assembly")
            for what in ("VALID good part", "RECALLED part", "INVALID assembly",
                         "VALID assembly", "offline bundle", "recipe document", "EPCIS",
                         "DOT graph"):
                print("ok %d - auditor verdict: %s # SKIP hallmark-audit not built" % (t.n + 1, what))
                t.n += 1

        # devnet status sees them
        s = subprocess.run(["bash", DEVNET, "status", "--dir", os.path.join(qsdir, "net"),
                            "--builddir", BUILDDIR], capture_output=True, text=True, env=env,
                           timeout=60)
        rows = [ln for ln in s.stdout.splitlines() if re.match(r"\s+val\d", ln)]
        t.ok(s.returncode == 0 and len(rows) == 4 and all(" 3 " in ln for ln in rows),
             "devnet.sh status shows 4 validators with 3 peers each", s.stdout + s.stderr)

        # re-running: the old network stops, a fresh one tells the story again
        r, secs = run_quickstart(env, "--no-build", "--builddir", BUILDDIR, "--dir", qsdir)
        check_story(t, r, secs, "re-run")
        second = pids_of(statefile)
        seen += second
        t.ok(not any(running(p, d) for p, d in first),
             "the re-run stopped the first run's validators", first)
        t.ok(len(second) == 4 and all(running(p, d) for p, d in second),
             "the re-run left a fresh network of 4 running", second)

        # --down finds the last run through the recorded directory
        d = subprocess.run(["bash", QUICKSTART, "--down"], capture_output=True, text=True,
                           env=env, timeout=60)
        t.ok(d.returncode == 0 and "stopped 4 validator(s)" in d.stdout,
             "quickstart.sh --down stops the network of the last run", d.stdout + d.stderr)
        t.ok(not any(running(p, dd) for p, dd in second), "no validator process is left")
        t.ok(not os.path.exists(statefile), "the state file is gone")
    except Exception as e:  # a harness failure is a test failure, with context
        import traceback
        t.ok(False, "harness: %s" % e, traceback.format_exc())
    finally:
        for pid, datadir in seen:
            if running(pid, datadir):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
