#!/usr/bin/env python3
"""Functional test of the whole manufacturing story (issue 6), against 4
real validators, driven through the real CLIs (hallmark-wallet for every
transaction, hallmark-audit for the verdicts):

  consortium accredits a designer, a manufacturer and an inspector; the
  designer registers a recipe from a document and licenses 5 units; the
  manufacturer mints three certificates (4 units) and a fourth mint beyond
  the quota is refused (HM_R_LICENCE_EXHAUSTED: its part never exists); the
  inspector co-signs; custody moves to a customer; an inspection is
  recorded; two parts are assembled into a gearbox; one certificate is
  revoked (a recall).

Then the auditor: a certified part is VALID, the recalled part RECALLED,
the gearbox INVALID ("component SN-B1 recalled"), the over-quota serial
INVALID (absence proven); export + offline verify agree; --recipe-document
right/wrong; --dot; EPCIS 2.0 checked against the structure of the EPCIS
2.0 JSON schema.

HM_AUDIT_WRITE_VECTORS=DIR also writes the bundles and the genesis file the
unit tests (tests/unit/test_audit.c) use as fixtures. Python 3 standard
library only; TAP."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import BUILDDIR, Network, Tap, wait  # noqa: E402

AUDIT = os.path.join(BUILDDIR, "wallet", "hallmark-audit")


def tagged(tag, data):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()


def kv(text):
    """'key   value' / 'key: value' lines of the wallet's text output."""
    out = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            out.setdefault(parts[0].rstrip(":"), parts[1].strip())
    return out


# ----------------------------------------------------------------- EPCIS 2.0
# The structure the EPCIS 2.0 JSON schema (epcis-json-schema.json) requires.
CBV_BIZSTEPS = {"accepting", "arriving", "assembling", "collecting", "commissioning",
                "consigning", "creating_class_instance", "cycle_counting", "decommissioning",
                "departing", "destroying", "disassembling", "dispensing", "encoding",
                "entering_exiting", "holding", "inspecting", "installing", "killing",
                "loading", "other", "packing", "picking", "receiving", "removing",
                "repackaging", "repairing", "replacing", "reserving", "retail_selling",
                "sampling", "sensor_reporting", "shipping", "staging_outbound",
                "stock_taking", "stocking", "storing", "transporting", "unloading",
                "unpacking", "void_shipping"}
CBV_DISPOSITIONS = {"active", "available", "completeness_inferred", "completeness_verified",
                    "conformant", "container_closed", "container_open", "damaged",
                    "destroyed", "dispensed", "disposed", "encoded", "expired",
                    "in_progress", "in_transit", "inactive", "mismatch_instance",
                    "mismatch_class", "mismatch_quantity", "needs_replacement",
                    "no_pedigree_match", "non_conformant", "non_sellable_other",
                    "partially_dispensed", "recalled", "reserved", "retail_sold",
                    "returned", "sellable_accessible", "sellable_not_accessible",
                    "stolen", "unavailable", "unknown"}
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
TZ_RE = re.compile(r"^[+-]((0\d|1[0-3]):[0-5]\d|14:00)$")
URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def epcis_problems(doc):
    """[] when doc has the structure of an EPCIS 2.0 JSON-LD EPCISDocument."""
    p = []
    ctx = doc.get("@context")
    ctxs = ctx if isinstance(ctx, list) else [ctx]
    if "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld" not in ctxs:
        p.append("@context lacks the EPCIS 2.0 context")
    for k, v in (("type", "EPCISDocument"), ("schemaVersion", "2.0")):
        if doc.get(k) != v:
            p.append("%s is not %s" % (k, v))
    if not TIME_RE.match(str(doc.get("creationDate", ""))):
        p.append("creationDate is not a date-time")
    events = (doc.get("epcisBody") or {}).get("eventList")
    if not isinstance(events, list):
        return p + ["epcisBody.eventList is not an array"]
    last = ""
    for i, e in enumerate(events):
        w = "event %d (%s)" % (i, e.get("type"))
        if e.get("type") not in ("ObjectEvent", "AggregationEvent", "TransactionEvent",
                                 "TransformationEvent", "AssociationEvent"):
            p.append(w + ": unknown type")
        if not TIME_RE.match(str(e.get("eventTime", ""))):
            p.append(w + ": eventTime is not a date-time")
        if not TZ_RE.match(str(e.get("eventTimeZoneOffset", ""))):
            p.append(w + ": eventTimeZoneOffset missing or malformed")
        if e.get("eventTime", "") < last:
            p.append(w + ": events are not in time order")
        last = e.get("eventTime", "")
        if e.get("type") != "TransformationEvent" and \
                e.get("action") not in ("ADD", "OBSERVE", "DELETE"):
            p.append(w + ": action must be ADD, OBSERVE or DELETE")
        if e.get("type") == "ObjectEvent":
            epcs = e.get("epcList")
            if not (isinstance(epcs, list) and epcs or e.get("quantityList")):
                p.append(w + ": needs epcList or quantityList")
            for x in epcs or []:
                if not URI_RE.match(str(x)):
                    p.append(w + ": epc %r is not a URI" % x)
        if e.get("type") == "AggregationEvent":
            if e.get("action") != "OBSERVE" and not URI_RE.match(str(e.get("parentID", ""))):
                p.append(w + ": parentID required for ADD/DELETE")
            kids = e.get("childEPCs")
            if not isinstance(kids, list) or not all(URI_RE.match(str(x)) for x in kids):
                p.append(w + ": childEPCs must be an array of URIs")
        if e.get("type") == "TransactionEvent" and not e.get("bizTransactionList"):
            p.append(w + ": bizTransactionList required")
        if "bizStep" in e and e["bizStep"] not in CBV_BIZSTEPS and \
                not URI_RE.match(e["bizStep"]):
            p.append(w + ": bizStep %r is neither a CBV bizStep nor a URI" % e["bizStep"])
        if "disposition" in e and e["disposition"] not in CBV_DISPOSITIONS and \
                not URI_RE.match(e["disposition"]):
            p.append(w + ": disposition %r is neither CBV nor a URI" % e["disposition"])
        for lst, field in (("sourceList", "source"), ("destinationList", "destination")):
            for s in e.get(lst, []):
                if not (isinstance(s, dict) and s.get("type") and
                        URI_RE.match(str(s.get(field, "")))):
                    p.append(w + ": %s entries need type and %s" % (lst, field))
        for k in e:
            if ":" not in k and k not in (
                    "type", "eventTime", "eventTimeZoneOffset", "action", "epcList",
                    "quantityList", "parentID", "childEPCs", "childQuantityList", "bizStep",
                    "disposition", "readPoint", "bizLocation", "sourceList",
                    "destinationList", "bizTransactionList", "eventID", "recordTime",
                    "errorDeclaration", "sensorElementList", "persistentDisposition",
                    "ilmd", "certificationInfo"):
                p.append(w + ": %r is not an EPCIS field and has no namespace prefix" % k)
    return p


def main():
    t = Tap()
    net = Network(validators=4)
    vectors = os.environ.get("HM_AUDIT_WRITE_VECTORS")
    t0 = time.time()
    try:
        net.start()
        t.ok(net.wait_meshed(), "4 validators connect to each other")
        node = net.validators[0]
        url = "http://127.0.0.1:%d" % node.rpc_port
        cookie = os.path.join(node.dir, ".cookie")
        nodeargs = ["--node", url, "--rpc-cookie", cookie]
        last_height = [0]

        def tx(*args, expect=0):
            r = subprocess.run([os.path.join(BUILDDIR, "wallet", "hallmark-wallet")] +
                               list(args) + nodeargs + ["--wait"], capture_output=True,
                               text=True, timeout=90, env=net.env)
            out = kv(r.stdout)
            if r.returncode != expect:
                raise RuntimeError("hallmark-wallet %s: exit %d (expected %d): %s%s" %
                                   (" ".join(args), r.returncode, expect, r.stdout, r.stderr))
            if out.get("height", "").isdigit():
                last_height[0] = max(last_height[0], int(out["height"]))
            return out, r.stdout

        def settle():
            """The state of every tx so far is certified at the node's tip."""
            want = last_height[0] + 1
            return wait(lambda: node.height() >= want, 20)

        def audit(*args):
            r = subprocess.run([AUDIT] + list(args), capture_output=True, text=True,
                               timeout=60, env=net.env)
            return r.returncode, r.stdout, r.stderr

        def audit_node(*args):
            return audit(*(list(args) + nodeargs + ["--genesis", net.genesis]))

        # ---- identities: the consortium key is the genesis accreditor
        pk = json.loads(net.wallet("key", "show", "consortium", "--json"))["pubkey"]
        acc_gid = tagged("hallmark/gid", bytes.fromhex(pk) + b"\xff" * 8)[:20].hex()
        net.wallet("key", "set-gid", "consortium", acc_gid)
        gids = {}
        for name, kind, role in (("designer", "designer", "designer"),
                                 ("maker", "manufacturer", "manufacturer"),
                                 ("inspector", "inspector", "inspector"),
                                 ("customer", "operator", None)):
            net.wallet("key", "create", name)
            out, _ = tx("identity", "register", "--key", name, "--name", name.title() + " Ltd",
                        "--kind", kind)
            gids[name] = out["gid"]
            if role:
                tx("identity", "accredit", "--key", "consortium", "--gid", out["gid"],
                   "--role", role)
        t.ok(len(gids) == 4, "designer, manufacturer, inspector, customer registered; "
             "three accredited by the consortium")

        # ---- recipes and licences
        doc1 = os.path.join(net.root, "bracket-v1.step")
        doc2 = os.path.join(net.root, "housing-v1.step")
        wrong = os.path.join(net.root, "bracket-v1-tampered.step")
        with open(doc1, "wb") as f:
            f.write(b"ISO-10303-21; bracket v1, Ti-6Al-4V, SLM, acceptance: tensile>=900MPa\n")
        with open(doc2, "wb") as f:
            f.write(b"ISO-10303-21; housing v1, AlSi10Mg\n")
        with open(wrong, "wb") as f:
            f.write(b"ISO-10303-21; bracket v1, Ti-6Al-4V, SLM, acceptance: tensile>=800MPa\n")
        r1 = hashlib.sha256(open(doc1, "rb").read()).hexdigest()
        r2 = hashlib.sha256(open(doc2, "rb").read()).hexdigest()
        tx("recipe", "register", "--key", "designer", "--document", doc1, "--version", "1.0",
           "--title", "Bracket", "--material", "Ti-6Al-4V", "--process", "SLM")
        tx("recipe", "register", "--key", "designer", "--document", doc2, "--version", "1.0",
           "--title", "Housing")
        lic1 = tx("licence", "grant", "--key", "designer", "--recipe", r1, "--licensee",
                  gids["maker"], "--max-units", "5")[0]["licence_id"]
        lic2 = tx("licence", "grant", "--key", "designer", "--recipe", r2, "--licensee",
                  gids["maker"])[0]["licence_id"]
        t.ok(lic1 and lic2, "recipes registered from documents; licences granted (5 units, "
             "unlimited)")

        # ---- mints: 2 + 1 + 1 = 4 of 5 units; a mint of 2 more is refused
        def mint(batch, lic, recipe, *serials, quantity=None, expect=0):
            args = ["certificate", "mint", "--key", "maker", "--batch", batch, "--recipe",
                    recipe, "--licence", lic, "--site", "DE-MUC-1", "--result",
                    "tensile=950MPa:pass"]
            for s in serials:
                args += ["--serial", s]
            if quantity:
                args += ["--quantity", str(quantity)]
            return tx(*args, expect=expect)

        cert_a = mint("B-A", lic1, r1, "SN-A1", "SN-A2")[0]["cert_id"]
        cert_b = mint("B-B", lic1, r1, "SN-B1")[0]["cert_id"]
        cert_c = mint("B-C", lic1, r1, "GEARBOX-1")[0]["cert_id"]
        mint("B-R", lic2, r2, "SN-R2")
        _, text = mint("B-D", lic1, r1, "SN-D1", quantity=2, expect=1)
        t.ok("HM_R_LICENCE_EXHAUSTED" in text,
             "a mint beyond the licence is refused: HM_R_LICENCE_EXHAUSTED", text)

        for c in (cert_a, cert_b, cert_c):
            tx("certificate", "co-sign", "--key", "inspector", "--cert", c, "--verdict", "pass")
        t.ok(True, "the inspector co-signs the three certificates")
        settle()
        old_a1 = os.path.join(net.root, "SN-A1.old.bundle")
        rc, _, err = audit("bundle", "export", "SN-A1", "-o", old_a1, *nodeargs)
        t.ok(rc == 0 and os.path.getsize(old_a1) > 0, "an early bundle of SN-A1 is exported",
             err)

        tx("part", "transfer", "--key", "maker", "--serial", "SN-A1", "--to", gids["customer"])
        tx("part", "inspect", "--key", "inspector", "--serial", "SN-A1", "--verdict", "pass")
        tx("part", "assemble", "--key", "maker", "--parent", "GEARBOX-1", "--child", "SN-A2",
           "--child", "SN-B1")
        tx("certificate", "revoke", "--key", "maker", "--cert", cert_b, "--reason",
           "porosity out of spec")
        t.ok(settle(), "custody transfer, inspection, assembly and a recall commit; the node "
             "certifies the state after them (height %d)" % (last_height[0] + 1))

        # ---- verdicts against the node
        rc, out, err = audit_node("part", "SN-A1")
        t.ok(rc == 0 and "verdict: VALID" in out, "SN-A1 (certified, transferred) is VALID",
             out + err)
        rc2, out2, _ = audit_node("part", "SN-A1", "--max-age", "600")
        rc3, out3, _ = audit("verify", old_a1, "--genesis", net.genesis, "--max-age", "0")
        t.ok(rc2 == 0 and rc3 == 1 and "freshness limit" in out3,
             "--max-age: the current bundle is fresh; an old bundle is refused", out2 + out3)
        rc, out, err = audit_node("part", "SN-A1", "--json")
        j = json.loads(out) if rc == 0 else {}
        part = j.get("part") or {}
        t.ok(j.get("verdict") == "VALID" and part.get("holder", {}).get("gid") ==
             "did:hallmark:" + gids["customer"] and
             part.get("licence", {}).get("remaining_units") == 1 and
             part.get("certificate", {}).get("status") == "CERTIFIED" and
             part.get("certificate", {}).get("cosigns", [{}])[0].get("inspector", {})
             .get("name") == "Inspector Ltd",
             "--json: holder is the customer, certificate CERTIFIED with the inspector's "
             "co-signature, licence 1 unit left", out + err)
        rc, out, err = audit_node("part", "SN-B1")
        t.ok(rc == 1 and "verdict: RECALLED" in out and "porosity out of spec" in out,
             "SN-B1 (certificate revoked) is RECALLED, with the recall reason", out + err)
        rc, out, err = audit_node("part", "GEARBOX-1")
        t.ok(rc == 1 and "verdict: INVALID" in out and "component SN-B1 recalled" in out,
             "GEARBOX-1 (contains SN-B1) is INVALID: component SN-B1 recalled", out + err)
        rc, out, err = audit_node("part", "SN-A2")
        t.ok(rc == 0 and "verdict: VALID" in out, "SN-A2 (a good component) is VALID",
             out + err)
        rc, out, err = audit_node("part", "SN-D1")
        t.ok(rc == 1 and "verdict: INVALID" in out and "not on the ledger" in out,
             "SN-D1 (minted beyond the licence) never exists: INVALID, absence proven",
             out + err)

        # ---- offline: export, verify, same verdicts
        files = {}
        for s in ("SN-A1", "SN-B1", "GEARBOX-1", "SN-D1", "SN-R2"):
            files[s] = os.path.join(net.root, s + ".bundle")
            rc, _, err = audit("bundle", "export", s, "-o", files[s], *nodeargs)
            if rc != 0:
                t.diag(err)
        same = True
        for s, want in (("SN-A1", 0), ("SN-B1", 1), ("GEARBOX-1", 1), ("SN-D1", 1)):
            rc1, on, _ = audit_node("part", s, "--json")
            rc2, off, _ = audit("verify", files[s], "--genesis", net.genesis, "--json")
            a, b = json.loads(on), json.loads(off)
            same = same and rc1 == rc2 == want and a["verdict"] == b["verdict"] and \
                a["reasons"] == b["reasons"]
        t.ok(same, "bundle export + offline verify give the same verdicts and reasons")
        t0v = time.time()
        rc, out, _ = audit("verify", files["GEARBOX-1"], "--genesis", net.genesis, "--json")
        t.diag("offline verification of GEARBOX-1 (%d bytes, %d headers, %d txs): %.0f ms" %
               (os.path.getsize(files["GEARBOX-1"]), json.loads(out)["verified"]["headers"],
                json.loads(out)["verified"]["txs"], 1000 * (time.time() - t0v)))
        rc, out, _ = audit("verify", files["SN-A1"], "--genesis", net.genesis,
                           "--recipe-document", doc1)
        t.ok(rc == 0 and "document matches" in out, "--recipe-document with the recipe file: "
             "VALID", out)
        rc, out, _ = audit("verify", files["SN-A1"], "--genesis", net.genesis,
                           "--recipe-document", wrong)
        t.ok(rc == 1 and "recipe document hashes to" in out,
             "--recipe-document with another file: INVALID", out)
        other = os.path.join(net.root, "other-genesis.json")
        with open(net.genesis, "rb") as f:
            g = f.read()
        with open(other, "wb") as f:
            f.write(g.rstrip() + b"\n\n")
        rc, out, _ = audit("verify", files["SN-A1"], "--genesis", other)
        t.ok(rc == 1 and "bundle is for chain" in out,
             "against another network's genesis: INVALID (chain id)", out)
        with open(files["SN-A1"], "rb") as f:
            raw = bytearray(f.read())
        bad = os.path.join(net.root, "flipped.bundle")
        raw[len(raw) // 2] ^= 0x01
        with open(bad, "wb") as f:
            f.write(raw)
        rc, out, _ = audit("verify", bad, "--genesis", net.genesis)
        t.ok(rc == 1 and "verdict: INVALID" in out, "a bundle with one flipped bit: INVALID",
             out)

        # ---- the provenance graph and EPCIS
        dot = os.path.join(net.root, "gearbox.dot")
        rc, _, err = audit("verify", files["GEARBOX-1"], "--genesis", net.genesis, "--dot", dot)
        text = open(dot).read() if os.path.exists(dot) else ""
        t.ok(rc == 1 and text.startswith("digraph provenance") and
             '"part:GEARBOX-1" -> "part:SN-B1" [label="component"]' in text and
             "cert:" + cert_b in text and "recipe:" + r1 in text and "licence:" + lic1 in text,
             "--dot writes the graph: parts, certificates, licence, recipe, components", err)
        rc, out, err = audit("epcis", "SN-A1", "--genesis", net.genesis, *nodeargs)
        doc = json.loads(out) if rc == 0 else {}
        evs = doc.get("epcisBody", {}).get("eventList", [])
        steps = [(e["type"], e.get("bizStep")) for e in evs]
        t.ok(rc == 0 and not epcis_problems(doc) and
             steps == [("ObjectEvent", "commissioning"), ("ObjectEvent", "inspecting"),
                       ("ObjectEvent", "shipping"), ("ObjectEvent", "inspecting")],
             "epcis SN-A1: commissioning, inspection (co-sign), shipping, inspection; "
             "EPCIS 2.0 structure", "%s %s %s" % (epcis_problems(doc), steps, err))
        rc, out, err = audit("epcis", "GEARBOX-1", "--bundle", files["GEARBOX-1"],
                             "--genesis", net.genesis)
        doc = json.loads(out) if rc == 0 else {}
        evs = doc.get("epcisBody", {}).get("eventList", [])
        agg = [e for e in evs if e["type"] == "AggregationEvent"]
        t.ok(rc == 0 and not epcis_problems(doc) and len(agg) == 1 and
             agg[0]["parentID"] == "https://hallmark.example/part/GEARBOX-1" and
             agg[0]["childEPCs"] == ["https://hallmark.example/part/SN-A2",
                                     "https://hallmark.example/part/SN-B1"] and
             any(e.get("disposition") == "recalled" for e in evs),
             "epcis GEARBOX-1 from a bundle file: AggregationEvent (assembling) and the "
             "recall; EPCIS 2.0 structure", "%s %s" % (epcis_problems(doc), err))

        # ---- CLI conventions
        rc1, _, _ = audit("--help")
        rc2, _, _ = audit("part", "--help")
        rc3, _, err3 = audit("verify", files["SN-A1"])
        rc4, _, err4 = audit("part", "SN-A1", "--genesis", net.genesis, "--node",
                             "http://127.0.0.1:1")
        t.ok(rc1 == 0 and rc2 == 0 and rc3 == 2 and "--genesis" in err3 and rc4 == 2,
             "--help exits 0; a missing --genesis and an unreachable node exit 2",
             err3 + err4)

        if vectors:
            os.makedirs(vectors, exist_ok=True)
            shutil.copy(net.genesis, os.path.join(vectors, "genesis.json"))
            for s, path in files.items():
                shutil.copy(path, os.path.join(vectors, s + ".bundle"))
            shutil.copy(old_a1, os.path.join(vectors, "SN-A1.old.bundle"))
            with open(os.path.join(vectors, "README"), "w") as f:
                f.write("Fixtures of tests/unit/test_audit.c, written by "
                        "tests/functional/test_story.py\n(HM_AUDIT_WRITE_VECTORS=DIR). "
                        "recipe %s, licence %s,\ncertificates A %s, B (revoked) %s, "
                        "C %s.\n" % (r1, lic1, cert_a, cert_b, cert_c))
            t.diag("vectors written to " + vectors)
    except Exception as e:  # a failed step: report it, keep the TAP stream valid
        t.ok(False, "the story runs to the end", repr(e))
        for n in net.nodes():
            t.diag(n.log_text()[-2000:])
    finally:
        net.close()
    t.diag("story took %.1f s" % (time.time() - t0))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
