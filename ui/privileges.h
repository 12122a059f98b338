/*
 * privileges.h: like tcpdump's -Z, give up root once the capture device is
 * open, before any output file is created.
 */
#ifndef OSLOTRACE_UI_PRIVILEGES_H
#define OSLOTRACE_UI_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>

/* user: -Z's value, NULL = "nobody"; "root" keeps root. Does nothing unless
 * running as root. keep_capture: keep CAP_NET_RAW and CAP_NET_ADMIN (and
 * nothing else of root's), for --wait-iface, which opens the interface again
 * when it comes back. False with a one-line message in err when it fails. */
bool privileges_drop(const char *user, bool keep_capture, char *err, size_t errlen);

#endif
