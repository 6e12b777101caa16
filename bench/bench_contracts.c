/* bench/bench_contracts — contract txs applied per second on the
 * LevelDB store (issue 3 target: >= 20,000 mint/transfer txs/s on one core,
 * excluding signature checks). Prints figures; asserts nothing.
 *
 * Workload: genesis, one accredited manufacturer with an unlimited licence
 * and a customer; then N MintCertificate txs (quantity 1, one serial each)
 * and N TransferCustody txs (one serial each), in blocks of B txs. Txs are
 * built and decoded before timing (signatures are dummies: contracts never
 * check them; hm_tx_verify runs before contracts in the node). Timed per
 * block: contracts_apply_block (incl. the SMT root) and hm_state_commit
 * (the store's commit: the nodes, then one WriteBatch, synced unless
 * --nosync).
 *
 * A program of bench/ (its build rule sits in contracts/include.am with the
 * contracts issue's other rules): it links contracts/ and node/libstorage.a.
 * Usage: hallmark-bench-contracts [--txs N] [--block B] [--nosync] [--dir D] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "contracts/testkit.h"
#include "node/storage.h"

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != HM_OK) {                                                                        \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, hm_errname(rc_));        \
            exit(2);                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    double apply, commit, cpu;
    size_t txs, rejected;
} phase_t;

static void run_phase(ctk_world_t *w, hm_tx_t **txs, size_t n, size_t block, bool sync, phase_t *p)
{
    uint32_t *codes = calloc(block, sizeof *codes);
    uint8_t root[32];
    memset(p, 0, sizeof *p);
    double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    for (size_t i = 0; i < n; i += block) {
        size_t m = n - i < block ? n - i : block;
        double t0 = now_s(CLOCK_MONOTONIC);
        CHECK(contracts_apply_block(w->st, codes, root, &w->blk, txs + i, m));
        double t1 = now_s(CLOCK_MONOTONIC);
        CHECK(hm_state_commit(w->st, sync));
        double t2 = now_s(CLOCK_MONOTONIC);
        p->apply += t1 - t0;
        p->commit += t2 - t1;
        for (size_t j = 0; j < m; j++)
            p->rejected += codes[j] != HM_R_OK;
        w->blk.height++;
        w->blk.time_ms += 1000;
    }
    p->cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    p->txs = n;
    free(codes);
}

static void report(const char *name, const phase_t *p)
{
    double wall = p->apply + p->commit;
    printf("%-9s %8zu txs  rejected %zu  apply+root %7.3f s  commit %6.3f s  "
           "=> %8.0f tx/s (apply+root only: %8.0f tx/s; thread CPU: %8.0f tx/s)\n",
           name, p->txs, p->rejected, p->apply, p->commit, (double)p->txs / wall,
           (double)p->txs / p->apply, (double)p->txs / p->cpu);
}

int main(int argc, char **argv)
{
    size_t n = 100000, block = 2000;
    bool sync = true;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--txs") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--block") && i + 1 < argc)
            block = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--nosync"))
            sync = false;
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--txs N] [--block B] [--nosync] [--dir D]\n", argv[0]);
            return 2;
        }
    }
    if (n == 0 || block == 0)
        return 2;
    char tmp[] = "/tmp/hm-bench-contracts-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 2;
    }
    hm_store_t *store = NULL;
    CHECK(store_open(&store, dir, NULL));
    ctk_world_t w;
    CHECK(ctk_world_init(&w, store, false));
    ctk_key_t acc, mfr, cust, val;
    CHECK(ctk_key(&acc, 1));
    CHECK(ctk_key(&mfr, 2));
    CHECK(ctk_key(&cust, 3));
    CHECK(ctk_key(&val, 4));
    ctk_key_t *accs[] = {&acc};
    const ctk_key_t *vals[] = {&val};
    CHECK(ctk_genesis(&w, accs, 1, vals, 1));
    uint32_t code;
    uint8_t recipe[32] = {1}, lic[32];
    Hallmark__Role roles[] = {HALLMARK__ROLE__ROLE_MANUFACTURER};
    CHECK(ctk_register(&w, &code, &mfr, "maker", HALLMARK__IDENTITY_KIND__KIND_MANUFACTURER));
    CHECK(ctk_register(&w, &code, &cust, "customer", HALLMARK__IDENTITY_KIND__KIND_OPERATOR));
    CHECK(ctk_accredit(&w, &code, &acc, mfr.gid, roles, 1, 0));
    CHECK(ctk_recipe(&w, &code, &mfr, recipe, NULL));
    CHECK(ctk_grant(&w, &code, lic, &mfr, recipe, mfr.gid, 0, 0, 0));
    if (code != HM_R_OK) {
        fprintf(stderr, "setup rejected: %s\n", contracts_result_name(code));
        return 2;
    }
    CHECK(ctk_commit(&w, NULL));

    /* Build every tx first: not timed. */
    hm_tx_t **mints = calloc(n, sizeof *mints), **moves = calloc(n, sizeof *moves);
    for (size_t i = 0; i < n; i++) {
        char batch[32], serial[32];
        char *s[] = {serial};
        snprintf(batch, sizeof batch, "LOT-%zu", i);
        snprintf(serial, sizeof serial, "SN-%08zu", i);
        Hallmark__Tx tx;
        Hallmark__MintCertificate m = HALLMARK__MINT_CERTIFICATE__INIT;
        m.batch_id = batch;
        m.recipe_hash = (ProtobufCBinaryData){32, recipe};
        m.licence_id = (ProtobufCBinaryData){32, lic};
        m.quantity = 1;
        m.part_serials = s;
        m.n_part_serials = 1;
        ctk_tx(&w, &tx, &mfr, &mfr);
        tx.body_case = HALLMARK__TX__BODY_MINT_CERTIFICATE;
        tx.mint_certificate = &m;
        CHECK(ctk_build(&w, &mints[i], &tx, &mfr, NULL, 0));
    }
    for (size_t i = 0; i < n; i++) {
        char serial[32];
        char *s[] = {serial};
        snprintf(serial, sizeof serial, "SN-%08zu", i);
        Hallmark__Tx tx;
        Hallmark__TransferCustody t = HALLMARK__TRANSFER_CUSTODY__INIT;
        t.serials = s;
        t.n_serials = 1;
        t.to = (ProtobufCBinaryData){20, cust.gid};
        ctk_tx(&w, &tx, &mfr, &mfr);
        tx.body_case = HALLMARK__TX__BODY_TRANSFER_CUSTODY;
        tx.transfer_custody = &t;
        CHECK(ctk_build(&w, &moves[i], &tx, &mfr, NULL, 0));
    }

    printf("hallmark-bench-contracts: LevelDB store in %s, %zu txs per phase, blocks of %zu, "
           "commit %s\n",
           dir, n, block, sync ? "synced" : "not synced");
    phase_t pm, pt;
    run_phase(&w, mints, n, block, sync, &pm);
    report("mint", &pm);
    run_phase(&w, moves, n, block, sync, &pt);
    report("transfer", &pt);
    phase_t all = {pm.apply + pt.apply, pm.commit + pt.commit, pm.cpu + pt.cpu, pm.txs + pt.txs,
                   pm.rejected + pt.rejected};
    report("both", &all);

    for (size_t i = 0; i < n; i++) {
        hm_tx_free(mints[i]);
        hm_tx_free(moves[i]);
    }
    free(mints);
    free(moves);
    ctk_world_free(&w);
    hm_store_free(store);
    if (dir == tmp) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmp);
    }
    return all.rejected ? 1 : 0;
}
