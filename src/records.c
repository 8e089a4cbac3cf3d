/* records: the shared records and their ownership (see records.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "util.h"

/* ---- qBittorrent ----------------------------------------------------- */

void
qbit_torrent_clear(struct qbit_torrent *t)
{
	free(t->name);
	free(t->category);
	free(t->tags);
	free(t->state);
	free(t->content_path);
	free(t->save_path);
	free(t->tracker);
	memset(t, 0, sizeof(*t));
}

void
qbit_torrent_list_free(struct qbit_torrent_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		qbit_torrent_clear(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void
qbit_torrent_list_move(struct qbit_torrent_list *dst, struct qbit_torrent_list *src)
{
	if (dst->n + src->n > dst->cap) {
		dst->cap = dst->n + src->n;
		dst->items = xreallocarray(dst->items, dst->cap, sizeof(*dst->items));
	}
	if (src->n > 0)
		memcpy(dst->items + dst->n, src->items, src->n * sizeof(*src->items));
	dst->n += src->n;
	free(src->items);
	memset(src, 0, sizeof(*src));
}

size_t
qbit_torrent_list_retain(struct qbit_torrent_list *l,
    bool (*keep)(const struct qbit_torrent *t, void *arg), void *arg)
{
	size_t w = 0;

	for (size_t r = 0; r < l->n; r++) {
		if (keep(&l->items[r], arg))
			l->items[w++] = l->items[r];
		else
			qbit_torrent_clear(&l->items[r]);
	}
	size_t dropped = l->n - w;
	l->n = w;
	return dropped;
}

void
qbit_file_list_free(struct qbit_file_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].name);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void
qbit_tracker_list_free(struct qbit_tracker_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].url);
		free(l->items[i].msg);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

bool
qbit_has_tag(const char *tags, const char *tag)
{
	size_t n = strlen(tag);
	const char *p = tags;

	if (tags == NULL || n == 0)
		return false;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e != '\0' && *e != ',')
			e++;
		const char *te = e;
		while (te > p && te[-1] == ' ')
			te--;
		if ((size_t)(te - p) == n && strncmp(p, tag, n) == 0)
			return true;
		p = e;
	}
	return false;
}

/* ---- an Arr's queue ------------------------------------------------- */

void
queue_record_clear(struct queue_record *r)
{
	free(r->download_id);
	free(r->client);
	free(r->ids);
	free(r->media_ids);
	free(r->status);
	free(r->tracked_state);
	free(r->tracked_status);
	for (size_t i = 0; i < r->n_messages; i++)
		free(r->messages[i]);
	free(r->messages);
	memset(r, 0, sizeof(*r));
}

/* ---- the state file's rows ------------------------------------------- */

void
state_row_clear(struct state_row *r)
{
	free(r->instance);
	free(r->name);
	free(r->category);
	free(r->prev_category);
	free(r->arr);
	free(r->state);
	free(r->import_result);
	memset(r, 0, sizeof(*r));
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void
state_row_copy(struct state_row *dst, const struct state_row *src)
{
	*dst = *src;
	dst->instance = dup_or_null(src->instance);
	dst->name = dup_or_null(src->name);
	dst->category = dup_or_null(src->category);
	dst->prev_category = dup_or_null(src->prev_category);
	dst->arr = dup_or_null(src->arr);
	dst->state = dup_or_null(src->state);
	dst->import_result = dup_or_null(src->import_result);
}

bool
state_row_same(const struct state_row *a, const struct state_row *b)
{
	return strcmp(a->hash, b->hash) == 0 && str_same(a->instance, b->instance) &&
	    str_same(a->name, b->name) && str_same(a->category, b->category) &&
	    str_same(a->prev_category, b->prev_category) && str_same(a->arr, b->arr) &&
	    str_same(a->state, b->state) && a->progress == b->progress &&
	    a->ratio == b->ratio && a->first_seen == b->first_seen &&
	    a->gone_at == b->gone_at && a->stalled_since == b->stalled_since &&
	    a->seeding_since == b->seeding_since &&
	    a->import_sent_at == b->import_sent_at &&
	    a->import_command_id == b->import_command_id &&
	    a->import_attempts == b->import_attempts &&
	    a->import_next_try == b->import_next_try &&
	    str_same(a->import_result, b->import_result) &&
	    a->recheck_sent_at == b->recheck_sent_at &&
	    a->files_checked_at == b->files_checked_at &&
	    a->space_paused_at == b->space_paused_at &&
	    a->research_stalled_at == b->research_stalled_at &&
	    a->error_reported_at == b->error_reported_at;
}

void
state_rows_free(struct state_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		state_row_clear(&rows->items[i]);
	free(rows->items);
	memset(rows, 0, sizeof(*rows));
}
