/* server.c - loop threads, each with its own listening socket (one
 * SO_REUSEPORT group), and graceful stop.
 *
 * Invariants: every accepted connection is on its loop's `conns` list
 * until h2o closes its socket (the socket's on_close callback unlinks it),
 * which is how shutdown finds the idle keep-alive connections it must
 * close: once a loop has no request in flight, shutdown(2) on each
 * remaining socket makes h2o see end-of-file and close it through its own
 * path.  A loop is torn down only when it has no connection, request or
 * job left, so nothing can reach a freed context.
 *
 * Each loop's h2o state (evloop, context, the queue's pipe socket, the
 * listener) is created and destroyed on that loop's own thread: h2o keeps
 * its buffer allocators per thread (h2o_socket_buffer_prototype is
 * __thread), and a socket made on one thread but read on another recycles
 * memory through the wrong thread's free list, which corrupts the heap
 * under load.
 *
 * Out of descriptors, a loop accepts the next connection on a reserve
 * descriptor (/dev/null, opened at start, one per loop) and closes it at
 * once: the client sees the connection end instead of waiting in the
 * backlog for a descriptor, and the connections already open keep being
 * served.  Only when even that fails (or memory is out) does the loop
 * stop accepting for ACCEPT_PAUSE_MS.
 *
 * A stop that gives up (requests still out at the drain deadline, plus
 * CLOSE_GRACE_MS) drops the jobs still queued in the pools, so that the
 * process waits for at most the jobs already running, one per worker (a
 * password hash, or a store call within its own timeout), and returns 2.
 *
 * The service manager (notify.h) is told READY=1 only after start_loops
 * returned, that is once every listener is bound and every loop serves
 * (the store was opened before, by msvc_app_open): whoever waits for it
 * can connect at once.  STOPPING=1 goes out as the drain begins, and a
 * SIGHUP is bracketed by RELOADING=1 and READY=1.  All from the main
 * thread.
 */
#include "server.h"
#include "log.h"
#include "notify.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 32
#define ACCEPT_PAUSE_MS 100
#define TICK_MS 50
#define CLOSE_GRACE_MS 1000
#define LISTEN_BACKLOG 1024
#define REFUSE_LOG_MS 1000 /* at most one "refusing" line a second a loop */

typedef struct server_loop {
  msvc_http_loop_t http; /* embeds the h2o context */
  h2o_evloop_t *evloop;
  h2o_accept_ctx_t accept_ctx;
  msvc_tls_t *tls;  /* NULL: plain HTTP */
  unsigned tls_gen; /* of accept_ctx.ssl_ctx, see msvc_tls_ctx */
  h2o_socket_t *listener;
  int listen_fd; /* the listener's own dup of its socket */
  /* The metrics listener (--metrics PORT), on loop 0 only: plain HTTP,
   * its own h2o configuration (GET /metrics alone). */
  h2o_socket_t *mlistener;
  int mlisten_fd;
  h2o_accept_ctx_t maccept_ctx;
  h2o_linklist_t conns;
  size_t nconns;
  h2o_multithread_receiver_t control; /* the stop message */
  h2o_multithread_message_t stop_msg;
  h2o_timeout_t tick_timeout;
  h2o_timeout_entry_t tick_entry;
  h2o_timeout_t pause_timeout; /* accepting paused: out of descriptors */
  h2o_timeout_entry_t pause_entry;
  int reserve_fd;        /* /dev/null, given up to refuse a connection */
  int64_t refuse_log_ms; /* when the last refusal was logged */
  size_t refused;        /* connections refused since then */
  int drain_ms;          /* the configured drain deadline */
  int64_t deadline_ms;
  int conns_shut; /* shutdown(2) already sent to the idle connections */
  int done;
  pthread_t thread;
  int started; /* the thread runs and its loop is set up */
  int drained; /* the loop ended with nothing left and was disposed */
  /* Start-up hand-over between the main thread and the loop thread. */
  msvc_http_t *init_http;
  int init_fd;
  int init_mfd; /* the metrics listener's socket, or -1 */
  unsigned init_index;
  int init_rc;
  sem_t ready;
} server_loop_t;

typedef struct tracked_conn {
  h2o_linklist_t link;
  int fd;
  server_loop_t *loop;
} tracked_conn_t;

/* Each keep-alive connection holds a descriptor: the soft limit goes up
 * to the hard one, and the limit in use is logged. */
static void raise_fd_limit(void) {
  struct rlimit lim;
  unsigned long long was;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  was = (unsigned long long)lim.rlim_cur;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      msvc_log(MSVC_LOG_WARN, "descriptors: limit %llu, cannot raise it: %s",
               was, strerror(errno));
      return;
    }
    msvc_log(MSVC_LOG_INFO, "descriptors: limit %llu (raised from %llu)",
             (unsigned long long)lim.rlim_cur, was);
    return;
  }
  msvc_log(MSVC_LOG_INFO, "descriptors: limit %llu (the hard limit)", was);
}

void msvc_server_prepare_process(void) {
  sigset_t set;
  raise_fd_limit();
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP); /* TLS reload, on the main thread */
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int msvc_server_stop_pending(void) {
  sigset_t set;
  if (sigpending(&set) != 0)
    return 0;
  if (sigismember(&set, SIGTERM))
    return SIGTERM;
  return sigismember(&set, SIGINT) ? SIGINT : 0;
}

/* ---- the listening socket ---------------------------------------------- */

static void format_address(const struct sockaddr *sa, const char *scheme,
                           char *out, size_t len) {
  char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
  socklen_t salen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
  getnameinfo(sa, salen, host, sizeof(host), port, sizeof(port),
              NI_NUMERICHOST | NI_NUMERICSERV);
  snprintf(out, len, sa->sa_family == AF_INET6 ? "%s://[%s]:%s" : "%s://%s:%s",
           scheme, host, port);
}

/* A TCP socket bound to sa, listening unless `probe`; -1 with errno.
 * Listeners join one SO_REUSEPORT group, one per event loop, so that the
 * kernel spreads new connections evenly over the loops (with a single
 * shared socket, whichever loop wakes first takes a whole burst). */
static int bind_socket(const struct sockaddr *sa, socklen_t salen, int probe) {
  int on = 1, saved;
  int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (!probe)
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  if (bind(fd, sa, salen) == 0 && (probe || listen(fd, LISTEN_BACKLOG) == 0))
    return fd;
  saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

/* Binds n listeners to one address: first a plain probe socket, which
 * fails when anyone (an older msvc-server included) already holds the
 * port, and picks the port when it is 0; then the n group members on the
 * probe's address.  0, or -1 with errno. */
static int bind_group(const struct addrinfo *ai, int n, int *fds,
                      struct sockaddr_storage *bound) {
  socklen_t len = sizeof(*bound);
  int probe = bind_socket(ai->ai_addr, ai->ai_addrlen, 1);
  if (probe < 0)
    return -1;
  getsockname(probe, (struct sockaddr *)bound, &len);
  close(probe);
  for (int i = 0; i < n; i++) {
    fds[i] = bind_socket((struct sockaddr *)bound, len, 0);
    if (fds[i] < 0) {
      int saved = errno;
      while (i-- > 0)
        close(fds[i]);
      errno = saved;
      return -1;
    }
  }
  return 0;
}

/* n listening sockets on host:port, one per loop, in fds[]; 0, or -1 with
 * the reason logged.  addr gets the address actually bound. */
static int open_listeners(const char *host, int port, int n, int *fds,
                          const char *scheme, char *addr, size_t addrlen) {
  struct addrinfo hints, *res = NULL, *ai;
  struct sockaddr_storage bound;
  char portstr[16];
  int err = 0, ok = 0;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  snprintf(portstr, sizeof(portstr), "%d", port);
  if ((err = getaddrinfo(host, portstr, &hints, &res)) != 0) {
    msvc_log(MSVC_LOG_ERROR, "cannot listen on %s:%d: %s", host, port,
             gai_strerror(err));
    return -1;
  }
  for (ai = res; ai != NULL && !ok; ai = ai->ai_next) {
    ok = bind_group(ai, n, fds, &bound) == 0;
    if (!ok)
      err = errno;
  }
  freeaddrinfo(res);
  if (!ok) {
    msvc_log(MSVC_LOG_ERROR, "cannot listen on %s:%d: %s", host, port,
             strerror(err ? err : EADDRNOTAVAIL));
    return -1;
  }
  format_address((struct sockaddr *)&bound, scheme, addr, addrlen);
  return 0;
}

/* ---- connections ------------------------------------------------------- */

static void on_conn_close(void *data) {
  tracked_conn_t *tc = data;
  h2o_linklist_unlink(&tc->link);
  tc->loop->nconns--;
  free(tc);
}

static void accept_one(server_loop_t *sl, int fd, int metrics) {
  tracked_conn_t *tc = malloc(sizeof(*tc));
  h2o_socket_t *sock;
  int on = 1;
  if (tc == NULL) {
    close(fd);
    return;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  sock = h2o_evloop_socket_create(sl->evloop, fd,
                                  H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
  tc->fd = fd;
  tc->loop = sl;
  memset(&tc->link, 0, sizeof(tc->link));
  h2o_linklist_insert(&sl->conns, &tc->link);
  sl->nconns++;
  sock->on_close.cb = on_conn_close;
  sock->on_close.data = tc;
  if (metrics) {
    h2o_accept(&sl->maccept_ctx, sock);
    return;
  }
  if (sl->tls != NULL) /* the current context, after a reload */
    sl->accept_ctx.ssl_ctx =
        msvc_tls_ctx(sl->tls, &sl->tls_gen, sl->accept_ctx.ssl_ctx);
  h2o_accept(&sl->accept_ctx, sock);
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void on_accept_pause_end(h2o_timeout_entry_t *entry) {
  server_loop_t *sl = H2O_STRUCT_FROM_MEMBER(server_loop_t, pause_entry, entry);
  if (sl->listener != NULL)
    h2o_socket_read_start(sl->listener, on_accept);
  if (sl->mlistener != NULL)
    h2o_socket_read_start(sl->mlistener, on_accept);
}

/* Out of descriptors or memory, the pending connection stays queued and
 * the listener stays readable: without a pause the loop would spin. */
static void pause_accepting(server_loop_t *sl) {
  msvc_log(MSVC_LOG_ERROR, "cannot accept: %s; pausing %d ms", strerror(errno),
           ACCEPT_PAUSE_MS);
  h2o_socket_read_stop(sl->listener);
  if (sl->mlistener != NULL)
    h2o_socket_read_stop(sl->mlistener);
  if (!h2o_timeout_is_linked(&sl->pause_entry))
    h2o_timeout_link(sl->evloop, &sl->pause_timeout, &sl->pause_entry);
}

/* Out of descriptors: accepts one pending connection on the reserve
 * descriptor and closes it at once.  1 when one was refused so, 0 when
 * there was none (or no reserve: the caller pauses). */
static int refuse_one(server_loop_t *sl, int lfd) {
  int64_t now;
  int fd, saved;
  /* Another loop may have taken the descriptor this one gave up a moment
   * ago (descriptors are the process's): try to get a reserve back. */
  if (sl->reserve_fd < 0)
    sl->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (sl->reserve_fd < 0)
    return 0;
  close(sl->reserve_fd);
  fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  saved = errno; /* the caller reads accept4's */
  if (fd >= 0)
    close(fd); /* first: the reserve takes its place again */
  sl->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  errno = saved;
  if (fd < 0)
    return 0;
  sl->refused++;
  now = msvc__monotonic_ms();
  if (now - sl->refuse_log_ms >= REFUSE_LOG_MS) {
    msvc_log(MSVC_LOG_ERROR,
             "out of descriptors: refused %zu new connections (open ones "
             "are still served)",
             sl->refused);
    sl->refuse_log_ms = now;
    sl->refused = 0;
  }
  return 1;
}

static void on_accept(h2o_socket_t *listener, const char *err) {
  server_loop_t *sl = listener->data;
  int metrics = listener == sl->mlistener;
  int lfd = metrics ? sl->mlisten_fd : sl->listen_fd;
  if (err != NULL)
    return;
  for (int i = 0; i < ACCEPT_BATCH; i++) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      accept_one(sl, fd, metrics);
      continue;
    }
    if ((errno == EMFILE || errno == ENFILE) && refuse_one(sl, lfd))
      continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
        errno == ENOMEM)
      pause_accepting(sl);
    break; /* EAGAIN: none is left */
  }
}

/* ---- graceful stop (on the loop thread) --------------------------------- */

static int loop_drained(const server_loop_t *sl) {
  return sl->http.inflight == 0 && sl->http.jobs == 0;
}

/* Half-closes every connection so that h2o reads end-of-file and closes
 * it; only done once no request is in flight (or the deadline passed). */
static void shut_connections(server_loop_t *sl) {
  h2o_linklist_t *node;
  for (node = sl->conns.next; node != &sl->conns; node = node->next) {
    tracked_conn_t *tc = H2O_STRUCT_FROM_MEMBER(tracked_conn_t, link, node);
    shutdown(tc->fd, SHUT_RDWR);
  }
  sl->conns_shut = 1;
}

static void on_tick(h2o_timeout_entry_t *entry) {
  server_loop_t *sl = H2O_STRUCT_FROM_MEMBER(server_loop_t, tick_entry, entry);
  int64_t now = msvc__monotonic_ms();
  if (!sl->conns_shut && (loop_drained(sl) || now >= sl->deadline_ms))
    shut_connections(sl);
  if ((sl->conns_shut && sl->nconns == 0 && loop_drained(sl)) ||
      now >= sl->deadline_ms + CLOSE_GRACE_MS) {
    sl->done = 1;
    return;
  }
  h2o_timeout_link(sl->evloop, &sl->tick_timeout, &sl->tick_entry);
}

static void close_listener(h2o_socket_t **l) {
  if (*l != NULL) {
    h2o_socket_read_stop(*l);
    h2o_socket_close(*l);
    *l = NULL;
  }
}

static void begin_stop(server_loop_t *sl) {
  if (h2o_timeout_is_linked(&sl->pause_entry))
    h2o_timeout_unlink(&sl->pause_entry);
  close_listener(&sl->listener);
  close_listener(&sl->mlistener);
  /* HTTP/1 answers now say "Connection: close"; HTTP/2 gets GOAWAY. */
  h2o_context_request_shutdown(&sl->http.ctx);
  sl->deadline_ms = msvc__monotonic_ms() + sl->drain_ms;
  h2o_timeout_link(sl->evloop, &sl->tick_timeout, &sl->tick_entry);
}

static void on_control(h2o_multithread_receiver_t *receiver,
                       h2o_linklist_t *messages) {
  server_loop_t *sl = H2O_STRUCT_FROM_MEMBER(server_loop_t, control, receiver);
  int stop = 0;
  while (!h2o_linklist_is_empty(messages)) {
    h2o_linklist_t *node = messages->next;
    h2o_linklist_unlink(node);
    stop = 1;
  }
  if (stop && sl->deadline_ms == 0)
    begin_stop(sl);
}

/* ---- setup and teardown (on the loop thread) ------------------------------
 */

/* The metrics listener, when this loop was handed one. */
static int metrics_listener_init(server_loop_t *sl, msvc_http_t *http) {
  h2o_globalconf_t *mconf = msvc_http_metrics_globalconf(http);
  if (sl->init_mfd < 0 || mconf == NULL)
    return 0;
  sl->maccept_ctx.ctx = &sl->http.ctx;
  sl->maccept_ctx.hosts = mconf->hosts;
  sl->mlisten_fd = dup(sl->init_mfd);
  if (sl->mlisten_fd < 0)
    return -1;
  sl->mlistener = h2o_evloop_socket_create(sl->evloop, sl->mlisten_fd,
                                           H2O_SOCKET_FLAG_DONT_READ);
  sl->mlistener->data = sl;
  h2o_socket_read_start(sl->mlistener, on_accept);
  return 0;
}

static int loop_init(server_loop_t *sl, msvc_http_t *http, int fd,
                     unsigned index) {
  sl->evloop = h2o_evloop_create();
  msvc_http_loop_init(&sl->http, http, sl->evloop, index);
  sl->accept_ctx.ctx = &sl->http.ctx;
  sl->accept_ctx.hosts = msvc_http_globalconf(http)->hosts;
  sl->accept_ctx.ssl_ctx =
      sl->tls != NULL ? msvc_tls_ctx(sl->tls, &sl->tls_gen, NULL) : NULL;
  h2o_linklist_init_anchor(&sl->conns);
  h2o_multithread_register_receiver(sl->http.ctx.queue, &sl->control,
                                    on_control);
  h2o_timeout_init(sl->evloop, &sl->tick_timeout, TICK_MS);
  sl->tick_entry.cb = on_tick;
  h2o_timeout_init(sl->evloop, &sl->pause_timeout, ACCEPT_PAUSE_MS);
  sl->pause_entry.cb = on_accept_pause_end;
  sl->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  sl->listen_fd = dup(fd);
  if (sl->listen_fd < 0)
    return -1;
  sl->listener = h2o_evloop_socket_create(sl->evloop, sl->listen_fd,
                                          H2O_SOCKET_FLAG_DONT_READ);
  sl->listener->data = sl;
  h2o_socket_read_start(sl->listener, on_accept);
  return metrics_listener_init(sl, http);
}

static void loop_dispose(server_loop_t *sl) {
  close_listener(&sl->listener);
  close_listener(&sl->mlistener);
  if (h2o_timeout_is_linked(&sl->tick_entry))
    h2o_timeout_unlink(&sl->tick_entry);
  if (h2o_timeout_is_linked(&sl->pause_entry))
    h2o_timeout_unlink(&sl->pause_entry);
  h2o_timeout_dispose(sl->evloop, &sl->tick_timeout);
  h2o_timeout_dispose(sl->evloop, &sl->pause_timeout);
  h2o_multithread_unregister_receiver(sl->http.ctx.queue, &sl->control);
  if (sl->reserve_fd >= 0)
    close(sl->reserve_fd);
  msvc_http_loop_dispose(&sl->http);
  h2o_evloop_destroy(sl->evloop);
}

/* The loop thread: sets its loop up, tells the main thread how that went,
 * serves until stopped, and tears the loop down when nothing is left on
 * it (a job still out could post to its queue: then it is left as is,
 * the process being about to exit). */
static void *loop_main(void *arg) {
  server_loop_t *sl = arg;
  sl->init_rc = loop_init(sl, sl->init_http, sl->init_fd, sl->init_index);
  sem_post(&sl->ready);
  if (sl->init_rc != 0)
    return NULL;
  while (!sl->done)
    h2o_evloop_run(sl->evloop, INT32_MAX);
  msvc_http_loop_flush_log(&sl->http);
  if (sl->nconns == 0 && loop_drained(sl)) {
    loop_dispose(sl);
    sl->drained = 1;
  }
  return NULL;
}

/* SIGHUP: the TLS files are read again; new connections get them, open
 * ones keep theirs, and bad files leave the old ones in use. */
static void reload_tls(msvc_tls_t *tls) {
  char err[512] = "", desc[512];
  if (tls == NULL) {
    msvc_log(MSVC_LOG_INFO, "SIGHUP received: nothing to reload (no TLS)");
  } else if (msvc_tls_reload(tls, err, sizeof(err)) != 0) {
    msvc_log(MSVC_LOG_INFO,
             "SIGHUP received: TLS not reloaded, keeping the "
             "current certificate: %s",
             err);
  } else {
    msvc_tls_describe(tls, desc, sizeof(desc));
    msvc_log(MSVC_LOG_INFO, "SIGHUP received: TLS reloaded: %s", desc);
  }
}

/* `status` is the STATUS= text that READY=1 carries again after a
 * reload. */
static int wait_for_signal(const char *name, msvc_tls_t *tls,
                           const char *status, int drain_ms) {
  sigset_t set;
  int sig = 0;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  while (sigwait(&set, &sig) != 0 || sig == SIGHUP)
    if (sig == SIGHUP) {
      msvc_notify_reloading(name);
      reload_tls(tls);
      msvc_notify_ready(name, status);
      sig = 0;
    }
  msvc_log(MSVC_LOG_INFO,
           "%s received, stopping (waiting up to %d s for "
           "requests in flight)",
           sig == SIGINT ? "SIGINT" : "SIGTERM", drain_ms / 1000);
  return sig;
}

/* Starts one thread per loop, each setting its own loop up; returns once
 * every loop is serving, or -1 when one could not be started (the loops
 * that were are marked started, for stop_loops). */
static int start_loops(server_loop_t *loops, int n, msvc_http_t *http,
                       const int *fds, int mfd, msvc_tls_t *tls, int drain_ms) {
  for (int i = 0; i < n; i++) {
    server_loop_t *sl = &loops[i];
    char tname[16];
    sl->tls = tls;
    sl->drain_ms = drain_ms;
    sl->reserve_fd = -1;
    sl->init_http = http;
    sl->init_fd = fds[i];
    sl->init_mfd = i == 0 ? mfd : -1;
    sl->init_index = (unsigned)i;
    if (sem_init(&sl->ready, 0, 0) != 0 ||
        pthread_create(&sl->thread, NULL, loop_main, sl) != 0)
      return -1;
    snprintf(tname, sizeof(tname), "loop-%d", i);
    pthread_setname_np(sl->thread, tname);
    while (sem_wait(&sl->ready) != 0)
      ;
    if (sl->init_rc != 0) {
      pthread_join(sl->thread, NULL);
      return -1;
    }
    sl->started = 1;
  }
  return 0;
}

/* After the loops ended short of drained: the jobs not yet started are
 * dropped (nobody is left to answer them), so stopping the pools waits
 * only for the ones running. */
static void discard_queued(server_loop_t *loops, int n, msvc_app_t *app) {
  size_t dropped;
  int undrained = 0;
  for (int i = 0; i < n; i++)
    undrained |= loops[i].started && !loops[i].drained;
  if (!undrained)
    return;
  dropped = msvc_pool_discard(app->hash_pool) + msvc_pool_discard(app->io_pool);
  if (dropped > 0)
    msvc_log(MSVC_LOG_ERROR,
             "drain deadline passed: dropped %zu queued jobs, waiting "
             "only for the ones running",
             dropped);
}

/* Stops every loop, then the pools; 1 when everything drained. */
static int stop_loops(server_loop_t *loops, int n, msvc_app_t *app) {
  int clean = 1;
  size_t left_conns = 0, left_reqs = 0;
  for (int i = 0; i < n; i++)
    if (loops[i].started)
      h2o_multithread_send_message(&loops[i].control, &loops[i].stop_msg);
  for (int i = 0; i < n; i++)
    if (loops[i].started)
      pthread_join(loops[i].thread, NULL);
  discard_queued(loops, n, app);
  msvc_app_stop_pools(app);
  for (int i = 0; i < n; i++) {
    if (!loops[i].started || loops[i].drained)
      continue;
    left_conns += loops[i].nconns;
    left_reqs += loops[i].http.inflight + loops[i].http.jobs;
  }
  if (left_conns > 0 || left_reqs > 0) {
    msvc_log(MSVC_LOG_ERROR, "gave up on %zu requests and %zu connections",
             left_reqs, left_conns);
    clean = 0;
  }
  return clean;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    close(fds[i]);
}

int msvc_server_run(msvc_http_t *http, const msvc_config_t *cfg) {
  msvc_app_t *app = msvc_http_app(http);
  int nloops = cfg->threads > 0 ? cfg->threads : 1;
  char addr[128] = "?", err[512] = "", status[160];
  server_loop_t *loops = calloc((size_t)nloops, sizeof(*loops));
  int *fds = calloc((size_t)nloops, sizeof(*fds));
  msvc_tls_t *tls = NULL;
  char maddr[128] = "?";
  int clean, mfd = -1;
  int drain_ms =
      cfg->drain_timeout > 0 ? cfg->drain_timeout * 1000 : MSVC_SERVER_DRAIN_MS;
  if (msvc_tls_open(cfg, &tls, err, sizeof(err)) != 0) {
    msvc_log(MSVC_LOG_ERROR, "cannot start: %s", err);
    free(loops);
    free(fds);
    return 1;
  }
  if (loops == NULL || fds == NULL ||
      open_listeners(cfg->host, cfg->port, nloops, fds,
                     tls != NULL ? "https" : "http", addr, sizeof(addr)) != 0) {
    msvc_tls_free(tls);
    free(loops);
    free(fds);
    return 1;
  }
  if (cfg->metrics_port > 0 &&
      open_listeners(cfg->host, cfg->metrics_port, 1, &mfd, "http", maddr,
                     sizeof(maddr)) != 0) {
    close_all(fds, nloops);
    msvc_tls_free(tls);
    free(loops);
    free(fds);
    return 1;
  }
  if (start_loops(loops, nloops, http, fds, mfd, tls, drain_ms) != 0) {
    msvc_log(MSVC_LOG_ERROR, "cannot start the event loops");
    if (mfd >= 0)
      close(mfd);
    close_all(fds, nloops);
    stop_loops(loops, nloops, app);
    return 1; /* loops are leaked on purpose: the process is exiting */
  }
  close_all(fds, nloops); /* each loop holds its own dup */
  free(fds);
  if (mfd >= 0) {
    close(mfd);
    msvc_log(MSVC_LOG_INFO, "metrics on %s/metrics", maddr);
  }
  if (tls != NULL) {
    msvc_tls_describe(tls, err, sizeof(err));
    msvc_log(MSVC_LOG_INFO, "%s", err);
  }
  msvc_log(MSVC_LOG_INFO, "listening on %s with %d event-loop threads", addr,
           nloops);
  snprintf(status, sizeof(status), "serving on %s", addr);
  msvc_notify_ready(app->name, status);
  wait_for_signal(app->name, tls, status, drain_ms);
  msvc_notify_stopping(app->name, "stopping: draining requests in flight");
  clean = stop_loops(loops, nloops, app);
  if (!clean)
    return 2; /* loops left as they are; the process is about to exit */
  for (int i = 0; i < nloops; i++)
    sem_destroy(&loops[i].ready);
  free(loops);
  msvc_tls_free(tls); /* no loop or connection is left */
  return 0;
}
