/*
 * main.c: the oslotrace executable's entry point (being built up: see ui/cli.c).
 */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("oslotrace %s\n", OSLOTRACE_VERSION);
    return 0;
}
