/*
 * iface.c: an interface's existence (its index) and its IFF_UP flag, read
 * with SIOCGIFFLAGS on a throw-away datagram socket (see iface.h).
 */
#include "capture/iface.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

bool iface_exists(const char *name)
{
    return !strcmp(name, "any") || if_nametoindex(name) != 0;
}

bool iface_ready(const char *name)
{
    if (!strcmp(name, "any"))
        return true;
    if (strlen(name) >= IFNAMSIZ || !if_nametoindex(name))
        return false;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true; /* cannot tell: let libpcap try and say why */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, strlen(name));
    bool up = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
    close(fd);
    return up;
}
