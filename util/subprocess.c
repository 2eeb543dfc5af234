/* Runs a helper program with a bounded time and bounded output: credential plugins and credential helpers. */
#include "util/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/timefmt.h"
#include "util/banned.h"

extern char **environ;

/* A pipe whose ends are closed on exec (the child gets only the dup2()ed copies). */
static bool cloexec_pipe(int fds[2])
{
	if (pipe(fds) != 0)
		return false;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return true;
}

static void close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	fds[0] = fds[1] = -1;
}

/* Keeps the start of stderr in res->err_text, one line. */
static void keep_stderr(struct subprocess_result *res, const char *chunk, size_t n)
{
	size_t used = strlen(res->err_text);

	for (size_t i = 0; i < n && used < SUBPROCESS_STDERR_MAX; i++) {
		res->err_text[used] = chunk[i];
		if (chunk[i] == '\n' || chunk[i] == '\r' || chunk[i] == '\0')
			res->err_text[used] = ' ';
		used++;
	}
	res->err_text[used] = '\0';
}

/* Writes the input (small: a host name). A child that exits without reading it makes the write fail with EPIPE:
 * SIGPIPE is blocked for this thread meanwhile and a pending one taken, so the process's handling is untouched. */
static void feed_input(int fd, const struct subprocess_spec *spec)
{
	sigset_t pipe_only, before;
	const struct timespec no_wait = {0, 0};
	bool broken = false;
	size_t done = 0;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &before);
	while (spec->input && done < spec->input_len) {
		ssize_t n = write(fd, spec->input + done, spec->input_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			broken = n < 0 && errno == EPIPE;
			break;
		}
		done += (size_t)n;
	}
	if (broken && !sigismember(&before, SIGPIPE))
		while (sigtimedwait(&pipe_only, NULL, &no_wait) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &before, NULL);
}

/* Reads stdout and stderr until both close, the deadline passes or stdout passes its cap. */
static void read_output(pid_t pid, int out_fd, int err_fd, const struct subprocess_spec *spec, struct subprocess_result *res)
{
	double deadline = monotonic_seconds() + spec->timeout_ms / 1000.0;
	bool open[2] = {true, true};
	char chunk[4096];

	while (open[0] || open[1]) {
		struct pollfd fds[2] = {{.fd = open[0] ? out_fd : -1, .events = POLLIN}, {.fd = open[1] ? err_fd : -1, .events = POLLIN}};
		double left = deadline - monotonic_seconds();
		int ready;
		if (left <= 0) {
			res->timed_out = true;
			break;
		}
		ready = poll(fds, 2, (int)(left * 1000) + 1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n <= 0)
				open[i] = false;
			else if (i == 1)
				keep_stderr(res, chunk, (size_t)n);
			else if (dynbuf_add(&res->out, chunk, (size_t)n) != DYNBUF_OK)
				res->output_too_long = true;
		}
		if (res->output_too_long)
			break;
	}
	if (res->timed_out || res->output_too_long)
		kill(pid, SIGKILL);
}

int subprocess_run(const struct subprocess_spec *spec, struct subprocess_result *res)
{
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, status = 0, rc;
	posix_spawn_file_actions_t actions;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	dynbuf_init(&res->out, spec->output_max);
	if (!cloexec_pipe(in_pipe) || !cloexec_pipe(out_pipe) || !cloexec_pipe(err_pipe)) {
		rc = errno ? errno : EMFILE;
		close_pair(in_pipe);
		close_pair(out_pipe);
		close_pair(err_pipe);
		return rc;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
	rc = posix_spawnp(&pid, spec->argv[0], &actions, NULL, spec->argv, spec->env ? spec->env : environ);
	posix_spawn_file_actions_destroy(&actions);
	close(in_pipe[0]);
	close(out_pipe[1]);
	close(err_pipe[1]);
	in_pipe[0] = out_pipe[1] = err_pipe[1] = -1;
	if (rc == 0) {
		feed_input(in_pipe[1], spec);
		close_pair(in_pipe);
		read_output(pid, out_pipe[0], err_pipe[0], spec, res);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		res->exited = WIFEXITED(status);
		res->exit_code = res->exited ? WEXITSTATUS(status) : -1;
		res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	close_pair(in_pipe);
	close_pair(out_pipe);
	close_pair(err_pipe);
	return rc;
}

void subprocess_result_free(struct subprocess_result *res)
{
	if (res->out.data)
		OPENSSL_cleanse(res->out.data, res->out.len);
	dynbuf_free(&res->out);
	OPENSSL_cleanse(res->err_text, sizeof(res->err_text));
}
