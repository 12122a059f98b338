/*
 * privileges.c: the privilege drop after a live capture device is open.
 * Groups first, then gid, then uid (the only order that works), and a check
 * that root cannot be regained.
 */
#include "ui/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool privileges_drop(const char *user, char *err, size_t errlen)
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
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to '%s': %s", user, strerror(errno));
        return false;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(err, errlen, "dropping privileges to '%s' did not stick", user);
        return false;
    }
    return true;
}
