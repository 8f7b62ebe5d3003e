/* fs.c - file-system helpers: creating a directory and its parents. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* 1 when path names a directory (following symlinks); sets errno. */
static int is_directory(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return 0;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return 0;
  }
  return 1;
}

int msvc__mkdir_p(const char *dir, mode_t mode, char *failed,
                  size_t failed_len) {
  char *path = msvc__strdup(dir);
  int rc = 0;
  if (path == NULL) {
    errno = ENOMEM;
    return -1;
  }
  if (path[0] == '\0') {
    free(path);
    return 0;
  }
  for (char *p = path + 1; rc == 0; p++) {
    char saved = *p;
    if (saved != '/' && saved != '\0')
      continue;
    *p = '\0';
    if (path[0] != '\0' && mkdir(path, mode) != 0 &&
        (errno != EEXIST || !is_directory(path))) {
      int err = errno;
      if (failed != NULL && failed_len > 0)
        msvc__strlcpy(failed, path, failed_len);
      errno = err;
      rc = -1;
    }
    *p = saved;
    if (saved == '\0')
      break;
  }
  free(path);
  return rc;
}
