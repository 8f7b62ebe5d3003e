/* replay.c - the driver that runs a harness without libFuzzer.
 *
 * fuzz_replay_<name> is fuzz_<name>.c linked with this main(): each
 * argument is a file, or a directory whose files (sorted by name, dot
 * files and README* skipped) are read one by one and handed to
 * LLVMFuzzerTestOneInput in a buffer of exactly their size, so that an
 * over-read shows under AddressSanitizer.  A directory that does not exist
 * is skipped (a harness with no regression yet has no
 * tests/fuzz/regressions/<name>/).  The suite runs it on the seed corpus
 * and the regressions of every harness; it fails when an input crashes
 * (a broken invariant aborts) or when no input was found at all.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *data = NULL;
  size_t size = 0, cap = 0;
  if (f == NULL) {
    fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  for (;;) {
    size_t n;
    if (size == cap) {
      uint8_t *grown = realloc(data, cap ? cap * 2 : 4096);
      FUZZ_CHECK(grown != NULL);
      data = grown;
      cap = cap ? cap * 2 : 4096;
    }
    n = fread(data + size, 1, cap - size, f);
    size += n;
    if (n == 0)
      break;
  }
  fclose(f);
  {
    /* Exactly size bytes, as libFuzzer hands them over. */
    uint8_t *exact = malloc(size ? size : 1);
    FUZZ_CHECK(exact != NULL);
    if (size > 0)
      memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
  }
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the files of dir; returns how many, or -1. */
static long replay_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0;
  long done = 0;
  if (d == NULL)
    return errno == ENOENT ? 0 : -1;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
      continue;
    if (n == cap) {
      char **grown =
          realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
      FUZZ_CHECK(grown != NULL);
      names = grown;
    }
    names[n] = strdup(e->d_name);
    FUZZ_CHECK(names[n] != NULL);
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof(*names), by_name);
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      if (replay_file(path) != 0)
        done = -1;
      else if (done >= 0)
        done++;
    }
    free(names[i]);
  }
  free(names);
  return done;
}

int main(int argc, char **argv) {
  long total = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    long n;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
      n = replay_dir(argv[i]);
    else if (stat(argv[i], &st) == 0)
      n = replay_file(argv[i]) == 0 ? 1 : -1;
    else
      n = 0;
    if (n < 0)
      return 1;
    printf("%s: %ld inputs replayed\n", argv[i], n);
    total += n;
  }
  if (total == 0) {
    fprintf(stderr, "replay: no input found\n");
    return 1;
  }
  printf("%ld inputs replayed without a crash\n", total);
  return 0;
}
