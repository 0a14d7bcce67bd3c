/* fuzz_record.c -- libFuzzer target: one input line through record_parse,
 * encode_line, key_build, pack_value and mcproto_encode_set, the loader's
 * own code, with each of the parser's kernels (portable, and AVX2 where the
 * CPU has it).
 *
 * Each input is one line, any bytes. The status and the record are checked
 * against a slow model of the line rules written from the man page (not from
 * record.c) and, on the lines where the rules it was written for still hold
 * (ref_rules_agree: no whitespace to strip but one final CR, none in the
 * coordinates and apps, no sign in an app), against the previous parser
 * (tests/unit/record_ref.c); the
 * value is decoded with protobuf-c and compared with the record, and
 * encode_line's bytes must be protobuf-c's own packing of the record; the
 * command bytes are read back the way memcached reads them: a dev_id must
 * never be able to split the command or start another one. Any violation
 * aborts, which libFuzzer reports as a crash. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appsinstalled.pb-c.h"
#include "line/encode.h"
#include "mc/mcproto.h"
#include "line/pack.h"
#include "line/key.h"
#include "line/record.h"
#include "record_ref.h"
#include "line/simd.h"

/* Longer inputs are all LINE_ERR_TOO_LONG alike; nothing to learn past this. */
#define FUZZ_MAX_INPUT (RECORD_MAX_LINE + 16)

/* abort() with the failed condition, so the crash report says what broke. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_record: %s:%d: check failed: %s\n", __FILE__,        \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Reused from input to input, as a worker reuses it from line to line. */
static struct record rec;
/* What the previous parser makes of the line. */
static struct record ref;
/* encode_line's value, and protobuf-c's packing of the same record. */
static struct packbuf encoded;
static uint8_t *packed;
/* The kernels to run every line through. */
static enum simd kernels[2];
static int nkernels;
/* What pack_decode (the self test's decoder) makes of the value. */
static struct record decoded;
/* Set up for each line by check_line. */
static struct packbuf value;
static char *command;
static size_t command_cap;
static uint32_t *model_apps;

/* The line rules, the slow way, as memc_load(1) states them. */

struct model {
	enum line_status status;
	const char *field[5];
	size_t flen[5];
};

/* No space, no control character (0 to 0x1f, 0x7f), no NUL. */
static int model_key_byte_ok(unsigned char c)
{
	return c != ' ' && c > 0x1f && c != 0x7f;
}

/* Whitespace, as Python's str.strip() takes it off: space, tab, LF, VT, FF
 * and CR, nothing else. */
static int model_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* S[0, *LEN) without whitespace at either end: the new start, *LEN cut. */
static const char *model_strip(const char *s, size_t *len)
{
	while (*len > 0 && model_space(s[*len - 1]))
		(*len)--;
	while (*len > 0 && model_space(*s))
		s++, (*len)--;
	return s;
}

static void model_line(const char *line, size_t len, struct model *m)
{
	size_t nf = 0, start = 0;

	memset(m, 0, sizeof(*m));
	if (len > RECORD_MAX_LINE) { /* counted before the strip */
		m->status = LINE_ERR_TOO_LONG;
		return;
	}
	line = model_strip(line, &len);
	if (len == 0) {
		m->status = LINE_BLANK;
		return;
	}

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (nf < 5) {
			m->field[nf] = line + start;
			m->flen[nf] = i - start;
		}
		nf++;
		start = i + 1;
	}
	if (nf != 5) {
		m->status = LINE_ERR_FIELDS;
		return;
	}
	static const char *const types[] = {"idfa", "gaid", "adid", "dvid"};
	int type_ok = 0;
	for (size_t t = 0; t < 4; t++)
		if (m->flen[0] == 4 && memcmp(m->field[0], types[t], 4) == 0)
			type_ok = 1;
	if (!type_ok) {
		m->status = LINE_ERR_DEV_TYPE;
		return;
	}
	if (m->flen[1] == 0) {
		m->status = LINE_ERR_DEV_ID;
		return;
	}
	if (4 + 1 + m->flen[1] > 250) {
		m->status = LINE_ERR_KEY;
		return;
	}
	for (size_t i = 0; i < m->flen[1]; i++)
		if (!model_key_byte_ok((unsigned char)m->field[1][i])) {
			m->status = LINE_ERR_KEY;
			return;
		}
	m->status = LINE_OK;
}

static int is_ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A coordinate: whitespace around it ignored, then [+-] digits [. digits]
 * [(e|E) [+-] digits], a digit before or after the point, at most 127 bytes,
 * finite; converted by strtod. */
static int model_coord(const char *s, size_t len, double *out)
{
	size_t i = 0, mant = 0, expd = 0;
	char buf[128];

	s = model_strip(s, &len);
	if (len == 0 || len > 127)
		return -1;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < len && is_ascii_digit(s[i]))
		i++, mant++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && is_ascii_digit(s[i]))
			i++, mant++;
	}
	if (mant == 0)
		return -1;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && is_ascii_digit(s[i]))
			i++, expd++;
		if (expd == 0)
			return -1;
	}
	if (i != len)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtod(buf, NULL);
	return isfinite(*out) ? 0 : -1;
}

/* The apps field: comma-separated items, each kept when, with the
 * whitespace around it off, it is an optional sign and one or more digits
 * worth 0 to 4294967295 ("-0" is 0). Returns the number kept. */
static size_t model_apps_parse(const char *s, size_t len, size_t *dropped)
{
	size_t n = 0, start = 0;

	*dropped = 0;
	if (len == 0)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		size_t ilen = i - start, j = 0;
		const char *item = model_strip(s + start, &ilen);
		unsigned long long v = 0;
		int neg = ilen > 0 && item[0] == '-';

		if (ilen > 0 && (item[0] == '+' || item[0] == '-'))
			item++, ilen--;
		int ok = ilen > 0;
		for (j = 0; j < ilen && ok; j++)
			ok = is_ascii_digit(item[j]);
		for (j = 0; ok && j < ilen; j++) {
			v = v * 10 + (unsigned long long)(item[j] - '0');
			if (v > 4294967295ULL)
				ok = 0;
		}
		if (neg && v != 0)
			ok = 0;
		if (ok)
			model_apps[n++] = (uint32_t)v;
		else
			(*dropped)++;
		start = i + 1;
	}
	return n;
}

/* What reaches the wire. */

/* Equal bit for bit: -0.0 is not 0.0 here. */
static int same_double(double a, double b)
{
	uint64_t x, y;

	memcpy(&x, &a, sizeof(x));
	memcpy(&y, &b, sizeof(y));
	return x == y;
}

/* The key: a valid memcached key, and "dev_type:dev_id" of this line. */
static void check_key(const char *key, size_t keylen, const struct model *m)
{
	static const char *const prefixes[] = {"idfa:", "gaid:", "adid:", "dvid:"};
	int prefix_ok = 0;

	CHECK(keylen <= MCPROTO_KEY_MAX);
	CHECK(key[keylen] == '\0');
	for (size_t i = 0; i < keylen; i++)
		CHECK((unsigned char)key[i] > 0x20 && (unsigned char)key[i] != 0x7f);
	for (size_t t = 0; t < 4; t++)
		if (keylen > 5 && memcmp(key, prefixes[t], 5) == 0)
			prefix_ok = 1;
	CHECK(prefix_ok);
	CHECK(memcmp(key, m->field[0], 4) == 0);
	CHECK(keylen == 5 + m->flen[1] && memcmp(key + 5, m->field[1], m->flen[1]) == 0);
}

/* The record REC as protobuf-c's UserApps message. */
static UserApps message(void)
{
	UserApps msg = USER_APPS__INIT;

	msg.n_apps = rec.napps;
	msg.apps = rec.apps;
	msg.has_lat = rec.has_lat != 0;
	msg.lat = rec.lat;
	msg.has_lon = rec.has_lon != 0;
	msg.lon = rec.lon;
	return msg;
}

/* The size of the record's UserApps message, as protobuf-c counts it. */
static size_t packed_size(void)
{
	UserApps msg = message();

	return user_apps__get_packed_size(&msg);
}

/* Pack into a buffer one byte too small for the value: pack_value must see
 * that its bound exceeds the room and grow the buffer. Its own buffers are
 * rounded up to powers of two, whose slack would hide a bound that is too
 * low. The overflow itself happens inside libprotobuf-c, which ASan does
 * not instrument, hence the length check afterwards. */
static void pack(void)
{
	size_t size = packed_size();

	value.cap = size > 0 ? size - 1 : 0;
	value.data = value.cap > 0 ? malloc(value.cap) : NULL;
	CHECK(value.cap == 0 || value.data != NULL);
	value.len = 0;
	CHECK(pack_value(&rec, &value) == 0);
	CHECK(value.len == size && value.len <= value.cap);
}

/* The value decodes, with protobuf-c, to exactly the parsed record. */
static void check_value(void)
{
	UserApps *msg;

	msg = user_apps__unpack(NULL, value.len, value.data);
	CHECK(msg != NULL);
	CHECK(msg->n_apps == rec.napps);
	if (rec.napps > 0)
		CHECK(memcmp(msg->apps, rec.apps, rec.napps * sizeof(*rec.apps)) == 0);
	CHECK(msg->has_lat == (rec.has_lat != 0));
	CHECK(msg->has_lon == (rec.has_lon != 0));
	if (msg->has_lat)
		CHECK(isfinite(msg->lat) && same_double(msg->lat, rec.lat));
	if (msg->has_lon)
		CHECK(isfinite(msg->lon) && same_double(msg->lon, rec.lon));
	user_apps__free_unpacked(msg, NULL);

	CHECK(pack_decode(value.data, value.len, &decoded) == 0);
	CHECK(decoded.napps == rec.napps);
	CHECK(rec.napps == 0 || memcmp(decoded.apps, rec.apps, rec.napps * sizeof(*rec.apps)) == 0);
	CHECK((decoded.has_lat != 0) == (rec.has_lat != 0));
	CHECK((decoded.has_lon != 0) == (rec.has_lon != 0));
	CHECK(!rec.has_lat || same_double(decoded.lat, rec.lat));
	CHECK(!rec.has_lon || same_double(decoded.lon, rec.lon));
}

/* Build the set command with the loader's own encoder (mcproto.c), then
 * read it back as memcached does: the command line ends at the first "\n"
 * (a "\r" before it is dropped) and splits on spaces; then exactly LEN
 * bytes of data and "\r\n" must end the buffer, so no second command can
 * follow. */
static void check_command(const char *key, size_t keylen)
{
	size_t need = MCPROTO_SET_MAX(keylen, value.len);

	if (need > command_cap) {
		char *p = realloc(command, need);
		CHECK(p != NULL);
		command = p;
		command_cap = need;
	}
	size_t total = mcproto_encode_set(command, key, keylen, value.data, value.len);
	CHECK(total <= need);

	size_t got_keylen;
	const char *got_key = mcproto_set_key(command, total, &got_keylen);
	CHECK(got_keylen == keylen && memcmp(got_key, key, keylen) == 0);

	const char *nl = memchr(command, '\n', total);
	CHECK(nl != NULL && nl > command && nl[-1] == '\r');
	size_t hlen = (size_t)(nl - command) - 1;
	CHECK(memchr(command, '\r', hlen) == NULL);
	CHECK(memchr(command, '\0', hlen) == NULL);

	const char *word[6];
	size_t wlen[6], nw = 0, at = 0;
	while (at < hlen) {
		CHECK(command[at] != ' '); /* one space between words, none around */
		const char *sp = memchr(command + at, ' ', hlen - at);
		size_t end = sp ? (size_t)(sp - command) : hlen;
		CHECK(nw < 6);
		word[nw] = command + at;
		wlen[nw] = end - at;
		nw++;
		at = sp ? end + 1 : hlen;
		CHECK(!sp || at < hlen);
	}
	CHECK(nw == 5);
	CHECK(wlen[0] == 3 && memcmp(word[0], "set", 3) == 0);
	CHECK(wlen[1] == keylen && memcmp(word[1], key, keylen) == 0);
	CHECK(wlen[2] == 1 && word[2][0] == '0');
	CHECK(wlen[3] == 1 && word[3][0] == '0');
	size_t n = 0;
	CHECK(wlen[4] > 0 && wlen[4] <= 20);
	for (size_t i = 0; i < wlen[4]; i++) {
		CHECK(is_ascii_digit(word[4][i]));
		n = n * 10 + (size_t)(word[4][i] - '0');
	}
	CHECK(n == value.len);
	size_t data = hlen + 2;
	CHECK(data + n + 2 == total);
	CHECK(memcmp(command + data, value.data, n) == 0);
	CHECK(command[data + n] == '\r' && command[data + n + 1] == '\n');
}

/* ENC, what encode_line made of the line (its value in ENCODED), is the
 * record record_parse gave (REC) but for the apps array, and the value is
 * protobuf-c's own packing of that record. */
static void check_encoded(const struct record *enc)
{
	UserApps msg = message();

	size_t n = user_apps__pack(&msg, packed);
	CHECK(encoded.len == n && memcmp(encoded.data, packed, n) == 0);
	CHECK(enc->napps == rec.napps && enc->apps_dropped == rec.apps_dropped);
	CHECK(enc->dev_id == rec.dev_id && enc->dev_id_len == rec.dev_id_len && enc->type == rec.type);
	CHECK(enc->has_lat == rec.has_lat && enc->has_lon == rec.has_lon);
	CHECK(!rec.has_lat || same_double(enc->lat, rec.lat));
	CHECK(!rec.has_lon || same_double(enc->lon, rec.lon));
	CHECK(enc->coords_dropped == rec.coords_dropped);
}

/* The record is the previous parser's. */
static void check_ref(void)
{
	CHECK(rec.type == ref.type && rec.dev_id == ref.dev_id && rec.dev_id_len == ref.dev_id_len);
	CHECK(rec.has_lat == ref.has_lat && rec.has_lon == ref.has_lon);
	CHECK(!rec.has_lat || same_double(rec.lat, ref.lat));
	CHECK(!rec.has_lon || same_double(rec.lon, ref.lon));
	CHECK(rec.coords_dropped == ref.coords_dropped);
	CHECK(rec.napps == ref.napps && rec.apps_dropped == ref.apps_dropped);
	CHECK(rec.napps == 0 || memcmp(rec.apps, ref.apps, rec.napps * sizeof(*rec.apps)) == 0);
}

/* Poison every field the parser must set, so a stale one shows. */
static void poison(enum simd kernel)
{
	uint32_t *apps = rec.apps;
	size_t apps_cap = rec.apps_cap;

	memset(&rec, 0xa5, sizeof(rec));
	rec.apps = apps;
	rec.apps_cap = apps_cap;
	rec.simd = kernel;
}

/* LINE through one kernel, held to the model M and, when AGREE, to the
 * previous parser's record (REF). */
static enum line_status check_kernel(enum simd kernel, const char *line, size_t len,
				     const struct model *m, int agree)
{
	enum line_status st;

	poison(kernel);
	CHECK(encode_line(&rec, line, len, &encoded) == m->status);
	struct record enc = rec;
	poison(kernel);
	st = record_parse(&rec, line, len);
	CHECK(st == LINE_OK || st == LINE_BLANK || st == LINE_ERR_FIELDS ||
	      st == LINE_ERR_DEV_TYPE || st == LINE_ERR_DEV_ID || st == LINE_ERR_KEY ||
	      st == LINE_ERR_TOO_LONG);
	CHECK(st == m->status);
	if (st != LINE_OK)
		return st; /* counted, never sent */

	CHECK(rec.dev_id == m->field[1] && rec.dev_id_len == m->flen[1]);

	double lat = 0, lon = 0;
	int has_lat = model_coord(m->field[2], m->flen[2], &lat) == 0;
	int has_lon = model_coord(m->field[3], m->flen[3], &lon) == 0;
	CHECK(rec.has_lat == has_lat && rec.has_lon == has_lon);
	if (has_lat)
		CHECK(same_double(rec.lat, lat));
	if (has_lon)
		CHECK(same_double(rec.lon, lon));
	/* A field of only whitespace is there, and is no number: dropped. */
	CHECK(rec.coords_dropped == (!has_lat && m->flen[2] > 0) + (!has_lon && m->flen[3] > 0));

	size_t dropped, napps = model_apps_parse(m->field[4], m->flen[4], &dropped);
	CHECK(rec.napps == napps && rec.apps_dropped == dropped);
	CHECK(napps == 0 || memcmp(rec.apps, model_apps, napps * sizeof(*model_apps)) == 0);
	if (agree)
		check_ref();
	check_encoded(&enc);

	char key[MCPROTO_KEY_MAX + 1];
	CHECK(dev_type_name(rec.type) != NULL);
	size_t keylen = key_build(&rec, key);
	check_key(key, keylen, m);
	pack();
	check_value();
	check_command(key, keylen);
	packbuf_free(&value);
	return st;
}

/* One line through every kernel; the status, which they all agree on. */
static enum line_status check_line(const char *line, size_t len)
{
	struct model m;
	int agree = ref_rules_agree(line, len);
	enum line_status ref_st = ref_record_parse(&ref, line, len);

	model_line(line, len, &m);
	CHECK(!agree || ref_st == m.status);
	for (int k = 0; k < nkernels; k++)
		CHECK(check_kernel(kernels[k], line, len, &m, agree) == m.status);
	return m.status;
}

/* Fill LINE (RECORD_MAX_LINE + 1 bytes) with HEAD, then ITEM and a comma
 * again and again, and end its first RECORD_MAX_LINE bytes on a digit. */
static void fill_line(char *line, const char *head, const char *item)
{
	size_t hlen = strlen(head), ilen = strlen(item);

	memcpy(line, head, hlen);
	for (size_t i = hlen; i < RECORD_MAX_LINE + 1; i++) {
		size_t at = (i - hlen) % (ilen + 1);
		line[i] = at == ilen ? (char)',' : item[at];
	}
	line[RECORD_MAX_LINE - 1] = '9';
}

/* Lines near 1 MiB are out of the fuzzer's reach; check the longest ones,
 * with the most apps and with the longest packed value, and one byte more,
 * once at start-up. */
static void check_long_lines(void)
{
	static const char head[] = "gaid\tlong\t1\t2\t";
	char *line = malloc(RECORD_MAX_LINE + 1);

	CHECK(line != NULL);
	fill_line(line, head, "7");
	CHECK(check_line(line, RECORD_MAX_LINE) == LINE_OK);
	CHECK(rec.napps == (RECORD_MAX_LINE - (sizeof(head) - 1) + 1) / 2);
	CHECK(check_line(line, RECORD_MAX_LINE + 1) == LINE_ERR_TOO_LONG);
	fill_line(line, head, "4294967295");
	CHECK(check_line(line, RECORD_MAX_LINE) == LINE_OK);
	CHECK(rec.napps > 95000);
	CHECK(check_line(line, RECORD_MAX_LINE + 1) == LINE_ERR_TOO_LONG);
	free(line);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	CHECK(record_init(&rec) == 0 && record_init(&decoded) == 0 && record_init(&ref) == 0);
	CHECK(encode_init(&encoded) == 0);
	model_apps = malloc(rec.apps_cap * sizeof(*model_apps));
	packed = malloc(RECORD_MAX_LINE + 64);
	CHECK(model_apps != NULL && packed != NULL);
	kernels[nkernels++] = SIMD_NONE;
	if (simd_choose() == SIMD_AVX2)
		kernels[nkernels++] = SIMD_AVX2;
	check_long_lines();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_INPUT)
		check_line((const char *)data, size);
	return 0;
}
