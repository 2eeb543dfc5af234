/* multiarch-controller run: runs the controller against a cluster until SIGTERM or SIGINT. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "cmd/childopts.h"
#include "cmd/cli.h"
#include "cmd/logsink.h"
#include "cmd/commands.h"
#include "controller/buildspec.h"
#include "controller/controller.h"
#include "controller/httpd.h"
#include "controller/metrics.h"
#include "kube/client.h"
#include "kube/config.h"
#include "util/backoff.h"
#include "util/timefmt.h"

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

struct signal_wait {
	sigset_t set;
	atomic_int stop; /* set by the signal thread */
};

static void *wait_for_signal(void *arg)
{
	struct signal_wait *sw = arg;
	int sig = 0;

	if (sigwait(&sw->set, &sig) == 0)
		atomic_store(&sw->stop, 1);
	return NULL;
}

/*
 * Gives the pages of freed memory back to the system. Lists and watch events
 * are parsed whole and then slimmed, so most of what the informers allocate
 * is freed at once; the allocator keeps those pages unless told.
 */
static void release_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
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

/* What run's flags set. */
struct run_flags {
	const char *kubeconfig, *context;
	struct childopts co;
	struct ctl_controller_options opts;
	struct log_sink lg;
	char identity[256];
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

/* One flag (c as cli_getopt gave it): false, with a message, for a bad value. */
static bool run_flag(struct run_flags *f, int c, int argc, char **argv)
{
	long workers;

	switch (c) {
	case 'k':
		f->kubeconfig = optarg;
		return true;
	case 'c':
		f->context = optarg;
		return true;
	case 'w':
		if (!cli_parse_int("run", "--workers", optarg, 1, 64, &workers))
			return false;
		f->opts.workers = (int)workers;
		return true;
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

/* Reads run's flags into f (set to its defaults first). -1 to go on; otherwise the exit code (--help, a usage error). */
static int read_run_flags(struct run_flags *f, int argc, char **argv)
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

/* Runs the controller over client until SIGTERM or SIGINT (blocked in every thread: sw->set), which sw's thread
 * turns into the stop flag. Returns the exit code. */
static int run_until_signalled(struct run_flags *f, struct kube_client *client, const struct kube_config *cfg, struct signal_wait *sw)
{
	struct ctl_controller *ctl;
	pthread_t signal_thread;
	char err[CTL_ERRBUF_SIZE];
	enum ctl_err result;

	f->opts.release_memory = release_memory;
	lws_set_log_level(0, NULL); /* the HTTP server's failures are reported through errbuf, not libwebsockets' own log */
	ctl = ctl_controller_new(client, &f->opts);
	if (!ctl || pthread_create(&signal_thread, NULL, wait_for_signal, sw) != 0) {
		cli_error("run", "cannot start: out of memory or threads");
		ctl_controller_free(ctl);
		return CLI_EXIT_FAILURE;
	}
	pthread_detach(signal_thread);
	log_sink_write(&f->lg, CTL_LOG_INFO, "starting",
		       (const struct ctl_log_field[]){{"kubeconfig", cfg->source}, {"version", MAC_VERSION}}, 2);
	result = ctl_controller_run(ctl, &sw->stop, err, sizeof(err));
	ctl_controller_free(ctl);
	if (result != CTL_OK) {
		cli_error("run", "%s", err);
		return CLI_EXIT_FAILURE;
	}
	log_sink_write(&f->lg, CTL_LOG_INFO, "stopped", NULL, 0);
	return CLI_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	struct run_flags *f = calloc(1, sizeof(*f));
	struct ctl_metrics metrics;
	struct kube_config cfg;
	struct kube_client *client = NULL;
	struct kube_client_options client_opts;
	struct signal_wait sw;
	char user_agent[320], err[CTL_ERRBUF_SIZE];
	int rc;

	if (!f)
		return CLI_EXIT_FAILURE;
	pthread_mutex_init(&f->lg.lock, NULL);
	if ((rc = read_run_flags(f, argc, argv)) >= 0)
		goto out;
	f->opts.log = log_sink_write;
	f->opts.log_ctx = &f->lg;
	rc = CLI_EXIT_FAILURE;
#ifdef __GLIBC__
	/* before any thread starts (the client's transfer loop is one): a few allocator arenas, not one per thread, so
	 * freed memory is reused, not scattered */
	mallopt(M_ARENA_MAX, 2);
#endif
	/* also before any thread starts, which inherits the mask: the signals go to one thread only (see
	 * run_until_signalled()); a thread that left them open would die of the first SIGTERM */
	atomic_init(&sw.stop, 0);
	sigemptyset(&sw.set);
	sigaddset(&sw.set, SIGTERM);
	sigaddset(&sw.set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sw.set, NULL);
	if (kube_config_load(f->kubeconfig, f->context, &cfg, err, sizeof(err)) != KUBE_OK) {
		cli_error("run", "%s", err);
		goto out;
	}
	kube_client_options_init(&client_opts);
	ctl_metrics_init(&metrics);
	f->opts.metrics = &metrics;
	client_opts.on_response = ctl_metrics_api;
	client_opts.on_response_ctx = &metrics;
	/* the identity in the user agent tells replicas apart in the API server's audit log */
	snprintf(user_agent, sizeof(user_agent), "multiarch-controller/%s (%s)", MAC_VERSION, f->opts.identity);
	client_opts.user_agent = user_agent;
	if (kube_client_new(&cfg, &client_opts, &client, err, sizeof(err)) != KUBE_OK)
		cli_error("run", "%s", err);
	else
		rc = run_until_signalled(f, client, &cfg, &sw);
	kube_client_free(client);
	kube_config_free(&cfg);
	ctl_metrics_destroy(&metrics);
out:
	childopts_free(&f->co);
	pthread_mutex_destroy(&f->lg.lock);
	free(f);
	return rc;
}
