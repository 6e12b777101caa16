#!/usr/bin/env python3
"""Functional test of hallmark-wallet, offline (issue 6, wallet half).

Drives the real binary with no node: keys (create, list, show, export,
import, passwd, set-gid), offline signing of every transaction kind with
--nonce and --genesis, decode, cosign, usage errors (exit 2) and wrong or
tampered passphrase/keystore (exit 2 with a clear message). The node side
(submit, --wait, queries) is covered once hallmarkd's API is testable
end to end; here only "no node" is checked to fail cleanly.

Python 3 standard library only. Emits TAP. Finds the binary through
HM_BUILDDIR (set by `make check`). The wallet runs in its own session, so it
has no controlling terminal and must never prompt."""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile

BUILDDIR = os.environ.get("HM_BUILDDIR", os.getcwd())
WALLET = os.path.join(BUILDDIR, "wallet", "hallmark-wallet")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hmnet import Tap, free_ports  # noqa: E402  (shared TAP and port helpers)

T = Tap()
ok = T.ok


TMP = tempfile.mkdtemp(prefix="hm-wallet-func-")
KS = os.path.join(TMP, "ks")
ENV = dict(os.environ)
for v in ("HALLMARK_PASSPHRASE", "HALLMARK_NEW_PASSPHRASE", "HALLMARK_NODE",
          "HALLMARK_RPC_TOKEN"):
    ENV.pop(v, None)
ENV["HALLMARK_WALLET_DIR"] = KS
ENV["HALLMARK_TEST_FAST_KDF"] = "1"  # test only: weak scrypt to keep this fast


def path(name):
    return os.path.join(TMP, name)


def write(name, data):
    p = path(name)
    with open(p, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return p


def run(*args, env=None):
    return subprocess.run([WALLET] + list(args), capture_output=True, text=True, timeout=60,
                          env=env or ENV, stdin=subprocess.DEVNULL, start_new_session=True)


def show(r):
    return "exit %d\nstdout: %s\nstderr: %s" % (r.returncode, r.stdout[-1500:], r.stderr[-1500:])


def run_json(*args):
    r = run(*args)
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        return r, None


PASS = write("pass", "correct horse battery staple\n")
BADPASS = write("badpass", "not the passphrase\n")
GENESIS = write("genesis.json", '{"chain_name": "wallet-test", "validators": []}\n')
OTHER_GENESIS = write("other.json", '{"chain_name": "other"}\n')
KEYARGS = ["--passphrase-file", PASS]


def main():
    if not os.access(WALLET, os.X_OK):
        print("1..0 # SKIP %s not built" % WALLET)
        return 0

    # ------------------------------------------------------------ help, usage
    r = run("--help")
    ok(r.returncode == 0 and "identity register" in r.stdout and "sign GROUP ACTION" in r.stdout,
       "--help lists the subcommands", show(r))
    r = run()
    ok(r.returncode == 2, "no arguments: exit 2", show(r))
    r = run("frobnicate")
    ok(r.returncode == 2 and "unknown command" in r.stderr, "unknown command: exit 2", show(r))
    subs = [["key", "create"], ["key", "list"], ["key", "show"], ["key", "import"],
            ["key", "export"], ["key", "passwd"], ["key", "set-gid"], ["cosign"], ["decode"],
            ["submit"], ["query", "identity"], ["query", "recipe"], ["query", "licence"],
            ["query", "certificate"], ["query", "part"], ["query", "tx"], ["status"],
            ["chain-id"], ["identity", "register"], ["identity", "rotate"],
            ["identity", "accredit"], ["identity", "suspend"], ["identity", "revoke"],
            ["recipe", "register"], ["recipe", "transfer"], ["recipe", "deprecate"],
            ["licence", "grant"], ["licence", "revoke"], ["certificate", "mint"],
            ["certificate", "add-parts"], ["certificate", "co-sign"], ["certificate", "revoke"],
            ["part", "transfer"], ["part", "assemble"], ["part", "inspect"], ["part", "scrap"],
            ["validators", "update"], ["sign", "part", "scrap"]]
    bad_help = []
    for s in subs:
        r = run(*(s + ["--help"]))
        if r.returncode != 0 or "Usage: hallmark-wallet" not in r.stdout or "--help" not in r.stdout:
            bad_help.append("%s: %s" % (" ".join(s), show(r)))
    ok(not bad_help, "--help on all %d subcommands exits 0 with usage" % len(subs),
       "\n".join(bad_help))
    r = run("sign", "part", "scrap", "--help")
    ok("--out" in r.stdout and "--nonce" in r.stdout, "sign --help documents --out and --nonce",
       show(r))

    # ------------------------------------------------------------------ keys
    r = run("key", "list")
    ok(r.returncode == 2 and "does not exist" in r.stderr, "key list before any key: exit 2",
       show(r))
    for name in ("alice", "bob", "carol", "dave"):
        r = run("key", "create", name, *KEYARGS)
        ok(r.returncode == 0 and "pubkey:" in r.stdout, "key create %s" % name, show(r))
    r = run("key", "create", "alice", *KEYARGS)
    ok(r.returncode == 2 and "already exists" in r.stderr, "duplicate key name: exit 2", show(r))
    r = run("key", "create", "../evil", *KEYARGS)
    ok(r.returncode == 2 and "invalid key name" in r.stderr, "bad key name: exit 2", show(r))
    r = run("key", "create", "eve")
    ok(r.returncode == 2 and "no passphrase given" in r.stderr,
       "no passphrase source and no terminal: exit 2", show(r))
    env = dict(ENV, HALLMARK_PASSPHRASE="from-env")
    r = run("key", "create", "envkey", env=env)
    ok(r.returncode == 0, "passphrase from HALLMARK_PASSPHRASE", show(r))
    mode_dir = stat.S_IMODE(os.stat(KS).st_mode)
    modes = [stat.S_IMODE(os.stat(os.path.join(KS, f)).st_mode) for f in os.listdir(KS)]
    ok(mode_dir == 0o700 and modes and all(m == 0o600 for m in modes),
       "keystore dir 0700, files 0600", "dir %o files %s" % (mode_dir, [oct(m) for m in modes]))
    r, js = run_json("key", "list", "--json")
    ok(r.returncode == 0 and js is not None and
       [k["name"] for k in js] == ["alice", "bob", "carol", "dave", "envkey"],
       "key list --json: sorted names", show(r))
    pub = {k["name"]: k["pubkey"] for k in (js or [])}
    r, js = run_json("key", "show", "alice", "--json")
    ok(r.returncode == 0 and js and js["pubkey"] == pub.get("alice") and "gid" not in js,
       "key show --json: pubkey, no gid yet", show(r))
    r = run("key", "show", "nobody")
    ok(r.returncode == 2 and "no key named" in r.stderr, "key show unknown: exit 2", show(r))

    # ---------------------------------------------------------- chain id
    r = run("chain-id", "--genesis", GENESIS)
    chain = r.stdout.strip()
    ok(r.returncode == 0 and len(chain) == 64, "chain-id --genesis", show(r))
    r = run("chain-id", "--genesis", path("missing.json"))
    ok(r.returncode == 2 and "no such file" in r.stderr, "chain-id of a missing file: exit 2",
       show(r))

    # ------------------------------------------------------ sign every kind
    doc = write("recipe.txt", "bracket v2, Ti-6Al-4V, SLM\n")
    serials = write("serials.txt", "# batch 7\nSN-3\nSN-4\n")
    report = write("report.pdf", b"%PDF-1.7 report")
    h1 = "11" * 32
    g1 = "did:hallmark:" + "ab" * 20
    common = ["--nonce", "0", "--genesis", GENESIS] + KEYARGS
    kinds = [
        ("register_identity", ["identity", "register", "--name", "Acme GmbH", "--kind",
                               "manufacturer", "--external-id", "gs1-gln:0614141000005",
                               "--country", "DE"]),
        ("rotate_keys", ["identity", "rotate", "--gid", g1, "--controller-key", pub["bob"]]),
        ("accredit", ["identity", "accredit", "--gid", g1, "--role", "manufacturer",
                      "--capability", "process:SLM", "--valid-until", "2027-01-01"]),
        ("suspend", ["identity", "suspend", "--gid", g1, "--reason", "audit"]),
        ("revoke_identity", ["identity", "revoke", "--gid", g1, "--reason", "fraud"]),
        ("register_recipe", ["recipe", "register", "--document", doc, "--version", "2",
                             "--title", "Bracket", "--process", "SLM"]),
        ("transfer_recipe", ["recipe", "transfer", "--recipe", h1, "--to", g1]),
        ("deprecate_recipe", ["recipe", "deprecate", "--recipe", h1, "--reason", "old"]),
        ("grant_licence", ["licence", "grant", "--recipe", h1, "--licensee", g1, "--max-units",
                           "100", "--site", "DE-MUC-1"]),
        ("revoke_licence", ["licence", "revoke", "--licence", h1, "--reason", "breach"]),
        ("mint_certificate", ["certificate", "mint", "--batch", "B-7", "--recipe", h1,
                              "--licence", h1, "--serial", "SN-1", "--serial", "SN-2",
                              "--serials-file", serials, "--report-file", report, "--result",
                              "tensile=950MPa:pass", "--produced-at", "2026-11-20"]),
        ("add_parts", ["certificate", "add-parts", "--cert", h1, "--serial", "SN-9"]),
        ("cosign_certificate", ["certificate", "co-sign", "--cert", h1, "--verdict", "pass"]),
        ("revoke_certificate", ["certificate", "revoke", "--cert", h1, "--reason", "recall"]),
        ("transfer_custody", ["part", "transfer", "--serial", "SN-1", "--to", g1]),
        ("assemble", ["part", "assemble", "--parent", "P-1", "--child", "SN-1"]),
        ("record_inspection", ["part", "inspect", "--serial", "SN-1", "--verdict", "fail"]),
        ("scrap", ["part", "scrap", "--serial", "SN-2", "--reason", "cracked"]),
        ("update_validators", ["validators", "update", "--remove", pub["dave"],
                               "--effective-height", "100"]),
    ]
    decoded = {}
    for kind, args in kinds:
        out = path(kind + ".tx")
        r = run("sign", *args, "--key", "alice", "--out", out, *common)
        if not ok(r.returncode == 0 and os.path.exists(out), "sign %s offline" % kind, show(r)):
            continue
        with open(out) as f:
            text = f.read()
        r, js = run_json("decode", out, "--json", "--genesis", GENESIS)
        good = (r.returncode == 0 and js is not None and js["kind"] == kind and
                js["verified"] is True and js["chain_id"] == chain and
                js["signer"] == pub["alice"] and js["nonce"] == 0 and
                text.endswith("\n") and text.strip() == text.strip().lower())
        ok(good, "decode %s: kind, chain, signer, nonce, signature" % kind, show(r))
        decoded[kind] = js
    js = decoded.get("register_identity") or {}
    body = js.get("body") or {}
    ok(body.get("name") == "Acme GmbH" and body.get("kind") == "KIND_MANUFACTURER" and
       body.get("external_ids") == [{"scheme": "gs1-gln", "value": "0614141000005"}] and
       js.get("actor") == "", "register body fields equal the inputs; no actor", js)
    r, ks = run_json("key", "show", "alice", "--json")
    ok(ks and js and ks.get("gid") == js.get("gid") and ks.get("did") == js.get("did"),
       "identity register recorded the new GID for the key", show(r))
    js = decoded.get("mint_certificate") or {}
    body = js.get("body") or {}
    import hashlib
    ok(body.get("part_serials") == ["SN-1", "SN-2", "SN-3", "SN-4"] and body.get("quantity") == 4
       and body.get("report_hash") == hashlib.sha256(b"%PDF-1.7 report").hexdigest()
       and len(js.get("cert_id", "")) == 64 and js.get("actor") == (ks or {}).get("gid"),
       "mint: serials from args and file, quantity, report hash, cert id, actor = key's GID",
       js)
    js = decoded.get("register_recipe") or {}
    with open(doc, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    ok((js.get("body") or {}).get("recipe_hash") == want, "recipe hash = SHA-256 of --document")
    js = decoded.get("grant_licence") or {}
    ok((js.get("body") or {}).get("max_units") == 100 and len(js.get("licence_id", "")) == 64,
       "grant: max units and licence id", js)
    r = run("decode", path("scrap.tx"))
    ok(r.returncode == 0 and "kind: scrap" in r.stdout, "decode: human output", show(r))

    # --------------------------------------------------------------- cosign
    vu = path("update_validators.tx")
    r = run("cosign", vu, "--key", "bob", "--out", path("vu2.tx"), "--genesis", GENESIS, *KEYARGS)
    ok(r.returncode == 0, "cosign by bob", show(r))
    r = run("cosign", path("vu2.tx"), "--key", "carol", "--out", path("vu3.tx"), *KEYARGS)
    ok(r.returncode == 0, "cosign by carol", show(r))
    r, js = run_json("decode", path("vu3.tx"), "--json", "--genesis", GENESIS)
    ok(r.returncode == 0 and js and js["verified"] and
       [c["pubkey"] for c in js["cosignatures"]] == [pub["bob"], pub["carol"]] and
       js["txid"] == decoded.get("update_validators", {}).get("txid"),
       "two co-signatures verify; txid unchanged", show(r))
    r = run("cosign", path("vu3.tx"), "--key", "bob", "--out", path("vu4.tx"), *KEYARGS)
    ok(r.returncode == 2 and "already co-signed" in r.stderr, "second cosign by bob: exit 2",
       show(r))
    r = run("cosign", vu, "--key", "alice", "--out", path("vu4.tx"), *KEYARGS)
    ok(r.returncode == 2 and "signer" in r.stderr, "signer cannot co-sign: exit 2", show(r))
    r = run("cosign", vu, "--key", "bob", "--out", path("vu4.tx"), "--genesis", OTHER_GENESIS,
            *KEYARGS)
    ok(r.returncode == 2 and "another chain" in r.stderr, "cosign for the wrong chain: exit 2",
       show(r))

    # ------------------------------------------------------ decode failures
    r = run("decode", vu, "--genesis", OTHER_GENESIS)
    ok(r.returncode == 2 and "another chain" in r.stderr, "decode --genesis other: exit 2",
       show(r))
    write("garbage.tx", "0a0b0c\n")
    r = run("decode", path("garbage.tx"))
    ok(r.returncode == 2 and "not a valid signed transaction" in r.stderr,
       "decode garbage: exit 2", show(r))
    write("nothex.tx", "hello world\n")
    r = run("decode", path("nothex.tx"))
    ok(r.returncode == 2 and "hex" in r.stderr, "decode non-hex: exit 2", show(r))
    with open(vu) as f:
        t = bytearray(bytes.fromhex(f.read().strip()))
    t[-5] ^= 1  # inside the signature
    write("flipped.tx", t.hex() + "\n")
    r = run("decode", path("flipped.tx"), "--genesis", GENESIS)
    ok(r.returncode == 2 and "signature" in r.stderr, "decode a tampered signature: exit 2",
       show(r))

    # -------------------------------------------------------- usage errors
    usage = [
        (["sign", "part", "scrap", "--serial", "S", "--out", path("x.tx"), "--genesis", GENESIS,
          "--nonce", "1"] + KEYARGS, "--key is required"),
        (["sign", "part", "scrap", "--key", "alice", "--serial", "S", "--out", path("x.tx"),
          "--genesis", GENESIS] + KEYARGS, "needs --nonce"),
        (["sign", "identity", "suspend", "--key", "alice", "--gid", "1234", "--out",
          path("x.tx")] + common, "--gid"),
        (["sign", "part", "scrap", "--key", "alice", "--serial", "S", "--bogus", "--out",
          path("x.tx")] + common, "unknown option --bogus"),
        (["sign", "part", "teleport", "--key", "alice"], "unknown transaction kind"),
        (["sign", "licence", "grant", "--key", "alice", "--recipe", h1, "--licensee", g1,
          "--max-units", "lots", "--out", path("x.tx")] + common, "--max-units"),
        (["sign", "certificate", "mint", "--key", "alice", "--batch", "B", "--recipe", h1,
          "--serials-file", path("none.txt"), "--out", path("x.tx")] + common, "no such file"),
        (["sign", "part", "scrap", "--key", "alice", "--serial", "S", "--nonce", "-1",
          "--genesis", GENESIS, "--out", path("x.tx")] + KEYARGS, "--nonce"),
        (["sign", "part", "scrap", "--key", "alice", "--serial", "S", "--chain-id", "zz",
          "--nonce", "1", "--out", path("x.tx")] + KEYARGS, "--chain-id"),
        (["key", "show"], "missing argument"),
        (["key", "show", "a", "b"], "unexpected argument"),
        (["identity"], ""),
        (["identity", "explode"], "unknown subcommand"),
    ]
    for args, want in usage:
        r = run(*args)
        ok(r.returncode == 2 and want in r.stderr, "usage error exits 2: %s" % want, show(r))

    # ---------------------------------------------- wrong or tampered keys
    r = run("sign", "part", "scrap", "--key", "alice", "--serial", "S", "--out", path("x.tx"),
            "--nonce", "1", "--genesis", GENESIS, "--passphrase-file", BADPASS)
    ok(r.returncode == 2 and "wrong passphrase" in r.stderr and not os.path.exists(path("x.tx")),
       "wrong passphrase: exit 2, clear message, no file", show(r))
    keyfile = os.path.join(KS, "carol.key")
    with open(keyfile, "rb") as f:
        img = bytearray(f.read())
    img[60] ^= 0x10
    with open(keyfile, "wb") as f:
        f.write(img)
    r = run("sign", "part", "scrap", "--key", "carol", "--serial", "S", "--out", path("x.tx"),
            *common)
    ok(r.returncode == 2 and "tampered" in r.stderr, "tampered key file: exit 2", show(r))
    with open(os.path.join(KS, "dave.json")) as f:
        pubfile = json.load(f)
    pubfile["pubkey"] = pub["bob"]
    with open(os.path.join(KS, "dave.json"), "w") as f:
        json.dump(pubfile, f)
    r = run("sign", "part", "scrap", "--key", "dave", "--serial", "S", "--out", path("x.tx"),
            *common)
    ok(r.returncode == 2 and "does not match" in r.stderr, "swapped public file: exit 2", show(r))

    # ------------------------------------------------- export / import
    r = run("key", "export", "bob", "--out", path("bob.sealed"))
    ok(r.returncode == 0 and stat.S_IMODE(os.stat(path("bob.sealed")).st_mode) == 0o600,
       "key export (sealed, 0600)", show(r))
    r, js = run_json("key", "import", "bob2", path("bob.sealed"), "--json", *KEYARGS)
    ok(r.returncode == 0 and js and js["pubkey"] == pub["bob"], "key import sealed", show(r))
    r = run("key", "import", "bob3", path("bob.sealed"), "--passphrase-file", BADPASS)
    ok(r.returncode == 2 and "wrong passphrase" in r.stderr, "import with a wrong passphrase",
       show(r))
    r = run("key", "export", "bob", "--raw", "--out", path("bob.raw"), *KEYARGS)
    ok(r.returncode == 0 and "UNENCRYPTED" in r.stderr, "key export --raw warns", show(r))
    r, js = run_json("key", "import", "bob4", path("bob.raw"), "--json", *KEYARGS)
    ok(r.returncode == 0 and js and js["pubkey"] == pub["bob"], "key import raw hex", show(r))
    write("junk.key", "this is not a key\n")
    r = run("key", "import", "junk", path("junk.key"), *KEYARGS)
    ok(r.returncode == 2 and "neither a sealed key" in r.stderr, "import junk: exit 2", show(r))

    # ---------------------------------------------------------- passwd
    newpass = write("newpass", "a new passphrase\n")
    r = run("key", "passwd", "bob", "--new-passphrase-file", newpass, *KEYARGS)
    ok(r.returncode == 0, "key passwd", show(r))
    r = run("sign", "part", "scrap", "--key", "bob", "--serial", "S", "--out", path("b.tx"),
            *common)
    ok(r.returncode == 2 and "wrong passphrase" in r.stderr, "old passphrase no longer works",
       show(r))
    r = run("sign", "part", "scrap", "--key", "bob", "--serial", "S", "--out", path("b.tx"),
            "--nonce", "0", "--genesis", GENESIS, "--passphrase-file", newpass)
    ok(r.returncode == 0, "new passphrase works", show(r))

    # ---------------------------------------------------------- set-gid
    r, js = run_json("key", "set-gid", "bob", "did:hallmark:" + "cd" * 20, "--json")
    ok(r.returncode == 0 and js and js["gid"] == "cd" * 20, "key set-gid", show(r))
    r = run("sign", "part", "scrap", "--key", "bob", "--serial", "S", "--out", path("b2.tx"),
            "--nonce", "1", "--genesis", GENESIS, "--passphrase-file", newpass)
    r2, js = run_json("decode", path("b2.tx"), "--json")
    ok(r.returncode == 0 and js and js["actor"] == "cd" * 20, "actor defaults to the set GID",
       show(r) + show(r2))
    r = run("key", "set-gid", "bob", "--clear")
    ok(r.returncode == 0 and "none recorded" in r.stdout, "key set-gid --clear", show(r))

    # ------------------------------------------------ no node: clean errors
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    node = "http://127.0.0.1:%d" % port
    r = run("submit", path("scrap.tx"), "--node", node)
    ok(r.returncode == 2 and "cannot connect" in r.stderr, "submit without a node: exit 2",
       show(r))
    r = run("part", "scrap", "--key", "alice", "--serial", "S", "--node", node, *KEYARGS)
    ok(r.returncode == 2 and "cannot connect" in r.stderr,
       "a tx subcommand without a node (nonce needed): exit 2", show(r))
    r = run("query", "licence", h1, "--node", node)
    ok(r.returncode == 2 and "cannot connect" in r.stderr, "query without a node: exit 2",
       show(r))
    r = run("query", "identity", "xyz", "--node", node)
    ok(r.returncode == 2 and "GID" in r.stderr, "query with a bad id: exit 2", show(r))
    r = run("status", "--node", "https://127.0.0.1:1")
    ok(r.returncode == 2 and "https is not supported" in r.stderr, "https refused clearly",
       show(r))

    print("1..%d" % T.n)
    return 1 if T.failed else 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
