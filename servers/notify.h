/* notify.h - telling a service manager (systemd, Type=notify) where the
 * process is in its life: ready, reloading, stopping.
 *
 * Messages go to the datagram socket named by NOTIFY_SOCKET through
 * libsystemd's sd_notify(0, ...), which leaves the environment as it was
 * found.  Without NOTIFY_SOCKET every call does nothing.  When the
 * socket cannot be reached (or the servers were built without libsystemd,
 * MSVC_WITH_SYSTEMD=OFF) the process serves all the same and says so once
 * in its log: being managed is never a condition for serving.
 *
 * Only the executables call these (from the main thread, which owns the
 * process lifecycle, see server.c); libmsvc itself never talks to a
 * service manager.
 */
#ifndef MSVC_SERVER_NOTIFY_H
#define MSVC_SERVER_NOTIFY_H

/* READY=1 and STATUS=status: every listener is bound and every loop
 * serves.  Also the end of a reload.  `name` prefixes log lines. */
void msvc_notify_ready(const char *name, const char *status);

/* RELOADING=1 (with MONOTONIC_USEC, as Type=notify-reload asks): SIGHUP
 * is being handled; msvc_notify_ready follows. */
void msvc_notify_reloading(const char *name);

/* STOPPING=1 and STATUS=status: the drain has begun. */
void msvc_notify_stopping(const char *name, const char *status);

#endif
