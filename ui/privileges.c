/*
 * privileges.c: the privilege drop after a live capture device is open.
 * Groups first, then gid, then uid (the only order that works), and a check
 * that root cannot be regained. With keep_capture, the capabilities a
 * capture needs survive the change of uid (PR_SET_KEEPCAPS) and are then
 * cut down to exactly those two; no libcap: two system calls do it.
 */
#include "ui/privileges.h"

#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Permitted and effective: CAP_NET_RAW and CAP_NET_ADMIN, nothing else. */
static bool keep_only_capture_caps(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    uint32_t caps = (1u << CAP_NET_RAW) | (1u << CAP_NET_ADMIN);
    data[0].permitted = data[0].effective = caps;
    return syscall(SYS_capset, &hdr, data) == 0;
}

bool privileges_drop(const char *user, bool keep_capture, char *err, size_t errlen)
{
    if (geteuid() != 0)
        return true;
    if (!user)
        user = "nobody";
    if (strcmp(user, "root") == 0)
        return true;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "-Z: unknown user '%s'", user);
        return false;
    }
    if (keep_capture && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "cannot keep the capture capabilities: %s", strerror(errno));
        return false;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to '%s': %s", user, strerror(errno));
        return false;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(err, errlen, "dropping privileges to '%s' did not stick", user);
        return false;
    }
    if (keep_capture && !keep_only_capture_caps()) {
        snprintf(err, errlen, "cannot keep the capture capabilities as '%s': %s", user,
                 strerror(errno));
        return false;
    }
    return true;
}
