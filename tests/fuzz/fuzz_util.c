/* fuzz_util.c - helpers of fuzz.h that need more than a header: the
 * harnesses' private temporary directories, made on demand and removed
 * (with the SQLite files and setting files the harnesses left there) when
 * the process exits normally, which libFuzzer does at the end of a timed
 * run and the replay driver at the end of its inputs.
 */
#include <ftw.h>
#include <unistd.h>

#include "fuzz.h"

#define FUZZ_MAX_TEMPDIRS 8

static char *tempdirs[FUZZ_MAX_TEMPDIRS];
static size_t ntempdirs;

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  (void)remove(path); /* best effort: keep going */
  return 0;
}

static void remove_tempdirs(void) {
  for (size_t i = 0; i < ntempdirs; i++) {
    nftw(tempdirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(tempdirs[i]);
  }
  ntempdirs = 0;
}

const char *fuzz_tempdir(const char *name) {
  const char *base = getenv("TMPDIR");
  char path[4096];
  FUZZ_CHECK(ntempdirs < FUZZ_MAX_TEMPDIRS);
  snprintf(path, sizeof(path), "%s/msvc-fuzz-%s-XXXXXX",
           base != NULL && base[0] != '\0' ? base : "/tmp", name);
  FUZZ_CHECK(mkdtemp(path) != NULL);
  if (ntempdirs == 0)
    atexit(remove_tempdirs);
  tempdirs[ntempdirs] = strdup(path);
  FUZZ_CHECK(tempdirs[ntempdirs] != NULL);
  return tempdirs[ntempdirs++];
}
