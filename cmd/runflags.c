/* multiarch-controller run's flags: the help text, each flag read and checked into the controller's options. */
#include "cmd/runflags.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "controller/buildspec.h"
#include "controller/httpd.h"
#include "util/backoff.h"
#include "util/banned.h"

static const char run_help[] = "usage: multiarch-controller run [flags]\n"
			       "\n"
			       "Runs the controller: watches MultiArchBuilds and drives each to a verified\n"
			       "multi-arch image. Without --kubeconfig it uses $KUBECONFIG, then the\n"
			       "in-cluster service account. Stops on SIGTERM or SIGINT after finishing the\n"
			       "builds it is reconciling, and gives up its lease.\n"
			       "\n"
			       "flags:\n"
			       "  --kubeconfig FILE                  kubeconfig to use\n"
			       "  --context NAME                     kubeconfig context to use\n"
			       "  --namespace NS[,NS...]             watch only these namespaces (repeatable, at most 16; default: all)\n"
			       "  --workers N                        reconcile workers (1-64, default 2)\n"
			       "  --max-builds-in-flight N           builds started and not finished at once; the others wait\n"
			       "                                     their turn, oldest first (default 1000; 0: no bound)\n"
			       "  --resync-period DURATION           look at every build again this often (default 10m; 0 never)\n"
			       "  --retry-backoff DURATION           wait before a failed platform's second attempt,\n"
			       "                                     doubling per attempt (default 10s)\n"
			       "  --retry-backoff-max DURATION       longest wait between attempts (default 5m)\n"
			       "  --status-batch DURATION            how long a platform's success may wait to be written\n"
			       "                                     with the next change (default 5s; 0 writes at once)\n"
			       "  --config FILE                      cluster-wide builder configuration (docs/builders.md)\n"
			       "  --index-image IMAGE                image of the index Job (default: this version's image)\n"
			       "  --insecure-registry HOST[:PORT]    the index Job talks plain HTTP to it (repeatable)\n"
			       "  --leader-elect [true|false]        take a Lease before writing (default true; alone: true)\n"
			       "  --leader-election-namespace NS     namespace of the Lease (default: $POD_NAMESPACE or default)\n"
			       "  --leader-election-id NAME          name of the Lease (default multiarch-controller)\n"
			       "  --lease-duration DURATION          (default 15s)\n"
			       "  --renew-deadline DURATION          stop writing when not renewed for this long (default 10s)\n"
			       "  --retry-period DURATION            between lease attempts and renewals (default 2s)\n"
			       "  --identity NAME                    lease holder identity (default: host name and a random suffix)\n"
			       "  --metrics-addr ADDR                /metrics and the live status page at / (HOST:PORT or :PORT;\n"
			       "                                     also spelt --metrics-bind-address;\n"
			       "                                     default 0: off)\n"
			       "  --health-addr ADDR                 /healthz and /readyz (default 0: off; may equal --metrics-addr;\n"
			       "                                     also spelt --health-probe-bind-address)\n"
			       "  --metrics-auth auto|kubernetes|none  who may read --metrics-addr: auto (default) lets callers on this\n"
			       "                                     host in (kubectl port-forward too) and asks others for a bearer\n"
			       "                                     token (TokenReview, SubjectAccessReview); kubernetes asks everyone;\n"
			       "                                     none asks no one\n"
			       "  --log-format text|json             (default text)\n"
			       "  --log-level debug|info|warn|error  (default info)\n"
			       "  -v, -v=N                           verbosity as klog spells it: -v or N of 1 or more is debug\n"
			       "  --help                             show this help\n";

/* Parses a duration flag into seconds (0 allowed when zero_ok). */
static bool parse_seconds(const char *flag, const char *value, bool zero_ok, double *out)
{
	long s;

	if ((zero_ok && strcmp(value, "0") == 0)) {
		*out = 0;
		return true;
	}
	if (!ctl_parse_duration(value, &s) || s < 1 || s > 86400) {
		cli_error("run", "%s %s: want a duration from 1s to 24h, such as 30s or 5m", flag, value);
		return false;
	}
	*out = (double)s;
	return true;
}

/* Adds the comma-separated namespaces of list (modified in place: the commas end the names) to opts; false, with
 * a message, for a name that is not a DNS label or one too many. */
static bool add_namespaces(struct ctl_controller_options *opts, char *list)
{
	for (char *name = list, *comma; name; name = comma ? comma + 1 : NULL) {
		size_t len;
		comma = strchr(name, ',');
		if (comma)
			*comma = '\0';
		len = strlen(name);
		if (len == 0 || len > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != len || name[0] == '-' ||
		    name[len - 1] == '-') {
			cli_error("run", "--namespace %s: a namespace name is a DNS label (lowercase letters, digits, '-', at most 63)",
				  name);
			return false;
		}
		if (opts->namespace_count == CTL_INFORMER_SOURCES_MAX) {
			cli_error("run", "--namespace: at most %d namespaces", CTL_INFORMER_SOURCES_MAX);
			return false;
		}
		opts->namespaces[opts->namespace_count++] = name;
	}
	return true;
}

/* -v as klog and controller-runtime spell it: alone, -vN or -v=N; 0 keeps info, more is debug. False when N is
 * not a number. */
static bool parse_verbosity(const char *arg, enum ctl_log_level *level)
{
	char *end = NULL;
	long n;

	if (!arg) {
		*level = CTL_LOG_DEBUG;
		return true;
	}
	if (*arg == '=')
		arg++;
	n = strtol(arg, &end, 10);
	if (end == arg || *end || n < 0 || n > 10)
		return false;
	*level = n == 0 ? CTL_LOG_INFO : CTL_LOG_DEBUG;
	return true;
}

/* --leader-elect alone (true), --leader-elect=true|false, or --leader-elect true|false (the value as the next
 * word, as before the bare form was accepted). Reads optarg and may step optind over the value; false, with a
 * message, for another value. */
static bool parse_leader_elect(int argc, char **argv, bool *out)
{
	const char *value = optarg;

	if (!value && optind < argc && argv[optind][0] != '-')
		value = argv[optind++]; /* run takes no positional argument: a next word that is no flag is the value */
	if (!value)
		value = "true";
	if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
		cli_error("run", "--leader-elect %s: want true or false", value);
		return false;
	}
	*out = strcmp(value, "true") == 0;
	return true;
}

enum {
	OPT_NAMESPACE = 256,
	OPT_MAX_IN_FLIGHT,
	OPT_CONFIG,
	OPT_RESYNC,
	OPT_BACKOFF,
	OPT_BACKOFF_MAX,
	OPT_BATCH,
	OPT_INDEX_IMAGE,
	OPT_INSECURE,
	OPT_ELECT,
	OPT_LEASE_NS,
	OPT_LEASE_ID,
	OPT_LEASE_DURATION,
	OPT_RENEW,
	OPT_RETRY,
	OPT_IDENTITY,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
	OPT_METRICS_ADDR,
	OPT_HEALTH_ADDR,
	OPT_METRICS_AUTH,
};

static const struct option run_options[] = {
	{"kubeconfig", required_argument, NULL, 'k'},
	{"context", required_argument, NULL, 'c'},
	{"workers", required_argument, NULL, 'w'},
	{"namespace", required_argument, NULL, OPT_NAMESPACE},
	{"max-builds-in-flight", required_argument, NULL, OPT_MAX_IN_FLIGHT},
	{"resync-period", required_argument, NULL, OPT_RESYNC},
	{"retry-backoff", required_argument, NULL, OPT_BACKOFF},
	{"retry-backoff-max", required_argument, NULL, OPT_BACKOFF_MAX},
	{"status-batch", required_argument, NULL, OPT_BATCH},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"index-image", required_argument, NULL, OPT_INDEX_IMAGE},
	{"insecure-registry", required_argument, NULL, OPT_INSECURE},
	{"leader-elect", optional_argument, NULL, OPT_ELECT},
	{"leader-election-namespace", required_argument, NULL, OPT_LEASE_NS},
	{"leader-election-id", required_argument, NULL, OPT_LEASE_ID},
	{"lease-duration", required_argument, NULL, OPT_LEASE_DURATION},
	{"renew-deadline", required_argument, NULL, OPT_RENEW},
	{"retry-period", required_argument, NULL, OPT_RETRY},
	{"identity", required_argument, NULL, OPT_IDENTITY},
	{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"metrics-addr", required_argument, NULL, OPT_METRICS_ADDR},
	{"metrics-bind-address", required_argument, NULL, OPT_METRICS_ADDR}, /* controller-runtime's spelling */
	{"health-addr", required_argument, NULL, OPT_HEALTH_ADDR},
	{"health-probe-bind-address", required_argument, NULL, OPT_HEALTH_ADDR},
	{"metrics-auth", required_argument, NULL, OPT_METRICS_AUTH},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* A flag that takes a duration (c is its option: resync, backoffs, batch, lease timings); false, with a message,
 * for a bad value. */
static bool duration_flag(struct run_flags *f, int c, const char *value)
{
	struct ctl_controller_options *o = &f->opts;
	double seconds;

	switch (c) {
	case OPT_RESYNC:
		return parse_seconds("--resync-period", value, true, &o->resync_s);
	case OPT_BACKOFF:
		return parse_seconds("--retry-backoff", value, false, &o->reconcile.retry_base_s);
	case OPT_BACKOFF_MAX:
		return parse_seconds("--retry-backoff-max", value, false, &o->reconcile.retry_max_s);
	case OPT_BATCH:
		return parse_seconds("--status-batch", value, true, &o->reconcile.status_batch_s);
	default:
		if (!parse_seconds(c == OPT_LEASE_DURATION ? "--lease-duration"
				   : c == OPT_RENEW        ? "--renew-deadline"
							   : "--retry-period",
				   value, false, &seconds))
			return false;
		if (c == OPT_LEASE_DURATION)
			o->lease_duration_s = (long)seconds;
		else if (c == OPT_RENEW)
			o->renew_deadline_s = (long)seconds;
		else
			o->retry_period_s = (long)seconds;
		return true;
	}
}

/* --log-format, --log-level and -v; false, with a message, for a bad value. */
static bool log_flag(struct log_sink *lg, int c, const char *value)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	static const enum ctl_log_level level_of[] = {CTL_LOG_DEBUG, CTL_LOG_INFO, CTL_LOG_WARN, CTL_LOG_ERROR};

	if (c == 'v') {
		if (parse_verbosity(value, &lg->min))
			return true;
		cli_error("run", "-v%s: want -v alone or -v=N with a number N (0: info, 1 and more: debug)", value);
		return false;
	}
	if (c == OPT_LOG_FORMAT) {
		if (strcmp(value, "text") != 0 && strcmp(value, "json") != 0) {
			cli_error("run", "--log-format %s: want text or json", value);
			return false;
		}
		lg->json = strcmp(value, "json") == 0;
		return true;
	}
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(value, levels[i]) == 0) {
			lg->min = level_of[i];
			return true;
		}
	}
	cli_error("run", "--log-level %s: want debug, info, warn or error", value);
	return false;
}

/* --metrics-addr, --health-addr and --metrics-auth; false, with a message, for a bad value. */
static bool http_flag(struct ctl_controller_options *o, int c, const char *value)
{
	char host[256];
	int port;

	if (c == OPT_METRICS_AUTH) {
		if (strcmp(value, "auto") == 0)
			o->metrics_auth = CTL_STATUS_AUTH_AUTO;
		else if (strcmp(value, "kubernetes") == 0)
			o->metrics_auth = CTL_STATUS_AUTH_KUBERNETES;
		else if (strcmp(value, "none") == 0)
			o->metrics_auth = CTL_STATUS_AUTH_NONE;
		else
			cli_error("run", "--metrics-auth %s: want auto, kubernetes or none", value);
		return strcmp(value, "auto") == 0 || strcmp(value, "kubernetes") == 0 || strcmp(value, "none") == 0;
	}
	if (!ctl_httpd_parse_addr(value, host, sizeof(host), &port)) {
		cli_error("run", "--%s %s: want HOST:PORT, :PORT or 0", c == OPT_METRICS_ADDR ? "metrics-addr" : "health-addr", value);
		return false;
	}
	if (c == OPT_METRICS_ADDR)
		o->metrics_addr = value;
	else
		o->health_addr = value;
	return true;
}

/* A flag that takes a count (c: --workers or --max-builds-in-flight); false, with a message, for a bad value. */
static bool count_flag(struct ctl_controller_options *o, int c, const char *value)
{
	long number;

	if (c == 'w') {
		if (!cli_parse_int("run", "--workers", value, 1, 64, &number))
			return false;
		o->workers = (int)number;
		return true;
	}
	if (!cli_parse_int("run", "--max-builds-in-flight", value, 0, 1000000, &number))
		return false;
	o->max_builds_in_flight = (size_t)number;
	return true;
}

/* One flag (c as cli_getopt gave it): false, with a message, for a bad value. */
static bool run_flag(struct run_flags *f, int c, int argc, char **argv)
{
	switch (c) {
	case 'k':
		f->kubeconfig = optarg;
		return true;
	case 'c':
		f->context = optarg;
		return true;
	case 'w':
	case OPT_MAX_IN_FLIGHT:
		return count_flag(&f->opts, c, optarg);
	case OPT_NAMESPACE:
		return add_namespaces(&f->opts, optarg);
	case OPT_CONFIG:
	case OPT_INDEX_IMAGE:
	case OPT_INSECURE:
		return childopts_flag(&f->co, "run",
				      c == OPT_CONFIG        ? "config"
				      : c == OPT_INDEX_IMAGE ? "index-image"
							     : "insecure-registry",
				      optarg);
	case OPT_ELECT:
		return parse_leader_elect(argc, argv, &f->opts.leader_elect);
	case OPT_LEASE_NS:
		f->opts.lease_namespace = optarg;
		return true;
	case OPT_LEASE_ID:
		f->opts.lease_name = optarg;
		return true;
	case OPT_IDENTITY:
		f->opts.identity = optarg;
		return true;
	case OPT_LOG_FORMAT:
	case OPT_LOG_LEVEL:
	case 'v':
		return log_flag(&f->lg, c, optarg);
	case OPT_METRICS_ADDR:
	case OPT_HEALTH_ADDR:
	case OPT_METRICS_AUTH:
		return http_flag(&f->opts, c, optarg);
	case OPT_RESYNC:
	case OPT_BACKOFF:
	case OPT_BACKOFF_MAX:
	case OPT_BATCH:
	case OPT_LEASE_DURATION:
	case OPT_RENEW:
	case OPT_RETRY:
		return duration_flag(f, c, optarg);
	default:
		return false; /* cli_getopt said what was wrong */
	}
}

int read_run_flags(struct run_flags *f, int argc, char **argv)
{
	const char *pod_namespace = getenv("POD_NAMESPACE");
	char host[200] = "";
	uint64_t rng = rng_seed();
	int c;

	ctl_controller_options_init(&f->opts);
	f->lg.min = CTL_LOG_INFO;
	if (pod_namespace && pod_namespace[0])
		f->opts.lease_namespace = pod_namespace;
	gethostname(host, sizeof(host) - 1);
	snprintf(f->identity, sizeof(f->identity), "%s_%08x", host[0] ? host : "multiarch-controller",
		 (unsigned)(rng_next(&rng) & 0xffffffffU));
	f->opts.identity = f->identity;
	optind = 1;
	while ((c = cli_getopt("run", argc, argv, "hv::", run_options)) != -1) {
		if (c == 'h') {
			fputs(run_help, stdout);
			return CLI_EXIT_OK;
		}
		if (!run_flag(f, c, argc, argv))
			return CLI_EXIT_USAGE;
	}
	if (!cli_no_positional("run", argc, argv))
		return CLI_EXIT_USAGE;
	if (f->opts.leader_elect &&
	    !(f->opts.renew_deadline_s < f->opts.lease_duration_s && f->opts.retry_period_s < f->opts.renew_deadline_s)) {
		cli_error("run", "want --retry-period < --renew-deadline < --lease-duration");
		return CLI_EXIT_USAGE;
	}
	if (!childopts_apply(&f->co, "run", &f->opts.reconcile.children))
		return CLI_EXIT_USAGE;
	return -1;
}
