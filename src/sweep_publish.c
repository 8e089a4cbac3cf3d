/*
 * sweep_publish: what a sweep leaves behind for people and other programs:
 * the HTML status page, Prometheus textfile metrics, NotifyCommand and
 * WebhookURL.  None of it can fail the sweep: problems are warnings.
 */
/* close_range(2) by its system call number: Linux, not POSIX. */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "http.h"
#include "file.h"
#include "log.h"
#include "policy.h"
#include "state.h"
#include "sweep_p.h"
#include "util.h"

/* ---- HTML ------------------------------------------------------------- */

/*
 * Text for the page: the HTML specials as entities, and what log_sanitize
 * escapes (controls, bidi overrides, bytes that are not UTF-8) shown the
 * same way, \uNNNN or \xNN, so a name cannot reorder or hide the page's
 * text.  Safe runs are copied whole: the page has a row per torrent.
 */
static void
html_text(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;

	while (*p != '\0') {
		const char *ent = NULL;
		char e[16];
		size_t len, elen;

		switch (*p) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		}
		if (ent == NULL && (elen = log_escape_seq(p, &len, e)) == 0) {
			p += len;
			continue;
		}
		buf_append(b, run, (size_t)(p - run));
		if (ent != NULL) {
			buf_puts(b, ent);
			p++;
		} else {
			buf_append(b, e, elen);
			p += len;
		}
		run = p;
	}
	buf_append(b, run, (size_t)(p - run));
}

static void
html_cell(struct buf *b, const char *s)
{
	buf_puts(b, "<td>");
	html_text(b, s ? s : "");
	buf_puts(b, "</td>");
}

static const char *
human_bytes(int64_t v, char *buf, size_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	int u = 0;

	if (v < 0) {
		snprintf(buf, n, "unknown");
		return buf;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", d, units[u]);
	return buf;
}

static const char *
when(int64_t t, char *buf, size_t n)
{
	if (t <= 0)
		snprintf(buf, n, "never");
	else
		time_iso8601((time_t)t, buf, n);
	return buf;
}

static const struct state_instance *
recorded_instance(const struct state_instance *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* Managed torrents of one instance by category and state. */
struct group_count {
	const char	*category;
	const char	*state;
	size_t		 n;
};

static int
torrent_group_cmp(const void *pa, const void *pb)
{
	const struct qbit_torrent *a = *(const struct qbit_torrent *const *)pa;
	const struct qbit_torrent *b = *(const struct qbit_torrent *const *)pb;
	int c = strcmp(a->category, b->category);

	return c != 0 ? c : strcmp(a->state, b->state);
}

/* Sorted by category, then state; *out is freed by the caller.  Returns the count. */
static size_t
count_by_category_state(const struct inst *in, struct group_count **out)
{
	const struct qbit_torrent_list *l = &in->qc.torrents;
	const struct qbit_torrent **v;
	size_t n = 0;

	*out = NULL;
	if (in->failed || l->n == 0)
		return 0;
	v = xcalloc(l->n, sizeof(*v));
	for (size_t i = 0; i < l->n; i++)
		v[i] = &l->items[i];
	qsort(v, l->n, sizeof(*v), torrent_group_cmp);
	*out = xcalloc(l->n, sizeof(**out));
	for (size_t i = 0; i < l->n; i++) {
		if (i == 0 || torrent_group_cmp(&v[i - 1], &v[i]) != 0) {
			(*out)[n].category = v[i]->category;
			(*out)[n].state = v[i]->state;
			n++;
		}
		(*out)[n - 1].n++;
	}
	free(v);
	return n;
}

/* What the next sweep would do for an item, in a few words. */
static void
pending_text(const struct item *it, struct buf *out)
{
	for (size_t k = 0; k < it->d.n_actions; k++)
		buf_printf(out, "%s%s (%s)", k ? ", " : "",
		    policy_action_name(it->d.actions[k].kind), it->d.actions[k].rule);
	if (it->d.n_actions == 0 && it->d.waiting != NULL)
		buf_puts(out, it->d.waiting);
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.5em 0;background:#fff}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#eee}td.num{text-align:right}"
    ".up{color:#161}.down{color:#a11;font-weight:bold}.muted{color:#777}";

int
sweep_write_status_page(struct sweep *sw, const char *path)
{
	struct buf b;
	struct state_instance *rec = NULL;
	size_t nrec = 0;
	char t1[32], t2[32], sz[32];
	int rc;
	bool *seen = xcalloc(sw->rows.n + 1, sizeof(bool));
	struct state_history_entry *last = NULL;
	size_t nlast = 0;

	if (sw->st != NULL)
		state_load_instances(sw->st, &rec, &nrec);
	buf_init(&b);
	buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>qbitrr-sweep status</title><style>");
	buf_puts(&b, style);
	buf_printf(&b, "</style></head><body>\n<h1>qbitrr-sweep status</h1>\n"
	    "<p class=\"muted\">Generated %s by qbitrr-sweep %s.</p>\n",
	    when((int64_t)sw->started, t1, sizeof(t1)), QBITRR_VERSION);

	buf_puts(&b, "<h2>Instances</h2>\n<table><tr><th>Instance</th><th>URL</th>"
	    "<th>Reachable</th><th>Version</th><th>API</th><th>Free space</th>"
	    "<th>Managed torrents</th><th>Last sweep</th><th>Last success</th>"
	    "<th>Error</th></tr>\n");
	for (size_t i = 0; i < sw->n_insts; i++) {
		const struct inst *in = &sw->insts[i];
		const struct state_instance *si = recorded_instance(rec, nrec, in->qc.ic->name);
		int64_t free_space = in->qc.free_space >= 0 ? in->qc.free_space :
		    si ? si->free_space : -1;
		buf_puts(&b, "<tr>");
		html_cell(&b, in->qc.ic->name);
		html_cell(&b, in->qc.ic->base_url);
		buf_printf(&b, "<td class=\"%s\">%s</td>", in->failed ? "down" : "up",
		    in->failed ? "no" : "yes");
		html_cell(&b, in->failed ? "-" : in->qc.version);
		html_cell(&b, in->failed ? "-" : in->qc.api_version);
		html_cell(&b, human_bytes(free_space, sz, sizeof(sz)));
		buf_puts(&b, "<td>");
		/* Counts by category and state, from what this run saw. */
		struct group_count *groups;
		size_t ng = count_by_category_state(in, &groups);
		for (size_t k = 0; k < ng; k++) {
			html_text(&b, groups[k].category);
			buf_puts(&b, " / ");
			html_text(&b, groups[k].state);
			buf_printf(&b, ": %zu<br>", groups[k].n);
		}
		if (ng == 0)
			buf_puts(&b, "-");
		free(groups);
		buf_puts(&b, "</td>");
		html_cell(&b, when(si ? si->last_sweep : 0, t1, sizeof(t1)));
		html_cell(&b, when(si ? si->last_success : 0, t2, sizeof(t2)));
		html_cell(&b, in->qc.error ? in->qc.error : "");
		buf_puts(&b, "</tr>\n");
	}
	buf_puts(&b, "</table>\n");

	if (sw->st != NULL)
		state_last_actions(sw->st, &last, &nlast);
	buf_puts(&b, "<h2>Tracked torrents</h2>\n<table><tr><th>Instance</th><th>Name</th>"
	    "<th>Hash</th><th>Category</th><th>State</th><th>Progress</th><th>Ratio</th>"
	    "<th>Pending</th><th>Last action</th><th>Result</th></tr>\n");
	for (size_t i = 0; i < sw->n_items + sw->rows.n; i++) {
		const struct item *it = i < sw->n_items ? &sw->items[i] : NULL;
		const struct state_row *r;
		const char *instance, *hash, *name, *category, *state;
		double progress, ratio;
		const struct state_history_entry *h;
		struct buf pending;

		if (it != NULL) {
			const struct qbit_torrent *t = &it->in->qc.torrents.items[it->index];
			if (it->row != NULL)
				seen[it->row - sw->rows.items] = true;
			if (it->earlier != NULL)
				seen[it->earlier - sw->rows.items] = true;
			instance = it->in->qc.ic->name;
			hash = t->hash;
			name = t->name;
			category = t->category;
			state = t->state;
			progress = t->progress;
			ratio = t->ratio;
		} else {
			r = &sw->rows.items[i - sw->n_items];
			if (seen[i - sw->n_items] || r->gone_at != 0)
				continue;
			instance = r->instance;
			hash = r->hash;
			name = r->name;
			category = r->category;
			state = "not seen this run";
			progress = r->progress;
			ratio = r->ratio;
		}
		h = state_last_action_find(last, nlast, instance, hash);
		buf_init(&pending);
		buf_puts(&pending, "");
		if (it != NULL)
			pending_text(it, &pending);
		buf_puts(&b, "<tr>");
		html_cell(&b, instance);
		html_cell(&b, name);
		buf_puts(&b, "<td><code>");
		html_text(&b, hash);
		buf_puts(&b, "</code></td>");
		html_cell(&b, category);
		html_cell(&b, state);
		buf_printf(&b, "<td class=\"num\">%.1f %%</td><td class=\"num\">%.2f</td>",
		    progress * 100, ratio);
		html_cell(&b, pending.data);
		if (h != NULL) {
			char ts[32];
			buf_puts(&b, "<td>");
			html_text(&b, h->action);
			buf_puts(&b, " <span class=\"muted\">");
			html_text(&b, when(h->time, ts, sizeof(ts)));
			buf_puts(&b, "</span></td>");
			html_cell(&b, h->result);
		} else {
			buf_puts(&b, "<td>-</td><td>-</td>");
		}
		buf_puts(&b, "</tr>\n");
		buf_free(&pending);
	}
	state_history_free(last, nlast);
	buf_puts(&b, "</table>\n</body></html>\n");
	rc = write_file_atomic(path, b.data, b.len);
	buf_free(&b);
	state_instances_free(rec, nrec);
	free(seen);
	return rc;
}

/* ---- metrics ---------------------------------------------------------- */

static void
label(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, s, 1);
	}
}

static void
metric_head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
write_metrics(struct sweep *sw, const char *path)
{
	struct buf b;
	int rc;

	buf_init(&b);
	metric_head(&b, "qbitrr_instance_up", "gauge",
	    "Whether the instance answered the last sweep (1) or not (0).");
	for (size_t i = 0; i < sw->n_insts; i++) {
		buf_puts(&b, "qbitrr_instance_up{instance=\"");
		label(&b, sw->insts[i].qc.ic->name);
		buf_printf(&b, "\"} %d\n", sw->insts[i].failed ? 0 : 1);
	}
	metric_head(&b, "qbitrr_torrents", "gauge",
	    "Managed torrents seen by the last sweep, by instance, category and state.");
	for (size_t i = 0; i < sw->n_insts; i++) {
		struct group_count *groups;
		size_t ng = count_by_category_state(&sw->insts[i], &groups);
		for (size_t k = 0; k < ng; k++) {
			buf_puts(&b, "qbitrr_torrents{instance=\"");
			label(&b, sw->insts[i].qc.ic->name);
			buf_puts(&b, "\",category=\"");
			label(&b, groups[k].category);
			buf_puts(&b, "\",state=\"");
			label(&b, groups[k].state);
			buf_printf(&b, "\"} %zu\n", groups[k].n);
		}
		free(groups);
	}
	metric_head(&b, "qbitrr_actions", "gauge",
	    "Actions of the last sweep by instance, action and result.");
	for (size_t i = 0; i < sw->outcomes.n; i++) {
		const struct outcome *o = sw->outcomes.v[i];
		size_t count = 0;
		bool first = true;
		for (size_t j = 0; j < sw->outcomes.n; j++) {
			const struct outcome *p = sw->outcomes.v[j];
			if (p->in == o->in && p->kind == o->kind && p->result == o->result) {
				first = first && j >= i;
				count++;
			}
		}
		if (!first)
			continue;
		buf_puts(&b, "qbitrr_actions{instance=\"");
		label(&b, o->in->qc.ic->name);
		buf_printf(&b, "\",action=\"%s\",result=\"%s\"} %zu\n",
		    policy_action_name(o->kind), outcome_result_name(o->result), count);
	}
	metric_head(&b, "qbitrr_sweep_duration_seconds", "gauge",
	    "Wall time of the last sweep.");
	buf_printf(&b, "qbitrr_sweep_duration_seconds %.3f\n",
	    (double)(monotonic_ms() - sw->t0) / 1000.0);
	metric_head(&b, "qbitrr_last_sweep_timestamp_seconds", "gauge",
	    "When the last sweep ran (Unix time).");
	buf_printf(&b, "qbitrr_last_sweep_timestamp_seconds %lld\n", (long long)sw->started);
	metric_head(&b, "qbitrr_last_success_timestamp_seconds", "gauge",
	    "When each instance was last swept successfully (Unix time).");
	{
		struct state_instance *rec = NULL;
		size_t nrec = 0;
		if (sw->st != NULL)
			state_load_instances(sw->st, &rec, &nrec);
		for (size_t i = 0; i < nrec; i++) {
			if (rec[i].last_success <= 0)
				continue;
			buf_puts(&b, "qbitrr_last_success_timestamp_seconds{instance=\"");
			label(&b, rec[i].name);
			buf_printf(&b, "\"} %lld\n", (long long)rec[i].last_success);
		}
		state_instances_free(rec, nrec);
	}
	rc = write_file_atomic(path, b.data, b.len);
	buf_free(&b);
	return rc;
}

/* ---- notifications ---------------------------------------------------- */

/*
 * In the child, before exec: a clean slate.  Default dispositions (we
 * ignore SIGPIPE and catch SIGTERM), nothing blocked, its own process
 * group, and no descriptor but 0, 1 and 2 (libcurl keeps sockets open).
 * Only async-signal-safe calls here.
 */
static void
notify_child(int in_fd, const char *cmd)
{
	sigset_t none;
	struct rlimit rl;

	setpgid(0, 0);
	for (int sig = 1; sig < 65; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in_fd, STDIN_FILENO) == -1)
		_exit(126);
	/* Its output must not mix into our --json document on stdout. */
	if (dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
		_exit(126);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1)
#endif
	{
		int max = 65536;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < (rlim_t)max)
			max = (int)rl.rlim_cur;
		for (int fd = 3; fd < max; fd++)
			close(fd);
	}
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/*
 * Run NotifyCommand with the document on its standard input, bounded in
 * time: a command that never reads, never exits or leaves children behind
 * cannot hold up the sweep or its SIGTERM.  Its whole process group is
 * killed at the time limit, on SIGTERM, and when it exits (leftovers).
 */
static void
run_notify_command(const char *cmd, const char *doc, int64_t timeout_s,
    volatile sig_atomic_t *stop)
{
	int fds[2], status = 0;
	pid_t pid;
	size_t len = strlen(doc), off = 0;
	int64_t deadline = monotonic_ms() + timeout_s * 1000;
	const char *why = NULL;

	if (pipe(fds) == -1) {
		log_warn("NotifyCommand: pipe: %s", strerror(errno));
		return;
	}
	/* Ours stays out of the child's way and never blocks the sweep. */
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
	pid = fork();
	if (pid == -1) {
		log_warn("NotifyCommand: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0)
		notify_child(fds[0], cmd);
	setpgid(pid, pid);	/* also here: no race with the kill below */
	close(fds[0]);
	for (;;) {
		struct pollfd pfd = { fds[1], POLLOUT, 0 };
		pid_t r;

		if (fds[1] != -1 && off < len) {
			ssize_t w = write(fds[1], doc + off, len - off);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(fds[1]);	/* EPIPE: it did not read it all; its business */
				fds[1] = -1;
			}
		}
		if (fds[1] != -1 && off >= len) {
			close(fds[1]);
			fds[1] = -1;
		}
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			log_warn("NotifyCommand: wait: %s", strerror(errno));
			break;
		}
		if (stop != NULL && *stop)
			why = "interrupted";
		else if (monotonic_ms() > deadline)
			why = "time limit";
		if (why != NULL) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		poll(fds[1] != -1 ? &pfd : NULL, fds[1] != -1 ? 1 : 0, 50);
	}
	if (fds[1] != -1)
		close(fds[1]);
	/* Whatever it left running in its group goes with it. */
	kill(-pid, SIGKILL);
	if (why != NULL && strcmp(why, "interrupted") == 0)
		log_warn("NotifyCommand: interrupted: killed");
	else if (why != NULL)
		log_warn("NotifyCommand: no exit within %lld s: killed", (long long)timeout_s);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warn("NotifyCommand: exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("NotifyCommand: killed by signal %d", WTERMSIG(status));
}

static void
webhook_done(struct http_request *req)
{
	char why[300];

	if (req->status < 200 || req->status >= 300)
		log_warn("WebhookURL: POST failed: %s", http_failure(req, why, sizeof(why)));
}

bool
sweep_wants_document(const struct sweep *sw, bool failed)
{
	const struct settings *s = &sw->cfg->settings;

	return (failed || sw->outcomes.n > 0) &&
	    (s->notify_command != NULL || s->webhook_url != NULL);
}

void
sweep_publish(struct sweep *sw, json_t *doc, bool failed)
{
	const struct settings *s = &sw->cfg->settings;
	char *text = NULL;

	if (s->status_page != NULL && sweep_write_status_page(sw, s->status_page) == -1)
		log_warn("StatusPage: could not write %s", s->status_page);
	if (s->metrics_file != NULL && write_metrics(sw, s->metrics_file) == -1)
		log_warn("MetricsFile: could not write %s", s->metrics_file);
	if (doc == NULL || !sweep_wants_document(sw, failed))
		return;
	text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text == NULL)
		return;
	if (s->notify_command != NULL)
		run_notify_command(s->notify_command, text, s->http_timeout, sw->stop);
	if (s->webhook_url != NULL) {
		/* The URL may carry a token: it is never logged. */
		struct http_request *req = http_request_new("POST", xstrdup(s->webhook_url));
		req->label = "WebhookURL";
		req->endpoint = "webhook";
		req->timeout_s = (long)s->http_timeout;
		req->content_type = "application/json";
		req->body = xstrdup(text);
		req->done = webhook_done;
		http_submit(sw->http, req);
		http_run(sw->http);
	}
	free(text);
}
