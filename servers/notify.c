/* notify.c - the sd_notify(3) protocol for the executables (notify.h).
 *
 * Invariants: called from the main thread only (the one in sigwait, see
 * server.c), so the "said once" flag needs no lock; the environment is
 * never changed (sd_notify's first argument is 0), so a child or a later
 * message sees NOTIFY_SOCKET as the service manager set it; a failure to
 * notify is logged once and otherwise ignored.
 */
#include "notify.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if MSVC_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static int said_once;

/* Sends `state` (newline-separated assignments) when NOTIFY_SOCKET is set.
 * Without it there is nobody to tell, and nothing is logged. */
static void send_state(const char *name, const char *state) {
  const char *sock = getenv("NOTIFY_SOCKET");
  (void)name; /* the log names the service (log.h) */
  if (sock == NULL || sock[0] == '\0')
    return;
#if MSVC_HAVE_SYSTEMD
  int rc = sd_notify(0, state);
  if (rc < 0 && !said_once) {
    said_once = 1;
    msvc_log(MSVC_LOG_WARN,
             "cannot notify the service manager at NOTIFY_SOCKET=%s: %s; "
             "serving all the same",
             sock, strerror(-rc));
  }
#else
  (void)state;
  if (!said_once) {
    said_once = 1;
    msvc_log(MSVC_LOG_WARN,
             "NOTIFY_SOCKET is set, but this build has no systemd "
             "support (MSVC_WITH_SYSTEMD=OFF): the service manager is not "
             "told when it is ready or stopping");
  }
#endif
}

void msvc_notify_ready(const char *name, const char *status) {
  char state[512];
  snprintf(state, sizeof(state), "READY=1\nSTATUS=%s", status);
  send_state(name, state);
}

void msvc_notify_reloading(const char *name) {
  char state[128];
  struct timespec ts;
  /* systemd (Type=notify-reload) matches the reload it asked for by this
   * timestamp; plain Type=notify ignores it. */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  snprintf(state, sizeof(state),
           "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
           (unsigned long long)ts.tv_sec * 1000000ULL +
               (unsigned long long)ts.tv_nsec / 1000ULL);
  send_state(name, state);
}

void msvc_notify_stopping(const char *name, const char *status) {
  char state[512];
  snprintf(state, sizeof(state), "STOPPING=1\nSTATUS=%s", status);
  send_state(name, state);
}
