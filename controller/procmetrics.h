/* The process_* metrics every Prometheus client library exports, read from /proc: CPU time, memory, open files,
 * start time. */
#ifndef MAC_CONTROLLER_PROCMETRICS_H
#define MAC_CONTROLLER_PROCMETRICS_H

#include <stdbool.h>

#include "util/dynbuf.h"

/* What /proc/self/stat says, in its own units (clock ticks, bytes, pages). */
struct ctl_proc_stat {
	unsigned long long utime_ticks, stime_ticks;
	unsigned long long start_ticks; /* after boot */
	unsigned long long vsize_bytes;
	long long rss_pages;
};

/* Parses the one line of /proc/PID/stat (text, NUL-terminated) into *out; false when it is not that shape.
 * The command name may hold spaces and parentheses: fields are counted from the last ')'. */
bool ctl_proc_stat_parse(const char *text, struct ctl_proc_stat *out);

/* Appends process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_start_time_seconds, process_open_fds and process_max_fds, with HELP and TYPE, for this process.
 * A value /proc cannot give is left out. Returns false when out is full. */
bool ctl_process_metrics_render(struct dynbuf *out);

#endif
