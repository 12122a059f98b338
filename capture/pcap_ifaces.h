/*
 * pcap_ifaces.h: -D, the interfaces libpcap can capture on, listed as
 * tcpdump -D lists them ("1.lo [Up, Running, Loopback]"), so the name to
 * give -i is at hand.
 */
#ifndef OSLOTRACE_CAPTURE_PCAP_IFACES_H
#define OSLOTRACE_CAPTURE_PCAP_IFACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes one line per interface to out; false and a message in err when
 * libpcap cannot list them. */
bool pcap_ifaces_list(FILE *out, char *err, size_t errlen);

#endif
