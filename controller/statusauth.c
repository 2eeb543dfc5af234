/* Who may read the status port: bearer tokens checked with TokenReview and SubjectAccessReview on the API server,
 * on a thread of its own, with the verdicts cached for a minute by the token's hash. */
#include "controller/statusauth.h"
#include "util/timefmt.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/banned.h"

#define VERDICTS_MAX 128
#define QUEUE_MAX 16
#define VERDICT_TTL_S 60
#define FAILURE_TTL_S 5
#define HASH_LEN 32

/* One review's outcome, by the token's hash. */
struct verdict {
	unsigned char hash[HASH_LEN];
	double expires; /* CLOCK_MONOTONIC; 0: free */
	bool failed;    /* the review could not be made */
	bool authenticated, may_metrics, may_builds;
};

/*
 * Invariants: lock guards verdicts, queue and stop; a token is in queue (a
 * copy, wiped when it leaves) at most once and only while it has no live
 * verdict; the reviewer thread is the only one that calls the API server.
 */
struct ctl_status_auth {
	struct kube_client *client;
	void (*wake)(void *ctx);
	void *wake_ctx;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct verdict verdicts[VERDICTS_MAX];
	char *queue[QUEUE_MAX];
	size_t queued;
	bool stop;
	pthread_t thread;
};

static void token_hash(const char *token, unsigned char *out)
{
	unsigned int len = HASH_LEN;

	EVP_Digest(token, strlen(token), out, &len, EVP_sha256(), NULL);
}

/* The live verdict for hash, or NULL. Under the lock. */
static struct verdict *find_verdict(struct ctl_status_auth *a, const unsigned char *hash, double now)
{
	for (size_t i = 0; i < VERDICTS_MAX; i++)
		if (a->verdicts[i].expires > now && memcmp(a->verdicts[i].hash, hash, HASH_LEN) == 0)
			return &a->verdicts[i];
	return NULL;
}

/* A slot for a new verdict: a free or expired one, else the one expiring first. Under the lock. */
static struct verdict *verdict_slot(struct ctl_status_auth *a, double now)
{
	struct verdict *oldest = &a->verdicts[0];

	for (size_t i = 0; i < VERDICTS_MAX; i++) {
		if (a->verdicts[i].expires <= now)
			return &a->verdicts[i];
		if (a->verdicts[i].expires < oldest->expires)
			oldest = &a->verdicts[i];
	}
	return oldest;
}

/* Wipes the token a TokenReview tree holds (spec.token), before the tree is freed. */
static void wipe_token(cJSON *review)
{
	cJSON *token = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(review, "spec"), "token");

	if (cJSON_IsString(token))
		OPENSSL_cleanse(token->valuestring, strlen(token->valuestring));
}

/* POSTs body to path; the parsed answer (caller frees) or NULL. The raw answer is wiped (a TokenReview's
 * repeats the token). */
static cJSON *post_review(struct kube_client *c, const char *path, const cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body), err[KUBE_ERRBUF_SIZE];
	struct kube_response resp;
	cJSON *answer = NULL;

	if (!text)
		return NULL;
	if (kube_request(c, "POST", path, KUBE_CT_JSON, text, strlen(text), &resp, err, sizeof(err)) == KUBE_OK)
		answer = cJSON_ParseWithLength(dynbuf_str(&resp.body), dynbuf_len(&resp.body));
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (resp.body.data)
		OPENSSL_cleanse(resp.body.data, resp.body.alloc);
	kube_response_free(&resp);
	return answer;
}

/* A SubjectAccessReview for the user of a TokenReview's status (borrowed); attrs is taken. Whether allowed. */
static bool access_allowed(struct kube_client *c, const cJSON *user, const char *attrs_key, cJSON *attrs, bool *failed)
{
	cJSON *review = cJSON_CreateObject(), *spec = cJSON_AddObjectToObject(review, "spec"), *answer;
	static const char *const fields[][2] = {{"username", "user"}, {"uid", "uid"}, {"groups", "groups"}, {"extra", "extra"}};
	bool allowed;

	cJSON_AddStringToObject(review, "apiVersion", "authorization.k8s.io/v1");
	cJSON_AddStringToObject(review, "kind", "SubjectAccessReview");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(user, fields[i][0]);
		if (v)
			cJSON_AddItemToObject(spec, fields[i][1], cJSON_Duplicate(v, true));
	}
	cJSON_AddItemToObject(spec, attrs_key, attrs);
	answer = post_review(c, "/apis/authorization.k8s.io/v1/subjectaccessreviews", review);
	if (!answer)
		*failed = true;
	allowed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(answer, "status"), "allowed"));
	cJSON_Delete(answer);
	cJSON_Delete(review);
	return allowed;
}

/* Reviews token: who it is, and what that user may read here. */
static struct verdict review(struct kube_client *c, const char *token)
{
	struct verdict v = {0};
	cJSON *body = cJSON_CreateObject(), *answer, *attrs;
	const cJSON *status;

	cJSON_AddStringToObject(body, "apiVersion", "authentication.k8s.io/v1");
	cJSON_AddStringToObject(body, "kind", "TokenReview");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "spec"), "token", token);
	answer = post_review(c, "/apis/authentication.k8s.io/v1/tokenreviews", body);
	wipe_token(body);
	wipe_token(answer); /* the answer repeats the spec */
	cJSON_Delete(body);
	status = cJSON_GetObjectItemCaseSensitive(answer, "status");
	v.failed = !answer;
	v.authenticated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "authenticated"));
	if (v.authenticated) {
		const cJSON *user = cJSON_GetObjectItemCaseSensitive(status, "user");
		attrs = cJSON_CreateObject();
		cJSON_AddStringToObject(attrs, "path", "/metrics");
		cJSON_AddStringToObject(attrs, "verb", "get");
		v.may_metrics = access_allowed(c, user, "nonResourceAttributes", attrs, &v.failed);
		attrs = cJSON_CreateObject();
		cJSON_AddStringToObject(attrs, "group", "multiarch.dev");
		cJSON_AddStringToObject(attrs, "resource", "multiarchbuilds");
		cJSON_AddStringToObject(attrs, "verb", "list");
		v.may_builds = access_allowed(c, user, "resourceAttributes", attrs, &v.failed);
	}
	cJSON_Delete(answer);
	return v;
}

static void *reviewer(void *arg)
{
	struct ctl_status_auth *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		char *token;
		struct verdict v, *slot;
		while (!a->stop && a->queued == 0)
			pthread_cond_wait(&a->work, &a->lock);
		if (a->stop)
			break;
		token = a->queue[0];
		pthread_mutex_unlock(&a->lock);
		v = review(a->client, token);
		token_hash(token, v.hash);
		v.expires = monotonic_seconds() + (v.failed ? FAILURE_TTL_S : VERDICT_TTL_S);
		pthread_mutex_lock(&a->lock);
		slot = verdict_slot(a, monotonic_seconds());
		*slot = v;
		memmove(a->queue, a->queue + 1, (a->queued - 1) * sizeof(a->queue[0]));
		a->queued--;
		OPENSSL_cleanse(token, strlen(token));
		free(token);
		pthread_mutex_unlock(&a->lock);
		if (a->wake)
			a->wake(a->wake_ctx);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct ctl_status_auth *ctl_status_auth_new(struct kube_client *client, void (*wake)(void *ctx), void *ctx)
{
	struct ctl_status_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->client = client;
	a->wake = wake;
	a->wake_ctx = ctx;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	if (pthread_create(&a->thread, NULL, reviewer, a) != 0) {
		pthread_cond_destroy(&a->work);
		pthread_mutex_destroy(&a->lock);
		free(a);
		return NULL;
	}
	return a;
}

void ctl_status_auth_free(struct ctl_status_auth *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	for (size_t i = 0; i < a->queued; i++) {
		OPENSSL_cleanse(a->queue[i], strlen(a->queue[i]));
		free(a->queue[i]);
	}
	pthread_cond_destroy(&a->work);
	pthread_mutex_destroy(&a->lock);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

/* The verdict v gives for access. */
static enum ctl_auth_verdict judge(const struct verdict *v, enum ctl_access access)
{
	if (v->failed)
		return CTL_AUTH_UNAVAILABLE;
	if (!v->authenticated)
		return CTL_AUTH_UNAUTHENTICATED;
	return (access == CTL_ACCESS_METRICS ? v->may_metrics : v->may_builds) ? CTL_AUTH_ALLOWED : CTL_AUTH_FORBIDDEN;
}

/* Queues a copy of token unless it is queued already. Under the lock. */
static enum ctl_auth_verdict enqueue(struct ctl_status_auth *a, const char *token)
{
	char *copy;

	for (size_t i = 0; i < a->queued; i++)
		if (strcmp(a->queue[i], token) == 0)
			return CTL_AUTH_PENDING;
	if (a->queued == QUEUE_MAX || !(copy = strdup(token)))
		return CTL_AUTH_UNAVAILABLE;
	a->queue[a->queued++] = copy;
	pthread_cond_signal(&a->work);
	return CTL_AUTH_PENDING;
}

enum ctl_auth_verdict ctl_status_auth_check(struct ctl_status_auth *a, const char *token, enum ctl_access access)
{
	unsigned char hash[HASH_LEN];
	const struct verdict *v;
	enum ctl_auth_verdict out;

	if (!token || !token[0] || strlen(token) > CTL_AUTH_TOKEN_MAX)
		return CTL_AUTH_UNAUTHENTICATED;
	token_hash(token, hash);
	pthread_mutex_lock(&a->lock);
	v = find_verdict(a, hash, monotonic_seconds());
	out = v ? judge(v, access) : enqueue(a, token);
	pthread_mutex_unlock(&a->lock);
	return out;
}

int ctl_auth_http_status(enum ctl_auth_verdict v)
{
	switch (v) {
	case CTL_AUTH_ALLOWED:
		return 200;
	case CTL_AUTH_FORBIDDEN:
		return 403;
	case CTL_AUTH_UNAUTHENTICATED:
		return 401;
	default:
		return 503;
	}
}
