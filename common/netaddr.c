/*
 * netaddr.c: printing and comparing the address:port pairs of netaddr.h.
 */
#include "common/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

void netaddr_format(const struct netaddr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (a->family == 6) {
        inet_ntop(AF_INET6, a->ip, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, a->port);
    } else {
        inet_ntop(AF_INET, a->ip, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, a->port);
    }
}

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
    return netaddr_compare(a, b) == 0;
}

int netaddr_compare(const struct netaddr *a, const struct netaddr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    int c = memcmp(a->ip, b->ip, sizeof a->ip);
    if (c)
        return c < 0 ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return 0;
}
