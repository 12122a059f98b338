/*
 * privileges.h: like tcpdump's -Z, give up root once the capture device is
 * open, before any output file is created.
 */
#ifndef OSLOTRACE_UI_PRIVILEGES_H
#define OSLOTRACE_UI_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>

/* user: -Z's value, NULL = "nobody"; "root" keeps root. Does nothing unless
 * running as root. False with a one-line message in err when it fails. */
bool privileges_drop(const char *user, char *err, size_t errlen);

#endif
