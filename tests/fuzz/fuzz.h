/* fuzz.h - what the harnesses of tests/fuzz share.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput, libFuzzer's entry
 * point, and is built twice: with clang and -fsanitize=fuzzer as a fuzzer
 * (MSVC_FUZZ=ON, scripts/fuzz.sh), and in every build with replay.c's
 * main() as fuzz_replay_<name>, a ctest case that runs the committed seed
 * corpus and crash regressions through the same function.  A harness
 * keeps its set-up (handles, keys, temporary directories) in statics made
 * on the first call, and reports a broken invariant with FUZZ_CHECK, which
 * aborts: libFuzzer keeps the input as a crash, the replay fails.
 */
#ifndef MSVC_TESTS_FUZZ_H
#define MSVC_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,     \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* A NUL-terminated heap copy of data[0..size); aborts without memory (a
 * harness has nothing better to do). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  FUZZ_CHECK(s != NULL);
  if (size > 0)
    memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* A private directory under $TMPDIR (or /tmp), removed with everything in
 * it at exit; aborts when it cannot be made. */
const char *fuzz_tempdir(const char *name);

#endif
