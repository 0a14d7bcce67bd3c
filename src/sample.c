/* sample.c -- choose each file's sample, keep or re-read it, read it back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileid.h"
#include "line/encode.h"
#include "gz/gzlines.h"
#include "inputs.h"
#include "keys/keyhash.h"
#include "log.h"
#include "line/pack.h"
#include "line/key.h"
#include "sample.h"
#include "line/record.h"
#include "mc/verify.h"

struct sample {
	const struct config *cfg;
	uint64_t threshold; /* a key is sampled when its hash is below this */
	int all;            /* --verify 1: every record */
	/* The sample while it fits: records of [u16 server][u8 keylen][u32
	 * valuelen][key][value], or streaming when it did not. */
	unsigned char *kept;
	size_t len, cap;
	int streaming;
	/* Hashes of sampled keys refused as too large, sorted before the read-back. */
	uint64_t *refused;
	size_t nrefused, refused_cap;
	int refused_overflow; /* more than SAMPLE_REFUSED_MAX: no read-back */
	struct verifier *v[MAX_SERVERS];
};

static int sampled(const struct sample *sp, uint64_t hash)
{
	return sp->all || hash < sp->threshold;
}

struct sample *sample_new(const struct config *cfg, struct file_stats *st)
{
	struct sample *sp;

	if (cfg->verify <= 0 || cfg->dry)
		return NULL;
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL) {
		snprintf(st->failure, sizeof(st->failure), "out of memory");
		return NULL;
	}
	sp->cfg = cfg;
	sp->all = cfg->verify >= 1;
	sp->threshold = (uint64_t)(cfg->verify * 18446744073709551616.0);
	return sp;
}

/* Keep one sampled record; past SAMPLE_KEEP, give up keeping. */
static void keep(struct sample *sp, int server, const char *key, size_t keylen,
		 const uint8_t *value, size_t valuelen)
{
	size_t need = 7 + keylen + valuelen;
	uint32_t vlen = (uint32_t)valuelen;

	if (sp->len + need > sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 64 * 1024;
		while (cap < sp->len + need)
			cap *= 2;
		unsigned char *p = cap <= SAMPLE_KEEP ? realloc(sp->kept, cap) : NULL;
		if (p == NULL) {
			free(sp->kept);
			sp->kept = NULL;
			sp->len = sp->cap = 0;
			sp->streaming = 1;
			return;
		}
		sp->kept = p;
		sp->cap = cap;
	}
	unsigned char *w = sp->kept + sp->len;
	w[0] = (unsigned char)(server >> 8);
	w[1] = (unsigned char)server;
	w[2] = (unsigned char)keylen;
	memcpy(w + 3, &vlen, 4);
	memcpy(w + 7, key, keylen);
	memcpy(w + 7 + keylen, value, valuelen);
	sp->len += need;
}

void sample_offer(struct sample *sp, int server, uint64_t hash, const char *key, size_t keylen,
		  const uint8_t *value, size_t valuelen)
{
	if (sp != NULL && !sp->streaming && sampled(sp, hash))
		keep(sp, server, key, keylen, value, valuelen);
}

void sample_too_large(const char *key, size_t keylen, void *ctx)
{
	struct sample *sp = ctx;
	uint64_t hash = keyhash(sp->cfg->verify_seed, key, keylen);

	if (!sampled(sp, hash) || sp->refused_overflow)
		return;
	if (sp->nrefused == sp->refused_cap) {
		size_t cap = sp->refused_cap ? 2 * sp->refused_cap : 1024;
		uint64_t *p = cap <= SAMPLE_REFUSED_MAX ? realloc(sp->refused, cap * sizeof(*p)) : NULL;
		if (p == NULL) {
			sp->refused_overflow = 1;
			return;
		}
		sp->refused = p;
		sp->refused_cap = cap;
	}
	sp->refused[sp->nrefused++] = hash;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Whether KEY was refused as too large (after the sort in sample_run). */
static int refused(const struct sample *sp, const char *key, size_t keylen)
{
	uint64_t h;

	if (sp->nrefused == 0)
		return 0;
	h = keyhash(sp->cfg->verify_seed, key, keylen);
	return bsearch(&h, sp->refused, sp->nrefused, sizeof(h), cmp_u64) != NULL;
}

/* Read one record back from SERVER, unless its key was refused; 0, or -1
 * when out of memory. */
static int check(struct sample *sp, struct sink *sink, int server, const char *key,
		 size_t keylen, const uint8_t *value, size_t valuelen)
{
	if (refused(sp, key, keylen))
		return 0;
	if (sp->v[server] == NULL) {
		const struct config *cfg = sp->cfg;
		struct server_watch w;

		sp->v[server] = verifier_new(config_server_addr(cfg, server), cfg->timeout_ms,
					     cfg->attempts);
		if (sp->v[server] == NULL)
			return -1;
		/* A restart between the load and the read-back counts too. */
		sink_watch(sink, server, &w);
		verifier_watch_from(sp->v[server], &w);
	}
	verifier_check(sp->v[server], key, keylen, value, valuelen);
	return 0;
}

static int check_kept(struct sample *sp, struct sink *sink)
{
	for (size_t at = 0; at < sp->len;) {
		const unsigned char *r = sp->kept + at;
		uint32_t vlen;

		memcpy(&vlen, r + 3, 4);
		if (check(sp, sink, r[0] << 8 | r[1], (const char *)r + 7, r[2], r + 7 + r[2], vlen) <
		    0)
			return -1;
		at += 7 + (size_t)r[2] + vlen;
	}
	return 0;
}

/* The sample did not fit: read PATH again, choose the same records. */
static int check_streamed(struct sample *sp, const char *path, struct sink *sink,
			  struct file_stats *st)
{
	char key[MCPROTO_KEY_MAX + 1];
	struct record rec;
	struct packbuf value = {0};
	struct file_id id;
	const char *line;
	size_t len;
	int overlong, rc = -1;
	struct gzlines *gz = NULL;

	if (record_init(&rec) < 0 || encode_init(&value) < 0) {
		record_free(&rec);
		return -1;
	}
	gz = gzlines_open(path, &id, st->failure, sizeof(st->failure));
	if (gz == NULL || memcmp(&id, &st->opened, sizeof(id)) != 0) {
		snprintf(st->failure, sizeof(st->failure), "changed during the load (read again "
			 "for --verify)");
		goto out;
	}
	while ((rc = gzlines_next(gz, &line, &len, &overlong, st->failure,
				  sizeof(st->failure))) == 1) {
		if (overlong || encode_line(&rec, line, len, &value) != LINE_OK)
			continue;
		size_t keylen = key_build(&rec, key);
		if (!sampled(sp, keyhash(sp->cfg->verify_seed, key, keylen)))
			continue;
		if (check(sp, sink, sink_server(sink, rec.type, key, keylen), key, keylen, value.data,
			  value.len) < 0) {
			rc = -1;
			break;
		}
	}
out:
	gzlines_close(gz);
	packbuf_free(&value);
	record_free(&rec);
	return rc;
}

static void log_verified(const char *path, const struct verify_counts *c)
{
	double lo, hi;

	if (verify_wilson(c->missing, c->sampled, &lo, &hi) < 0)
		lo = hi = 0;
	log_info("Verified %s: sampled %llu, equal %llu, missing %llu, different %llu, "
		 "unverified %llu; missing share %.4f%% (95%% confidence %.4f%% to %.4f%%)",
		 path, (unsigned long long)c->sampled, (unsigned long long)c->equal,
		 (unsigned long long)c->missing, (unsigned long long)c->different,
		 (unsigned long long)c->unverified,
		 c->sampled ? 100.0 * (double)c->missing / (double)c->sampled : 0.0, 100 * lo,
		 100 * hi);
}

void sample_run(struct sample *sp, const char *path, struct sink *sink, struct file_stats *st,
		struct server_seen *servers)
{
	struct verify_counts *c = &st->verify;
	int rc;

	if (sp == NULL)
		return;
	if (sp->refused_overflow) {
		log_warn("%s: more than %d sampled records were refused as too large: not read back",
			 path, SAMPLE_REFUSED_MAX);
		return;
	}
	if (sp->nrefused > 0) /* qsort takes no NULL, even for nothing */
		qsort(sp->refused, sp->nrefused, sizeof(*sp->refused), cmp_u64);
	rc = sp->streaming ? check_streamed(sp, path, sink, st) : check_kept(sp, sink);
	for (int s = 0; s < MAX_SERVERS; s++) {
		struct verify_stats vs;

		if (sp->v[s] == NULL)
			continue;
		verifier_finish(sp->v[s]);
		verifier_get_stats(sp->v[s], &vs);
		/* The read-back's watch carries on from the load's. */
		server_seen_from_watch(&vs.server, (int)servers[s].unconfirmed, &servers[s]);
		c->sampled += vs.sampled;
		c->equal += vs.equal;
		c->missing += vs.missing;
		c->different += vs.different;
		c->unverified += vs.failed;
	}
	st->verified = 1;
	log_verified(path, c);
	if (rc < 0) {
		if (st->failure[0] == '\0')
			snprintf(st->failure, sizeof(st->failure), "--verify: out of memory");
	} else if (c->missing > 0)
		snprintf(st->failure, sizeof(st->failure),
			 "%llu of %llu records read back are missing", (unsigned long long)c->missing,
			 (unsigned long long)c->sampled);
	else if (c->unverified > 0)
		snprintf(st->failure, sizeof(st->failure),
			 "%llu of %llu records could not be read back", (unsigned long long)c->unverified,
			 (unsigned long long)c->sampled);
	else
		return;
	st->delivered_all = 0;
}

void sample_free(struct sample *sp)
{
	if (sp == NULL)
		return;
	for (int s = 0; s < MAX_SERVERS; s++)
		verifier_free(sp->v[s]);
	free(sp->kept);
	free(sp->refused);
	free(sp);
}
