/* pack.c -- protobuf-c encoding of UserApps into a reused buffer. */
#include <stdlib.h>
#include <string.h>

#include "appsinstalled.pb-c.h"
#include "pack.h"

int pack_value(const struct record *rec, struct packbuf *out)
{
	UserApps msg = USER_APPS__INIT;

	msg.n_apps = rec->napps;
	msg.apps = rec->apps;
	msg.has_lat = rec->has_lat != 0;
	msg.lat = rec->lat;
	msg.has_lon = rec->has_lon != 0;
	msg.lon = rec->lon;

	/* An upper bound instead of user_apps__get_packed_size(), which walks
	 * every app a second time: a uint32 varint is at most 5 bytes; the apps
	 * field's tag and length take at most 1 + 10, each coordinate 9. */
	size_t need = 1 + 10 + rec->napps * 5 + 2 * 9;
	if (need > out->cap) {
		size_t cap = out->cap ? out->cap : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *p = realloc(out->data, cap);
		if (p == NULL)
			return -1;
		out->data = p;
		out->cap = cap;
	}
	out->len = user_apps__pack(&msg, out->data);
	return 0;
}

int pack_decode(const uint8_t *buf, size_t len, struct record *rec)
{
	UserApps *msg = user_apps__unpack(NULL, len, buf);

	if (msg == NULL)
		return -1;
	if (msg->n_apps > rec->apps_cap) {
		user_apps__free_unpacked(msg, NULL);
		return -1;
	}
	if (msg->n_apps > 0) /* msg->apps is NULL when there are none */
		memcpy(rec->apps, msg->apps, msg->n_apps * sizeof(*msg->apps));
	rec->napps = msg->n_apps;
	rec->has_lat = msg->has_lat;
	rec->lat = msg->lat;
	rec->has_lon = msg->has_lon;
	rec->lon = msg->lon;
	user_apps__free_unpacked(msg, NULL);
	return 0;
}

void packbuf_free(struct packbuf *buf)
{
	free(buf->data);
	memset(buf, 0, sizeof(*buf));
}
