/* node/crashpoint — named crash sites for fault-injection tests (issue 9).
 *
 * With HM_TEST_HOOKS compiled in (configure's default; --disable-test-hooks
 * leaves them out) and the environment variable HM_CRASH_AT=NAME[:N] set,
 * the N-th time (default the first) the site NAME is reached the process
 * writes "crashpoint NAME hit" to stderr and _exit(99)s on the spot: no
 * destructors, no flush of anything but that line, as a power cut would.
 * Without the variable a site costs one branch. (HM_TEST_HOOKS comes from
 * configure as a -D flag: node/config.h shadows autoconf's config.h here.) Sites used by hallmarkd:
 *   vote-before-persist   the core signed votes; they are not yet on disk
 *   persist-before-send   votes are on disk; nothing was sent
 *   viewchange-persisted  a VIEW-CHANGE is on disk, not yet sent
 *   block-before-commit   a block executed; its batch is not written
 *   block-after-commit    a block's batch is written; the core not told
 *   catchup-block         a fetched certified block, before it is applied
 * Depends on nothing but libc. */
#ifndef HM_NODE_CRASHPOINT_H
#define HM_NODE_CRASHPOINT_H

#ifdef HM_TEST_HOOKS
void crashpoint_hit(const char *name);
#define CRASHPOINT(name) crashpoint_hit(name)
#else
#define CRASHPOINT(name) ((void)0)
#endif

#endif
