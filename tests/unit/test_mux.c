/* Unit tests for kube/mux.c and the client's requests over it, against a loopback HTTP/1.1 server of the test's own:
 * answers out of order, a connection lost with transfers in flight, the bound in flight, shutdown with transfers in
 * flight, 409 Conflict and AlreadyExists through kube_request. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/mux.h"
#include "util/backoff.h"
#include "util/banned.h"

#define CONNECTIONS_MAX 32
#define REQUEST_MAX 8192

/* The test's server: each connection on a thread of its own, requests answered by their path (see answer()). */
struct server {
	int listen_fd;
	int port;
	pthread_t acceptor;
	pthread_t conns[CONNECTIONS_MAX];
	atomic_int conn_count;
	atomic_int stop;
	atomic_int release_held; /* /hold answers once this is set */
	atomic_int held_now;     /* requests of /hold waiting */
};

struct conn {
	struct server *srv;
	int fd;
};

static bool send_all(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	return true;
}

static bool respond(int fd, int code, const char *reason, const char *body)
{
	char head[256];

	snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", code, reason,
		 strlen(body));
	return send_all(fd, head) && send_all(fd, body);
}

/* Answers one request for path; false closes the connection (on purpose for /drop). */
static bool answer(struct server *srv, int fd, const char *path)
{
	if (strncmp(path, "/slow", 5) == 0) {
		sleep_ms(400);
		return respond(fd, 200, "OK", "{\"path\":\"slow\"}");
	}
	if (strncmp(path, "/drop", 5) == 0)
		return false;
	if (strncmp(path, "/hold", 5) == 0) {
		atomic_fetch_add(&srv->held_now, 1);
		while (!atomic_load(&srv->release_held) && !atomic_load(&srv->stop))
			sleep_ms(10);
		atomic_fetch_sub(&srv->held_now, 1);
		return !atomic_load(&srv->stop) && respond(fd, 200, "OK", "{\"path\":\"hold\"}");
	}
	if (strncmp(path, "/exists", 7) == 0)
		return respond(fd, 409, "Conflict",
			       "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"pods \\\"a\\\" already exists\",\"reason\":"
			       "\"AlreadyExists\",\"code\":409}");
	if (strncmp(path, "/conflict", 9) == 0)
		return respond(fd, 409, "Conflict",
			       "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"the object has been modified\",\"reason\":"
			       "\"Conflict\",\"code\":409}");
	return respond(fd, 200, "OK", "{\"path\":\"fast\"}");
}

/* Reads one request (head and Content-Length body) into buf; its path into path. False at the end or on stop. */
static bool read_request(struct server *srv, int fd, char *buf, char *path, size_t path_len)
{
	size_t have = 0;
	char *end = NULL, *cl;
	long body = 0;

	while (!(end = strstr(buf, "\r\n\r\n"))) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		if (atomic_load(&srv->stop) || have + 1 >= REQUEST_MAX)
			return false;
		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recv(fd, buf + have, REQUEST_MAX - 1 - have, 0);
		if (n <= 0)
			return false;
		have += (size_t)n;
		buf[have] = '\0';
	}
	if ((cl = strstr(buf, "Content-Length: ")))
		body = strtol(cl + 16, NULL, 10);
	for (size_t got = have - (size_t)(end + 4 - buf); (long)got < body;) {
		char sink[512];
		ssize_t n = recv(fd, sink, sizeof(sink), 0);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	if (sscanf(buf, "%*s %255s", path) != 1)
		return false;
	(void)path_len;
	return true;
}

static void *serve_conn(void *arg)
{
	struct conn *c = arg;
	char buf[REQUEST_MAX], path[256];

	for (;;) {
		buf[0] = '\0';
		if (!read_request(c->srv, c->fd, buf, path, sizeof(path)) || !answer(c->srv, c->fd, path))
			break;
	}
	close(c->fd);
	free(c);
	return NULL;
}

static void *accept_loop(void *arg)
{
	struct server *srv = arg;

	while (!atomic_load(&srv->stop)) {
		struct pollfd p = {.fd = srv->listen_fd, .events = POLLIN};
		struct conn *c;
		int fd, i;
		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(srv->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		i = atomic_load(&srv->conn_count);
		c = malloc(sizeof(*c));
		if (i >= CONNECTIONS_MAX || !c) {
			free(c);
			close(fd);
			continue;
		}
		c->srv = srv;
		c->fd = fd;
		if (pthread_create(&srv->conns[i], NULL, serve_conn, c) != 0) {
			free(c);
			close(fd);
			continue;
		}
		atomic_store(&srv->conn_count, i + 1);
	}
	return NULL;
}

static void server_start(struct server *srv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	memset(srv, 0, sizeof(*srv));
	srv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(srv->listen_fd >= 0);
	assert_int_equal(bind(srv->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv->listen_fd, 64), 0);
	assert_int_equal(getsockname(srv->listen_fd, (struct sockaddr *)&a, &len), 0);
	srv->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&srv->acceptor, NULL, accept_loop, srv), 0);
}

static void server_stop(struct server *srv)
{
	atomic_store(&srv->stop, 1);
	pthread_join(srv->acceptor, NULL);
	for (int i = 0; i < atomic_load(&srv->conn_count); i++)
		pthread_join(srv->conns[i], NULL);
	close(srv->listen_fd);
}

/* One submitted transfer and what came of it. */
struct probe {
	CURL *h;
	char url[128];
	char body[256];
	size_t body_len;
	atomic_int ended;
	CURLcode rc;
	atomic_int *order; /* the shared count of ended transfers */
	int position;      /* this one's place in the order of endings, from 1 */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct probe *p = userp;
	size_t len = size * nmemb;

	if (p->body_len + len < sizeof(p->body)) {
		memcpy(p->body + p->body_len, data, len);
		p->body_len += len;
		p->body[p->body_len] = '\0';
	}
	return len;
}

static void probe_done(void *ctx, CURLcode rc)
{
	struct probe *p = ctx;

	p->rc = rc;
	p->position = atomic_fetch_add(p->order, 1) + 1;
	atomic_store(&p->ended, 1);
}

static void probe_init(struct probe *p, const struct server *srv, const char *path, atomic_int *order)
{
	memset(p, 0, sizeof(*p));
	p->order = order;
	snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%d%s", srv->port, path);
	p->h = curl_easy_init();
	assert_non_null(p->h);
	curl_easy_setopt(p->h, CURLOPT_URL, p->url);
	curl_easy_setopt(p->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->h, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(p->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(p->h, CURLOPT_WRITEDATA, p);
}

static void wait_ended(struct probe *p, size_t n)
{
	for (int i = 0; i < 2000; i++) {
		size_t ended = 0;
		for (size_t j = 0; j < n; j++)
			ended += (size_t)atomic_load(&p[j].ended);
		if (ended == n)
			return;
		sleep_ms(10);
	}
	fail_msg("transfers did not end within 20 s");
}

/* Submits count probes of path to m. */
static void submit_probes(struct kube_mux *m, const struct server *srv, struct probe *p, int count, const char *path, atomic_int *order)
{
	for (int i = 0; i < count; i++) {
		probe_init(&p[i], srv, path, order);
		assert_true(kube_mux_submit(m, p[i].h, probe_done, &p[i]));
	}
}

/* Waits (at most 5 s) until the server holds count requests of /hold. */
static void wait_held(struct server *srv, int count)
{
	for (int i = 0; i < 500 && atomic_load(&srv->held_now) < count; i++)
		sleep_ms(10);
}

static void cleanup_probes(struct probe *p, int count)
{
	for (int i = 0; i < count; i++)
		curl_easy_cleanup(p[i].h);
}

static void test_answers_out_of_order(void **state)
{
	struct server srv;
	struct kube_mux *m;
	struct probe slow, fast;
	atomic_int order = 0;
	(void)state;

	server_start(&srv);
	assert_int_equal(kube_mux_new(NULL, &m, NULL, 0), KUBE_OK);
	probe_init(&slow, &srv, "/slow", &order);
	probe_init(&fast, &srv, "/fast", &order);
	assert_true(kube_mux_submit(m, slow.h, probe_done, &slow));
	sleep_ms(50); /* the slow one is on the wire first */
	assert_true(kube_mux_submit(m, fast.h, probe_done, &fast));
	wait_ended(&fast, 1);
	wait_ended(&slow, 1);
	assert_int_equal(fast.rc, CURLE_OK);
	assert_int_equal(slow.rc, CURLE_OK);
	assert_int_equal(fast.position, 1); /* answered first though sent second: nothing waits behind a slow answer */
	assert_int_equal(slow.position, 2);
	assert_string_equal(fast.body, "{\"path\":\"fast\"}");
	assert_string_equal(slow.body, "{\"path\":\"slow\"}");
	kube_mux_free(m);
	curl_easy_cleanup(slow.h);
	curl_easy_cleanup(fast.h);
	server_stop(&srv);
}

static void test_connection_lost_with_transfers_in_flight(void **state)
{
	struct server srv;
	struct kube_mux *m;
	struct probe p[6];
	atomic_int order = 0;
	struct kube_mux_stats st;
	(void)state;

	server_start(&srv);
	assert_int_equal(kube_mux_new(NULL, &m, NULL, 0), KUBE_OK);
	for (int i = 0; i < 6; i++) {
		probe_init(&p[i], &srv, i % 2 ? "/drop" : "/fast", &order);
		assert_true(kube_mux_submit(m, p[i].h, probe_done, &p[i]));
	}
	wait_ended(p, 6);
	for (int i = 0; i < 6; i++) {
		if (i % 2)
			assert_int_not_equal(p[i].rc, CURLE_OK); /* the server closed without an answer: an error, not a hang */
		else
			assert_int_equal(p[i].rc, CURLE_OK); /* the others on the same loop are not taken down with it */
	}
	kube_mux_get_stats(m, &st);
	assert_int_equal(st.transfers, 6);
	assert_int_equal(st.in_flight, 0);
	kube_mux_free(m);
	cleanup_probes(p, 6);
	server_stop(&srv);
}

static void test_bound_in_flight(void **state)
{
	struct server srv;
	struct kube_mux *m;
	struct kube_mux_options o = {.max_in_flight = 2, .max_connections = 8};
	struct probe p[5];
	atomic_int order = 0;
	struct kube_mux_stats st;
	(void)state;

	server_start(&srv);
	assert_int_equal(kube_mux_new(&o, &m, NULL, 0), KUBE_OK);
	submit_probes(m, &srv, p, 5, "/hold", &order);
	wait_held(&srv, 2);
	sleep_ms(200); /* room for a third, were the bound not kept */
	assert_int_equal(atomic_load(&srv.held_now), 2);
	kube_mux_get_stats(m, &st);
	assert_int_equal(st.in_flight, 2);
	assert_int_equal(st.waiting, 3);
	atomic_store(&srv.release_held, 1);
	wait_ended(p, 5);
	kube_mux_get_stats(m, &st);
	assert_int_equal(st.in_flight_peak, 2);
	assert_int_equal(st.transfers, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(p[i].rc, CURLE_OK);
	kube_mux_free(m);
	cleanup_probes(p, 5);
	server_stop(&srv);
}

static void test_shutdown_with_transfers_in_flight(void **state)
{
	struct server srv;
	struct kube_mux *m;
	struct kube_mux_options o = {.max_in_flight = 3, .max_connections = 8};
	struct probe p[5];
	atomic_int order = 0;
	(void)state;

	server_start(&srv);
	assert_int_equal(kube_mux_new(&o, &m, NULL, 0), KUBE_OK);
	submit_probes(m, &srv, p, 5, "/hold", &order);
	wait_held(&srv, 3);
	kube_mux_free(m); /* three in flight, two waiting: every callback runs before it returns */
	assert_int_equal(atomic_load(&order), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(atomic_load(&p[i].ended), 1);
		assert_int_equal(p[i].rc, CURLE_ABORTED_BY_CALLBACK);
	}
	cleanup_probes(p, 5);
	server_stop(&srv);
}

static void test_conflict_and_already_exists_through_the_client(void **state)
{
	struct server srv;
	struct kube_config cfg;
	struct kube_client *c;
	struct kube_response resp;
	struct kube_mux_stats st;
	char server_url[64], err[KUBE_ERRBUF_SIZE];
	(void)state;

	server_start(&srv);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(server_url, sizeof(server_url), "http://127.0.0.1:%d", srv.port);
	cfg.server = server_url;
	assert_int_equal(kube_client_new(&cfg, NULL, &c, err, sizeof(err)), KUBE_OK);
	assert_int_equal(kube_request(c, "POST", "/exists", KUBE_CT_JSON, "{}", 2, &resp, err, sizeof(err)), KUBE_E_CONFLICT);
	assert_string_equal(resp.st.reason, "AlreadyExists");
	kube_response_free(&resp);
	assert_int_equal(kube_request(c, "PATCH", "/conflict", KUBE_CT_MERGE_PATCH, "{}", 2, &resp, err, sizeof(err)), KUBE_E_CONFLICT);
	assert_string_equal(resp.st.reason, "Conflict");
	assert_non_null(strstr(err, "the object has been modified"));
	kube_response_free(&resp);
	assert_int_equal(kube_request(c, "GET", "/fast", NULL, NULL, 0, &resp, err, sizeof(err)), KUBE_OK);
	assert_int_equal(resp.status, 200);
	kube_response_free(&resp);
	/* a write whose connection is lost is not sent again (it may have been done): one attempt, a network error */
	assert_int_equal(kube_request(c, "POST", "/drop", KUBE_CT_JSON, "{}", 2, &resp, err, sizeof(err)), KUBE_E_NETWORK);
	kube_response_free(&resp);
	kube_client_mux_stats(c, &st);
	assert_int_equal(st.transfers, 4);
	assert_int_equal(kube_client_request_count(c), 4);
	kube_client_free(c);
	server_stop(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_out_of_order),
		cmocka_unit_test(test_connection_lost_with_transfers_in_flight),
		cmocka_unit_test(test_bound_in_flight),
		cmocka_unit_test(test_shutdown_with_transfers_in_flight),
		cmocka_unit_test(test_conflict_and_already_exists_through_the_client),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
