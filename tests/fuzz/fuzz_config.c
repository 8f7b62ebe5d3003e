/* fuzz_config.c - the servers' configuration (servers/config.c and
 * servers/proxies.c, compiled in) from an environment and a command line
 * made of the input.
 *
 * The first byte picks the role (msvc-auth, msvc-post or msvc-server);
 * the rest is split into lines: a line starting with '-' is a command-line
 * argument, any other line a NAME=value environment entry (a line without
 * '=' too: msvc_config_load must cope).  Settings read from files never
 * reach the machine's files: the value of a *_FILE variable, and of a
 * --*-file=VALUE flag, is written to a file of the harness's private
 * directory and replaced by its path (so the file's content is fuzzed
 * instead), and any other argument naming "file" is dropped, so that no
 * input can make the parser read a FIFO or a device and hang.
 * Invariants: the codes are the documented ones; an error always comes
 * with a message; a loaded configuration has the role asked for, a port
 * and a database URL; msvc_config_warnings and msvc_config_origin cope
 * with whatever loaded; msvc_config_clear leaves nothing behind (ASan's
 * leak check).
 */
#include <fcntl.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "internal.h"

#define MAX_LINES 64

static const char *dir;
static FILE *devnull;

/* A file of the private directory holding value; its path (free()). */
static char *file_of(const char *value, size_t len, int k) {
  char path[4200];
  int fd;
  snprintf(path, sizeof(path), "%s/setting-%d", dir, k);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(write(fd, value, len) == (ssize_t)len);
  close(fd);
  return strdup(path);
}

/* The entry line[0..len) as it is given to the parser: a copy, rewritten
 * when it names a file; NULL to leave it out. */
static char *entry_of(const char *line, size_t len, int k) {
  const char *eq = memchr(line, '=', len);
  size_t name_len = eq != NULL ? (size_t)(eq - line) : len;
  int names_file = 0;
  char *path, *out;
  for (size_t i = 0; i + 4 <= name_len; i++)
    if (strncasecmp(line + i, "file", 4) == 0)
      names_file = 1;
  if (!names_file)
    return msvc__strndup(line, len);
  if (eq == NULL)
    return NULL; /* "--x-file" would take the next argument as a path */
  path = file_of(eq + 1, len - name_len - 1, k);
  FUZZ_CHECK(path != NULL);
  out = malloc(name_len + 1 + strlen(path) + 1);
  FUZZ_CHECK(out != NULL);
  memcpy(out, line, name_len);
  out[name_len] = '=';
  strcpy(out + name_len + 1, path);
  free(path);
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const unsigned roles[] = {MSVC_ROLE_AUTH, MSVC_ROLE_POST,
                                   MSVC_ROLE_ALL, MSVC_ROLE_ALL};
  char *argv[MAX_LINES + 2], *envp[MAX_LINES + 1];
  int argc = 1, envc = 0, k = 0;
  msvc_config_t cfg;
  char err[512];
  unsigned role;
  size_t pos = 1;
  int rc;
  if (dir == NULL) {
    dir = fuzz_tempdir("config");
    devnull = fopen("/dev/null", "w");
    FUZZ_CHECK(devnull != NULL);
  }
  if (size == 0)
    return 0;
  role = roles[data[0] & 3];
  argv[0] = "msvc-fuzz";
  while (pos < size && argc + envc < MAX_LINES) {
    const char *line = (const char *)data + pos;
    const char *nl = memchr(line, '\n', size - pos);
    size_t len = nl != NULL ? (size_t)(nl - line) : size - pos;
    int is_arg = len > 0 && line[0] == '-';
    char *e = entry_of(line, len, k++);
    pos += len + 1;
    if (e == NULL)
      continue;
    if (is_arg)
      argv[argc++] = e;
    else
      envp[envc++] = e;
  }
  argv[argc] = NULL;
  envp[envc] = NULL;
  err[0] = 'x';
  rc = msvc_config_load(&cfg, role, argc, argv, envp, err, sizeof(err));
  FUZZ_CHECK(rc == 0 || rc == MSVC_ECONFIG || rc == MSVC_ENOMEM ||
             rc == MSVC_CONFIG_HELP || rc == MSVC_CONFIG_VERSION);
  if (rc == MSVC_ECONFIG)
    FUZZ_CHECK(err[0] != '\0');
  if (rc == 0) {
    FUZZ_CHECK(cfg.roles == role);
    FUZZ_CHECK(cfg.port >= 0 && cfg.port <= 65535);
    FUZZ_CHECK(cfg.database_url != NULL);
    msvc_config_warnings(&cfg, "msvc-fuzz", devnull);
    (void)msvc_config_origin(&cfg, "port");
    (void)msvc_config_origin(&cfg, "jwt-secret");
  }
  msvc_config_clear(&cfg);
  for (int i = 1; i < argc; i++)
    free(argv[i]);
  for (int i = 0; i < envc; i++)
    free(envp[i]);
  return 0;
}
