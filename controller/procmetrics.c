/* process_* metrics from /proc (see procmetrics.h). */
#include "controller/procmetrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "controller/metrics.h"
#include "util/banned.h"

#define PROC_TEXT_MAX 4096 /* /proc/self/stat is one line of a few hundred bytes; /proc/stat's btime line is early */

bool ctl_proc_stat_parse(const char *text, struct ctl_proc_stat *out)
{
	const char *p = strrchr(text, ')');
	unsigned long long fields[22] = {0}; /* fields 3 (state) to 24 (rss); the state letter is skipped */
	char *end;

	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return false;
	p += 4; /* ") S " */
	for (int i = 4; i <= 24; i++) {
		fields[i - 3] = strtoull(p, &end, 10);
		if (end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
			return false;
		p = end;
		while (*p == ' ')
			p++;
	}
	out->utime_ticks = fields[14 - 3];
	out->stime_ticks = fields[15 - 3];
	out->start_ticks = fields[22 - 3];
	out->vsize_bytes = fields[23 - 3];
	out->rss_pages = (long long)fields[24 - 3];
	return true;
}

/* Reads path (at most PROC_TEXT_MAX - 1 bytes) into buf as a string; false when it cannot be read. */
static bool read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n > 0;
}

/* The boot time (seconds since the epoch) from /proc/stat's btime line; 0 when unknown. */
static long long boot_time(void)
{
	char text[PROC_TEXT_MAX];
	const char *line;

	if (!read_text("/proc/stat", text, sizeof(text)) || !(line = strstr(text, "\nbtime ")))
		return 0;
	return strtoll(line + 7, NULL, 10);
}

/* The number of open file descriptors, counted in /proc/self/fd; -1 when it cannot be listed. */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own */
}

bool ctl_process_metrics_render(struct dynbuf *out)
{
	char text[PROC_TEXT_MAX];
	struct ctl_proc_stat st;
	double ticks = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	long long boot = boot_time();
	long fds = open_fds();
	struct rlimit lim;
	bool ok = true;

	if (read_text("/proc/self/stat", text, sizeof(text)) && ctl_proc_stat_parse(text, &st) && ticks > 0) {
		ok = ctl_metrics_family(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.") &&
		     dynbuf_addf(out, "process_cpu_seconds_total %.2f\n", (double)(st.utime_ticks + st.stime_ticks) / ticks) == DYNBUF_OK;
		ok = ok && ctl_metrics_family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.") &&
		     dynbuf_addf(out, "process_resident_memory_bytes %.0f\n", (double)st.rss_pages * page) == DYNBUF_OK;
		ok = ok && ctl_metrics_family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.") &&
		     dynbuf_addf(out, "process_virtual_memory_bytes %llu\n", st.vsize_bytes) == DYNBUF_OK;
		ok = ok && (boot <= 0 || (ctl_metrics_family(out, "process_start_time_seconds", "gauge",
							     "Start time of the process since the Unix epoch, in seconds.") &&
					  dynbuf_addf(out, "process_start_time_seconds %.2f\n",
						      (double)boot + (double)st.start_ticks / ticks) == DYNBUF_OK));
	}
	ok = ok && (fds < 0 || (ctl_metrics_family(out, "process_open_fds", "gauge", "Number of open file descriptors.") &&
				dynbuf_addf(out, "process_open_fds %ld\n", fds) == DYNBUF_OK));
	ok = ok && (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY ||
		    (ctl_metrics_family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.") &&
		     dynbuf_addf(out, "process_max_fds %llu\n", (unsigned long long)lim.rlim_cur) == DYNBUF_OK));
	return ok;
}
