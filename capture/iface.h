/*
 * iface.h: whether a capture interface is there to be opened: it exists and
 * is up. For --wait-iface, which waits for an interface made after oslotrace
 * started (a bond, a veth of a container) and for one that went away.
 */
#ifndef OSLOTRACE_CAPTURE_IFACE_H
#define OSLOTRACE_CAPTURE_IFACE_H

#include <stdbool.h>

/* "any" is always ready. */
bool iface_exists(const char *name);
bool iface_ready(const char *name);

#endif
