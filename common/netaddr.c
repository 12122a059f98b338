/*
 * netaddr.c: printing and comparing the address:port pairs of netaddr.h.
 */
#include "common/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

void netaddr_format(const struct netaddr *a, char *buf, size_t len)
{
    if (a->family == 6) {
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, a->ip, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, a->port);
        return;
    }
    /* IPv4 by hand: every NDJSON record prints two addresses, and glibc's
     * inet_ntop goes through sprintf. */
    char tmp[NETADDR_STRLEN], *p = tmp;
    for (int i = 0; i < 4; i++) {
        p = put_uint(p, a->ip[i]);
        *p++ = i < 3 ? '.' : ':';
    }
    p = put_uint(p, a->port);
    if (len == 0)
        return;
    size_t n = (size_t)(p - tmp) < len ? (size_t)(p - tmp) : len - 1; /* cut like snprintf */
    memcpy(buf, tmp, n);
    buf[n] = '\0';
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
