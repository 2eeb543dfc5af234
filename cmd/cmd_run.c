/* multiarch-controller run: runs the controller against a cluster until SIGTERM or SIGINT. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

#include <libwebsockets.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/runflags.h"
#include "controller/controller.h"
#include "controller/metrics.h"
#include "kube/client.h"
#include "kube/config.h"
#include "util/banned.h"

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
