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
	atomic_int *stop;
};

static void *wait_for_signal(void *arg)
{
	struct signal_wait *sw = arg;
	int sig = 0;

	if (sigwait(&sw->set, &sig) == 0)
		atomic_store(sw->stop, 1);
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

int cmd_run(int argc, char **argv)
{
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
	static const struct option longopts[] = {
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
	const char *kubeconfig = NULL, *context = NULL, *pod_namespace;
	struct childopts co = {0};
	struct ctl_metrics metrics;
	char addr_host[256];
	int addr_port;
	struct ctl_controller_options opts;
	struct log_sink lg = {false, CTL_LOG_INFO, PTHREAD_MUTEX_INITIALIZER};
	struct kube_config cfg;
	struct kube_client *client = NULL;
	struct kube_client_options client_opts;
	char user_agent[320];
	struct ctl_controller *ctl;
	struct signal_wait sw;
	pthread_t signal_thread;
	atomic_int stop = 0;
	char err[CTL_ERRBUF_SIZE], identity[256], host[200] = "";
	double seconds;
	long workers = 2;
	enum ctl_err result;
	uint64_t rng = rng_seed();
	int c;

	ctl_controller_options_init(&opts);
	pod_namespace = getenv("POD_NAMESPACE");
	if (pod_namespace && pod_namespace[0])
		opts.lease_namespace = pod_namespace;
	gethostname(host, sizeof(host) - 1);
	snprintf(identity, sizeof(identity), "%s_%08x", host[0] ? host : "multiarch-controller", (unsigned)(rng_next(&rng) & 0xffffffffU));
	opts.identity = identity;
	optind = 1;
	while ((c = cli_getopt("run", argc, argv, "hv::", longopts)) != -1) {
		switch (c) {
		case 'k':
			kubeconfig = optarg;
			break;
		case 'c':
			context = optarg;
			break;
		case 'w':
			if (!cli_parse_int("run", "--workers", optarg, 1, 64, &workers))
				return CLI_EXIT_USAGE;
			opts.workers = (int)workers;
			break;
		case OPT_NAMESPACE:
			if (!add_namespaces(&opts, optarg))
				return CLI_EXIT_USAGE;
			break;
		case OPT_RESYNC:
			if (!parse_seconds("--resync-period", optarg, true, &opts.resync_s))
				return CLI_EXIT_USAGE;
			break;
		case OPT_BACKOFF:
			if (!parse_seconds("--retry-backoff", optarg, false, &opts.reconcile.retry_base_s))
				return CLI_EXIT_USAGE;
			break;
		case OPT_BACKOFF_MAX:
			if (!parse_seconds("--retry-backoff-max", optarg, false, &opts.reconcile.retry_max_s))
				return CLI_EXIT_USAGE;
			break;
		case OPT_BATCH:
			if (!parse_seconds("--status-batch", optarg, true, &opts.reconcile.status_batch_s))
				return CLI_EXIT_USAGE;
			break;
		case OPT_CONFIG:
		case OPT_INDEX_IMAGE:
		case OPT_INSECURE:
			if (!childopts_flag(&co, "run",
					    c == OPT_CONFIG        ? "config"
					    : c == OPT_INDEX_IMAGE ? "index-image"
								   : "insecure-registry",
					    optarg))
				return CLI_EXIT_USAGE;
			break;
		case OPT_ELECT:
			if (!parse_leader_elect(argc, argv, &opts.leader_elect))
				return CLI_EXIT_USAGE;
			break;
		case OPT_LEASE_NS:
			opts.lease_namespace = optarg;
			break;
		case OPT_LEASE_ID:
			opts.lease_name = optarg;
			break;
		case OPT_LEASE_DURATION:
		case OPT_RENEW:
		case OPT_RETRY:
			if (!parse_seconds(c == OPT_LEASE_DURATION ? "--lease-duration"
					   : c == OPT_RENEW        ? "--renew-deadline"
								   : "--retry-period",
					   optarg, false, &seconds))
				return CLI_EXIT_USAGE;
			if (c == OPT_LEASE_DURATION)
				opts.lease_duration_s = (long)seconds;
			else if (c == OPT_RENEW)
				opts.renew_deadline_s = (long)seconds;
			else
				opts.retry_period_s = (long)seconds;
			break;
		case OPT_IDENTITY:
			opts.identity = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0) {
				cli_error("run", "--log-format %s: want text or json", optarg);
				return CLI_EXIT_USAGE;
			}
			lg.json = strcmp(optarg, "json") == 0;
			break;
		case OPT_LOG_LEVEL:
			if (strcmp(optarg, "debug") == 0)
				lg.min = CTL_LOG_DEBUG;
			else if (strcmp(optarg, "info") == 0)
				lg.min = CTL_LOG_INFO;
			else if (strcmp(optarg, "warn") == 0)
				lg.min = CTL_LOG_WARN;
			else if (strcmp(optarg, "error") == 0)
				lg.min = CTL_LOG_ERROR;
			else {
				cli_error("run", "--log-level %s: want debug, info, warn or error", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'v':
			if (!parse_verbosity(optarg, &lg.min)) {
				cli_error("run", "-v%s: want -v alone or -v=N with a number N (0: info, 1 and more: debug)", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_METRICS_ADDR:
		case OPT_HEALTH_ADDR:
			if (!ctl_httpd_parse_addr(optarg, addr_host, sizeof(addr_host), &addr_port)) {
				cli_error("run", "--%s %s: want HOST:PORT, :PORT or 0",
					  c == OPT_METRICS_ADDR ? "metrics-addr" : "health-addr", optarg);
				return CLI_EXIT_USAGE;
			}
			if (c == OPT_METRICS_ADDR)
				opts.metrics_addr = optarg;
			else
				opts.health_addr = optarg;
			break;
		case OPT_METRICS_AUTH:
			if (strcmp(optarg, "auto") == 0)
				opts.metrics_auth = CTL_STATUS_AUTH_AUTO;
			else if (strcmp(optarg, "kubernetes") == 0)
				opts.metrics_auth = CTL_STATUS_AUTH_KUBERNETES;
			else if (strcmp(optarg, "none") == 0)
				opts.metrics_auth = CTL_STATUS_AUTH_NONE;
			else {
				cli_error("run", "--metrics-auth %s: want auto, kubernetes or none", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(run_help, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (!cli_no_positional("run", argc, argv))
		return CLI_EXIT_USAGE;
	if (opts.leader_elect && !(opts.renew_deadline_s < opts.lease_duration_s && opts.retry_period_s < opts.renew_deadline_s)) {
		cli_error("run", "want --retry-period < --renew-deadline < --lease-duration");
		return CLI_EXIT_USAGE;
	}
	if (!childopts_apply(&co, "run", &opts.reconcile.children))
		return CLI_EXIT_USAGE;
	opts.log = log_sink_write;
	opts.log_ctx = &lg;

	if (kube_config_load(kubeconfig, context, &cfg, err, sizeof(err)) != KUBE_OK) {
		cli_error("run", "%s", err);
		childopts_free(&co);
		return CLI_EXIT_FAILURE;
	}
	kube_client_options_init(&client_opts);
	ctl_metrics_init(&metrics);
	opts.metrics = &metrics;
	client_opts.on_response = ctl_metrics_api;
	client_opts.on_response_ctx = &metrics;
	/* the identity in the user agent tells replicas apart in the API server's audit log */
	snprintf(user_agent, sizeof(user_agent), "multiarch-controller/%s (%s)", MAC_VERSION, opts.identity);
	client_opts.user_agent = user_agent;
	if (kube_client_new(&cfg, &client_opts, &client, err, sizeof(err)) != KUBE_OK) {
		cli_error("run", "%s", err);
		kube_config_free(&cfg);
		childopts_free(&co);
		return CLI_EXIT_FAILURE;
	}
#ifdef __GLIBC__
	/* before any thread starts: a few allocator arenas, not one per thread, so freed memory is reused, not scattered */
	mallopt(M_ARENA_MAX, 2);
#endif
	opts.release_memory = release_memory;
	lws_set_log_level(0, NULL); /* the HTTP server's failures are reported through errbuf, not libwebsockets' own log */
	ctl = ctl_controller_new(client, &opts);
	/* the signals go to one thread only, which turns them into the stop flag */
	sigemptyset(&sw.set);
	sigaddset(&sw.set, SIGTERM);
	sigaddset(&sw.set, SIGINT);
	sw.stop = &stop;
	pthread_sigmask(SIG_BLOCK, &sw.set, NULL);
	if (!ctl || pthread_create(&signal_thread, NULL, wait_for_signal, &sw) != 0) {
		cli_error("run", "cannot start: out of memory or threads");
		ctl_controller_free(ctl);
		kube_client_free(client);
		kube_config_free(&cfg);
		childopts_free(&co);
		return CLI_EXIT_FAILURE;
	}
	pthread_detach(signal_thread);
	log_sink_write(&lg, CTL_LOG_INFO, "starting", (const struct ctl_log_field[]){{"kubeconfig", cfg.source}, {"version", MAC_VERSION}},
		       2);
	result = ctl_controller_run(ctl, &stop, err, sizeof(err));
	ctl_controller_free(ctl);
	kube_client_free(client);
	kube_config_free(&cfg);
	childopts_free(&co);
	ctl_metrics_destroy(&metrics);
	if (result != CTL_OK) {
		cli_error("run", "%s", err);
		return CLI_EXIT_FAILURE;
	}
	log_sink_write(&lg, CTL_LOG_INFO, "stopped", NULL, 0);
	return CLI_EXIT_OK;
}
