/* fuzz/fuzz.h — shared by harnesses. A harness defines only
 * LLVMFuzzerTestOneInput; HM_FUZZ_CHECK states an invariant whose failure is
 * a bug (abort, so libFuzzer and the replay both report it). */
#ifndef HM_FUZZ_FUZZ_H
#define HM_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HM_FUZZ_CHECK(cond)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
