/*
 * pcap_ifaces.c: -D through pcap_findalldevs, in tcpdump's format: a number,
 * the name, the description in parentheses when there is one, and the flags
 * libpcap knows (up, running, wireless, loopback, connection status).
 */
#include "capture/pcap_ifaces.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static void flags(const pcap_if_t *d, char *buf, size_t len)
{
    static const struct {
        bpf_u_int32 bit;
        const char *name;
    } names[] = {
        {PCAP_IF_UP, "Up"},
        {PCAP_IF_RUNNING, "Running"},
        {PCAP_IF_WIRELESS, "Wireless"},
        {PCAP_IF_LOOPBACK, "Loopback"},
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(d->flags & names[i].bit))
            continue;
        size_t u = strlen(buf);
        snprintf(buf + u, len - u, "%s%s", u ? ", " : "", names[i].name);
    }
    const char *status = NULL;
    switch (d->flags & PCAP_IF_CONNECTION_STATUS) {
    case PCAP_IF_CONNECTION_STATUS_CONNECTED:
        status = "Connected";
        break;
    case PCAP_IF_CONNECTION_STATUS_DISCONNECTED:
        status = "Disconnected";
        break;
    case PCAP_IF_CONNECTION_STATUS_NOT_APPLICABLE:
        break;
    default:
        status = (d->flags & PCAP_IF_LOOPBACK) ? NULL : "Unknown";
        break;
    }
    if (status) {
        size_t u = strlen(buf);
        snprintf(buf + u, len - u, "%s%s", u ? ", " : "", status);
    }
}

bool pcap_ifaces_list(FILE *out, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, ebuf) != 0) {
        snprintf(err, errlen, "cannot list interfaces: %s", ebuf);
        return false;
    }
    if (!all) {
        snprintf(err, errlen, "no interface to capture on (is this run without the rights to?)");
        return false;
    }
    int n = 0;
    for (const pcap_if_t *d = all; d; d = d->next) {
        char f[128];
        flags(d, f, sizeof f);
        fprintf(out, "%d.%s", ++n, d->name);
        if (d->description)
            fprintf(out, " (%s)", d->description);
        fprintf(out, " [%s]\n", f[0] ? f : "none");
    }
    pcap_freealldevs(all);
    return true;
}
