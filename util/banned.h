/* The C library calls this project never makes (no bound on their output, no error report, or hidden state):
 * included last in every source file, after every system header, so that a use fails to compile. */
#ifndef MAC_UTIL_BANNED_H
#define MAC_UTIL_BANNED_H

/* Instead: snprintf or a dynbuf (strcpy, strcat, sprintf, vsprintf), fgets (gets), strtol with its end checked (atoi,
 * atol, atof), strtok_r or a parser of its own (strtok), mkstemp (tmpnam), a seeded generator of the caller's (rand). */
#pragma GCC poison strcpy strcat sprintf vsprintf gets atoi atol atof strtok tmpnam rand

#endif
