/* record_ref.c -- the line parser as it was before the vector one: one
 * memchr per field, a byte loop for the key, and each app read from its
 * start. Kept only for the tests and the fuzzer, as a reference model: the
 * current parser must give the same status and the same record on every
 * line the rules it was written for treat as they are treated now
 * (ref_rules_agree). Not built into memc_load. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mc/mcproto.h"
#include "record_ref.h"

static const char type_names[DEV_TYPES][DEV_TYPE_LEN + 1] = {"idfa", "gaid", "adid", "dvid"};

static int type_from_name(const char *name, size_t len)
{
	if (len != DEV_TYPE_LEN)
		return -1;
	for (int t = 0; t < DEV_TYPES; t++)
		if (memcmp(name, type_names[t], DEV_TYPE_LEN) == 0)
			return t;
	return -1;
}

static inline int is_digit(char c)
{
	return (unsigned char)(c - '0') < 10; /* one comparison */
}

/* Powers of ten that a double holds exactly. */
static const double exact_pow10[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The number in a lat or lon field: strict decimal syntax, [+-] digits
 * [. digits] [e [+-] digits] with at least one mantissa digit; no spaces,
 * hex, "inf" or "nan", which strtod alone would accept. Checked and
 * converted in one pass: when the digits make an integer of at most 2^53
 * and the power of ten is one a double holds exactly, one IEEE division or
 * multiplication rounds correctly (Clinger's fast path), so the result is
 * strtod's; coordinates with 10 decimals always take it. Other numbers go
 * to strtod, which the program never puts in another locale than "C". */
int ref_record_parse_coord(const char *s, size_t len, double *out)
{
	uint64_t m = 0;
	size_t i = 0;
	int digits = 0, frac = 0, exp = 0, exp_digits = 0, neg = 0, exp_neg = 0;

	if (len == 0 || len > 127)
		return -1;
	if (s[0] == '+' || s[0] == '-')
		neg = s[i++] == '-';
	for (; i < len && is_digit(s[i]); i++, digits++)
		m = m * 10 + (uint64_t)(s[i] - '0');
	if (i < len && s[i] == '.')
		for (i++; i < len && is_digit(s[i]); i++, digits++, frac++)
			m = m * 10 + (uint64_t)(s[i] - '0');
	if (digits == 0)
		return -1;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			exp_neg = s[i++] == '-';
		for (; i < len && is_digit(s[i]); i++, exp_digits++)
			if (exp < 100000)
				exp = exp * 10 + (s[i] - '0');
		if (exp_digits == 0)
			return -1;
	}
	if (i != len)
		return -1;

	int exp10 = (exp_neg ? -exp : exp) - frac;
#if FLT_EVAL_METHOD == 0 /* with extended precision, the division would round twice */
	if (digits <= 19 && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
		double v = exp10 < 0 ? (double)m / exact_pow10[-exp10] : (double)m * exact_pow10[exp10];
		*out = neg ? -v : v;
		return 0;
	}
#endif
	char buf[128];
	memcpy(buf, s, len);
	buf[len] = '\0';
	double v = strtod(buf, NULL);
	if (!isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* The value of an item of more than 10 digits, where the fast loop may have
 * wrapped: only leading zeros can keep it within uint32. */
static uint64_t long_item_value(const char *s, size_t n)
{
	uint64_t v = 0;

	while (n > 10 && *s == '0')
		s++, n--;
	if (n > 10)
		return UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HAVE_SWAR_DIGITS 1
/* The digits at the start of the 8 bytes at S, taken together (SWAR: a
 * loop over bytes costs about ten instructions a digit, this about twenty
 * for up to eight). Returns how many leading bytes are digits and sets
 * *VALUE to their number. S must have 8 readable bytes. */
static inline size_t leading_digits8(const char *s, uint64_t *value)
{
	uint64_t w, v, nondigit;

	memcpy(&w, s, 8);
	v = w ^ 0x3030303030303030u; /* digits become bytes 0..9 */
	/* Bytes of 10 or more get their top bit set; no carry crosses bytes. */
	nondigit = (((v & 0x7f7f7f7f7f7f7f7fu) + 0x7676767676767676u) | v) & 0x8080808080808080u;
	size_t n = nondigit ? (size_t)__builtin_ctzll(nondigit) / 8 : 8;
	if (n == 0)
		return 0;
	/* Keep the N digits, as the last ones of 8 with leading zeros. */
	v <<= 8 * (8 - n);
	v = ((v & 0x0f0f0f0f0f0f0f0fu) * (10 * 256 + 1)) >> 8;
	v = ((v & 0x00ff00ff00ff00ffu) * (100 * 65536 + 1)) >> 16;
	*value = ((v & 0x0000ffff0000ffffu) * ((UINT64_C(10000) << 32) + 1)) >> 32;
	return n;
}
#endif

/* One pass over "app,app,...": an item is kept when it is one or more
 * digits with a value within uint32, and dropped otherwise. Hand-written:
 * strtoul would accept signs and spaces, and this is the hottest loop. */
static void parse_apps(struct record *rec, const char *s, size_t len)
{
	const char *end = s + len;
	size_t n = 0, dropped = 0;

	rec->napps = 0;
	rec->apps_dropped = 0;
	if (len == 0)
		return;
	for (;;) {
		const char *start = s;
		uint64_t v = 0;
		size_t first = 8;

#ifdef HAVE_SWAR_DIGITS
		if (end - s >= 8) {
			first = leading_digits8(s, &v);
			s += first;
		}
#endif
		/* Eight digits may not be all; near the end, go byte by byte. */
		if (first == 8)
			while (s < end && is_digit(*s))
				v = v * 10 + (uint64_t)(*s++ - '0');
		size_t digits = (size_t)(s - start);
		if (digits > 10)
			v = long_item_value(start, digits);
		/* No room check: a line within RECORD_MAX_LINE has at most
		 * apps_cap items. */
		if (digits > 0 && v <= UINT32_MAX && (s == end || *s == ',')) {
			rec->apps[n++] = (uint32_t)v;
		} else {
			dropped++;
			const char *comma = memchr(s, ',', (size_t)(end - s));
			s = comma ? comma : end;
		}
		if (s == end)
			break;
		s++; /* the comma; an item, maybe empty, follows it */
	}
	rec->napps = n;
	rec->apps_dropped = dropped;
}

/* memcached keys may not hold spaces or control bytes (the text protocol
 * would split or end the command there). */
static int key_byte_ok(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

static int is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return 0;
	return 1;
}

enum line_status ref_record_parse(struct record *rec, const char *line, size_t len)
{
	const char *field[5];
	size_t flen[5];
	const char *p = line, *end;
	int nf = 0;

	if (len > RECORD_MAX_LINE)
		return LINE_ERR_TOO_LONG;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (is_blank(line, len))
		return LINE_BLANK;

	end = line + len;
	for (;;) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *stop = tab ? tab : end;

		if (nf == 5)
			return LINE_ERR_FIELDS;
		field[nf] = p;
		flen[nf] = (size_t)(stop - p);
		nf++;
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	if (nf != 5)
		return LINE_ERR_FIELDS;

	int type = type_from_name(field[0], flen[0]);
	if (type < 0)
		return LINE_ERR_DEV_TYPE;
	if (flen[1] == 0)
		return LINE_ERR_DEV_ID;
	if (flen[0] + 1 + flen[1] > MCPROTO_KEY_MAX)
		return LINE_ERR_KEY;
	for (size_t i = 0; i < flen[1]; i++)
		if (!key_byte_ok((unsigned char)field[1][i]))
			return LINE_ERR_KEY;

	rec->type = (enum dev_type)type;
	rec->dev_id = field[1];
	rec->dev_id_len = flen[1];
	rec->has_lat = ref_record_parse_coord(field[2], flen[2], &rec->lat) == 0;
	rec->has_lon = ref_record_parse_coord(field[3], flen[3], &rec->lon) == 0;
	rec->coords_dropped = (!rec->has_lat && flen[2] > 0) + (!rec->has_lon && flen[3] > 0);
	parse_apps(rec, field[4], flen[4]);
	return LINE_OK;
}

/* The whitespace of the rules as they are now: Python's str.strip()'s. */
static int ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Whether S[0, LEN) holds whitespace, or with SIGNS a sign. */
static int holds(const char *s, size_t len, int signs)
{
	for (size_t i = 0; i < len; i++)
		if (ws(s[i]) || (signs && (s[i] == '+' || s[i] == '-')))
			return 1;
	return 0;
}

int ref_rules_agree(const char *line, size_t len)
{
	const char *field[5];
	size_t flen[5], nf = 0, start = 0;

	if (len > RECORD_MAX_LINE)
		return 1; /* too long, before anything else, either way */
	if (len > 0 && line[len - 1] == '\r')
		len--; /* both take one CR off */
	if (len == 0)
		return 1;
	if (ws(line[0]) || ws(line[len - 1]))
		return 0;
	/* Nothing at the ends to strip: the same fields, so the same status;
	 * only what is made of the last three can differ. */
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (nf < 5) {
			field[nf] = line + start;
			flen[nf] = i - start;
		}
		nf++;
		start = i + 1;
	}
	if (nf != 5)
		return 1;
	return !holds(field[2], flen[2], 0) && !holds(field[3], flen[3], 0) &&
	       !holds(field[4], flen[4], 1);
}
