/* selftest.c -- the original script's --test, plus edge cases of the format. */
#include <string.h>

#include "line/encode.h"
#include "log.h"
#include "line/pack.h"
#include "line/record.h"
#include "selftest.h"

static const char *const samples[] = {
	"idfa\t1rfw452y52g2gq4g\t55.55\t42.42\t1423,43,567,3,7,23",
	"gaid\t7rfw452y52g2gq4g\t55.55\t42.42\t7423,424",
	"adid\te7e1a50c0ec2747ca56cd9e1558c0d7c\t67.7835424444\t-22.8044005471\t7942,8519,4232",
	"dvid\tf0c4b5a3d2e1\t\t\t0,4294967295",
	"idfa\tno-apps\t-90\t180\t,",
	" \vidfa\tspaced\t 55.55\t42.42 \t1, +2,-0\f\r", /* what str.strip(), int() and float() skip */
	/* As generated lines are: long enough for the vector paths (simd.h). */
	/* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one line, split */
	"gaid\t338615a630658333d73b501080c03648\t7.1069930597\t142.1646605088\t"
	"6097,4182,5663,5459,27,2354,4939,8924,6687,3669,3887,1948,4653,6141,4532,5410,2201,"
	"5984,2136,1181,7280,5857,1667,8334,658,7815,7871,4583,491,5951,3622,255,513,4576,"
	"4007,7058,4498,985,3295,1825,5790,3034,6068,5792,399,4049,3355,565,2699,6581,8599",
};

static int same(const struct record *a, const struct record *b)
{
	return a->napps == b->napps &&
	       memcmp(a->apps, b->apps, a->napps * sizeof(*a->apps)) == 0 &&
	       a->has_lat == b->has_lat && (!a->has_lat || a->lat == b->lat) &&
	       a->has_lon == b->has_lon && (!a->has_lon || a->lon == b->lon);
}

/* The loader's own encoder wrote what protobuf-c packed (BUF) for LINE. */
static int encoded_alike(struct record *rec, struct packbuf *enc, const char *line,
			 const struct packbuf *buf)
{
	return encode_line(rec, line, strlen(line), enc) == LINE_OK && enc->len == buf->len &&
	       memcmp(enc->data, buf->data, buf->len) == 0;
}

int selftest_run(void)
{
	struct record in, out;
	struct packbuf buf = {0}, enc = {0};
	int failures = 0;
	size_t n = sizeof(samples) / sizeof(samples[0]);

	if (record_init(&in) < 0 || record_init(&out) < 0 || encode_init(&enc) < 0) {
		log_error("self test: out of memory");
		record_free(&in);
		record_free(&out);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *line = samples[i];
		if (record_parse(&in, line, strlen(line)) != LINE_OK || pack_value(&in, &buf) < 0 ||
		    pack_decode(buf.data, buf.len, &out) < 0 || !same(&in, &out) ||
		    !encoded_alike(&out, &enc, line, &buf)) {
			log_error("self test: sample %zu does not round-trip: %s", i + 1, line);
			failures++;
		}
	}
	if (failures == 0)
		log_info("Self test passed: %zu samples round-trip", n);
	packbuf_free(&buf);
	packbuf_free(&enc);
	record_free(&in);
	record_free(&out);
	return failures ? 1 : 0;
}
