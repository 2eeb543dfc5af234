/* write-capacity: how many writes a second the API server takes from one multiplexed client (the kube client's
 * transfer loop, HTTP/2 streams over a few connections), for the kinds of write the controller makes: pod creates,
 * Event creates, MultiArchBuild status patches, and their mix per build. Prints one key=value line. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/events.h"
#include "kube/mux.h"
#include "util/timefmt.h"
#include "util/banned.h"

#define THREADS_MAX 256

enum write_kind { WRITE_POD, WRITE_EVENT, WRITE_STATUS, WRITE_MIX };

/* One writing thread and what it did. */
struct writer {
	struct kube_client *c;
	const char *ns;
	enum write_kind kind;
	unsigned id;
	double until; /* monotonic seconds */
	unsigned long writes, errors;
	char first_error[KUBE_ERRBUF_SIZE];
};

static void count(struct writer *w, enum kube_err e, const char *err)
{
	if (e == KUBE_OK) {
		w->writes++;
		return;
	}
	if (!w->errors++)
		snprintf(w->first_error, sizeof(w->first_error), "%s", err);
}

/* A pod no scheduler takes (schedulerName none), so only the create is measured. */
static void create_pod(struct writer *w, unsigned long n)
{
	char path[KUBE_PATH_MAX], body[512], err[KUBE_ERRBUF_SIZE];
	struct kube_response r;

	kube_path(path, sizeof(path), "", "v1", w->ns, "pods", NULL, NULL);
	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"cap-%u-%lu\",\"labels\":{\"bench\":\"capacity\"}},"
		 "\"spec\":{\"schedulerName\":\"none\",\"containers\":[{\"name\":\"c\",\"image\":\"example.invalid/x:1\"}]}}",
		 w->id, n);
	count(w, kube_request(w->c, "POST", path, KUBE_CT_JSON, body, strlen(body), &r, err, sizeof(err)), err);
	kube_response_free(&r);
}

static void create_event(struct writer *w, unsigned long n)
{
	const struct kube_object_ref ref = {"multiarch.dev/v1alpha1", "MultiArchBuild", w->ns, "capacity", NULL};
	char err[KUBE_ERRBUF_SIZE], note[64];

	snprintf(note, sizeof(note), "write %lu of writer %u", n, w->id);
	count(w,
	      kube_event_record(w->c, &ref, NULL, "Normal", "Capacity", "Reconcile", note, "multiarch.dev/capacity", "bench", err,
				sizeof(err)),
	      err);
}

/* A merge patch of the writer's own build's status that changes it (a new observedGeneration each time). */
static void patch_status(struct writer *w, unsigned long n)
{
	char path[KUBE_PATH_MAX], name[64], body[128], err[KUBE_ERRBUF_SIZE];
	struct kube_response r;

	snprintf(name, sizeof(name), "cap-%u", w->id);
	kube_path(path, sizeof(path), "multiarch.dev", "v1alpha1", w->ns, "multiarchbuilds", name, "status");
	snprintf(body, sizeof(body), "{\"status\":{\"phase\":\"Building\",\"observedGeneration\":%lu}}", n + 1);
	count(w, kube_request(w->c, "PATCH", path, KUBE_CT_MERGE_PATCH, body, strlen(body), &r, err, sizeof(err)), err);
	kube_response_free(&r);
}

/* Creates the writer's build, whose status patch_status() writes. */
static bool create_build(struct writer *w)
{
	char path[KUBE_PATH_MAX], body[512], err[KUBE_ERRBUF_SIZE];
	struct kube_response r;
	enum kube_err e;

	kube_path(path, sizeof(path), "multiarch.dev", "v1alpha1", w->ns, "multiarchbuilds", NULL, NULL);
	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"multiarch.dev/v1alpha1\",\"kind\":\"MultiArchBuild\",\"metadata\":{\"name\":\"cap-%u\"},"
		 "\"spec\":{\"image\":\"registry.example/cap:1\",\"platforms\":[\"linux/amd64\"],"
		 "\"source\":{\"git\":{\"url\":\"https://git.example/cap.git\"}}}}",
		 w->id);
	e = kube_request(w->c, "POST", path, KUBE_CT_JSON, body, strlen(body), &r, err, sizeof(err));
	kube_response_free(&r);
	if (e != KUBE_OK && e != KUBE_E_CONFLICT)
		fprintf(stderr, "write-capacity: cannot create build cap-%u: %s\n", w->id, err);
	return e == KUBE_OK || e == KUBE_E_CONFLICT;
}

/* The writes of one build, in the proportions given (per two builds: 3 pods, 6 status patches, 2 Events). */
static void write_mix(struct writer *w, unsigned long n)
{
	static const enum write_kind cycle[] = {WRITE_POD,    WRITE_STATUS, WRITE_STATUS, WRITE_EVENT,  WRITE_POD,  WRITE_STATUS,
						WRITE_STATUS, WRITE_POD,    WRITE_STATUS, WRITE_STATUS, WRITE_EVENT};
	enum write_kind k = cycle[n % (sizeof(cycle) / sizeof(cycle[0]))];

	if (k == WRITE_POD)
		create_pod(w, n);
	else if (k == WRITE_STATUS)
		patch_status(w, n);
	else
		create_event(w, n);
}

static void *write_until(void *arg)
{
	struct writer *w = arg;

	for (unsigned long n = 0; monotonic_seconds() < w->until; n++) {
		switch (w->kind) {
		case WRITE_POD:
			create_pod(w, n);
			break;
		case WRITE_EVENT:
			create_event(w, n);
			break;
		case WRITE_STATUS:
			patch_status(w, n);
			break;
		case WRITE_MIX:
			write_mix(w, n);
			break;
		}
	}
	return NULL;
}

static bool parse_kind(const char *s, enum write_kind *out)
{
	static const char *const names[] = {"pods", "events", "status", "mix"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum write_kind)i;
			return true;
		}
	return false;
}

/* Runs threads writers of kind in ns for seconds; prints what they did. */
static int measure(struct kube_client *c, const char *ns, enum write_kind kind, unsigned threads, double seconds)
{
	static struct writer writers[THREADS_MAX];
	pthread_t ids[THREADS_MAX];
	unsigned long writes = 0, errors = 0;
	struct kube_mux_stats st;
	const char *first_error = "";
	unsigned started = 0;
	double t0, t1;

	for (unsigned i = 0; i < threads; i++) {
		writers[i] = (struct writer){.c = c, .ns = ns, .kind = kind, .id = i};
		if ((kind == WRITE_STATUS || kind == WRITE_MIX) && !create_build(&writers[i]))
			return 1;
	}
	t0 = monotonic_seconds();
	for (unsigned i = 0; i < threads; i++) {
		writers[i].until = t0 + seconds;
		if (pthread_create(&ids[i], NULL, write_until, &writers[i]) != 0)
			break;
		started++;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(ids[i], NULL);
	t1 = monotonic_seconds();
	for (unsigned i = 0; i < started; i++) {
		writes += writers[i].writes;
		errors += writers[i].errors;
		if (!first_error[0] && writers[i].first_error[0])
			first_error = writers[i].first_error;
	}
	kube_client_mux_stats(c, &st);
	printf("threads=%u seconds=%.1f writes=%lu rate=%.1f errors=%lu connections=%llu peak_in_flight=%u first_error=\"%s\"\n", started,
	       t1 - t0, writes, (double)writes / (t1 - t0), errors, st.connections, st.in_flight_peak, first_error);
	return 0;
}

int main(int argc, char **argv)
{
	struct kube_config cfg;
	struct kube_client *c;
	char err[KUBE_ERRBUF_SIZE];
	enum write_kind kind;
	long threads, seconds;
	int rc;

	if (argc != 5 || !parse_kind(argv[2], &kind) || (threads = strtol(argv[3], NULL, 10)) < 1 || threads > THREADS_MAX ||
	    (seconds = strtol(argv[4], NULL, 10)) < 1) {
		fprintf(stderr, "usage: write-capacity NAMESPACE pods|events|status|mix THREADS(1-%d) SECONDS\n", THREADS_MAX);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (kube_config_load(NULL, NULL, &cfg, err, sizeof(err)) != KUBE_OK ||
	    kube_client_new(&cfg, NULL, &c, err, sizeof(err)) != KUBE_OK) {
		fprintf(stderr, "write-capacity: %s\n", err);
		return 1;
	}
	rc = measure(c, argv[1], kind, (unsigned)threads, (double)seconds);
	kube_client_free(c);
	kube_config_free(&cfg);
	curl_global_cleanup();
	return rc;
}
