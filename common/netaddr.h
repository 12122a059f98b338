/*
 * netaddr.h: an IPv4 or IPv6 address with a TCP port, as every stage names
 * the two ends of a connection, and its one printed form ("127.0.0.1:5672",
 * "[::1]:5672"). Addresses are always printed numerically (tcpdump's -n).
 */
#ifndef OSLOTRACE_COMMON_NETADDR_H
#define OSLOTRACE_COMMON_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netaddr {
    uint8_t family; /* 4 or 6 */
    uint8_t ip[16]; /* IPv4 in the first 4 bytes, the rest zero */
    uint16_t port;
};

/* Longest printed form: "[" + 39 + "]:" + 5 + NUL. */
#define NETADDR_STRLEN 48

void netaddr_format(const struct netaddr *a, char *buf, size_t len);
bool netaddr_equal(const struct netaddr *a, const struct netaddr *b);
/* Orders addresses (family, ip, port) so a flow key can be made canonical. */
int netaddr_compare(const struct netaddr *a, const struct netaddr *b);

#endif
