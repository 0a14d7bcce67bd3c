/* apps_avx2.c -- the apps field with AVX2: 64 bytes, then 8 items, at a time.
 *
 * The usual field, items of one to four digits and nothing but digits and
 * commas, goes through vectors; any other field is handed whole to the
 * portable kernel of apps.c, which knows every rule, so this file needs to
 * know only what "usual" is. 64 bytes are classified at once. For each 8
 * of them, one shuffle makes the 4 bytes before each byte, and a table,
 * indexed by which of the 8 are commas, picks out those before the commas:
 * the items, each with whatever precedes it if shorter than 4 bytes. Eight
 * such words are then converted together: bytes up to the last non-digit
 * cleared, two multiply-adds make the numbers; as varints they take one or
 * two bytes, and one shuffle, chosen by which take two, packs them. */
#include <string.h>

#include "apps.h"

#ifdef HAVE_AVX2
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

/* For each set of commas among 8 bytes, the shuffle of the 16 bytes from 4
 * before them that puts the 4 bytes before each comma in a word, in order
 * (words 4 to 7 from the upper lane, which holds the same 16 bytes); and
 * how many commas. */
static uint8_t before_shuffle[256][32];
static uint8_t bit_count[256];
/* For each set of eight varints that take two bytes, the shuffle that
 * packs their sixteen bytes, two a varint, into the bytes they take. */
static uint8_t pack_shuffle[256][16];

static void tables_init(void)
{
	for (unsigned m = 0; m < 256; m++) {
		unsigned k = 0, j = 0;
		memset(pack_shuffle[m], 0x80, 16); /* 0x80: a zero byte */
		memset(before_shuffle[m], 0x80, 32);
		for (unsigned i = 0; i < 8; i++) {
			if (m >> i & 1) {
				for (unsigned b = 0; b < 4; b++)
					before_shuffle[m][4 * k + b] = (uint8_t)(i + b);
				k++;
			}
			pack_shuffle[m][j++] = (uint8_t)(2 * i);
			if (m >> i & 1)
				pack_shuffle[m][j++] = (uint8_t)(2 * i + 1);
		}
		bit_count[m] = (uint8_t)k;
	}
}

/* The commas of the 64 bytes at P, and the bytes that are neither digits
 * nor commas. */
AVX2 INLINE uint64_t classify(const char *p, uint64_t *other)
{
	const __m256i c = _mm256_set1_epi8(','), zero = _mm256_set1_epi8('0');
	const __m256i nine = _mm256_set1_epi8(9);
	__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	__m256i ca = _mm256_cmpeq_epi8(a, c), cb = _mm256_cmpeq_epi8(b, c);
	__m256i da = _mm256_sub_epi8(a, zero), db = _mm256_sub_epi8(b, zero);

	da = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(da, nine), da), ca);
	db = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(db, nine), db), cb);
	*other = ~((uint32_t)_mm256_movemask_epi8(da) |
		   (uint64_t)(uint32_t)_mm256_movemask_epi8(db) << 32);
	return (uint32_t)_mm256_movemask_epi8(ca) |
	       (uint64_t)(uint32_t)_mm256_movemask_epi8(cb) << 32;
}

/* The 4 bytes before each comma of the 64 at P (COMMA: their bits) to DST,
 * up to 8 junk words after them; returns their number. Reads P[-4, 68). */
AVX2 INLINE size_t before_commas(uint32_t *dst, const char *p, uint64_t comma)
{
	__m128i bits = _mm_cvtsi64_si128((long long)comma);
	size_t n = 0;

#define BEFORE_COMMAS(k)                                                                        \
	do {                                                                                    \
		unsigned b = (unsigned)_mm_extract_epi8(bits, k);                               \
		__m256i src = _mm256_broadcastsi128_si256(                                      \
			_mm_loadu_si128((const __m128i *)(const void *)(p + 8 * (k) - 4)));     \
		__m256i ctl = _mm256_loadu_si256((const __m256i *)(const void *)before_shuffle[b]); \
		_mm256_storeu_si256((__m256i *)(void *)(dst + n), _mm256_shuffle_epi8(src, ctl)); \
		n += bit_count[b];                                                              \
	} while (0)
	BEFORE_COMMAS(0);
	BEFORE_COMMAS(1);
	BEFORE_COMMAS(2);
	BEFORE_COMMAS(3);
	BEFORE_COMMAS(4);
	BEFORE_COMMAS(5);
	BEFORE_COMMAS(6);
	BEFORE_COMMAS(7);
#undef BEFORE_COMMAS
	return n;
}

/* The numbers of 8 items from the 4 bytes that end each, and in *EMPTY
 * the bits of those that are empty (a non-digit last). */
AVX2 INLINE __m256i values(const uint32_t *words, unsigned *empty)
{
	__m256i w = _mm256_loadu_si256((const __m256i *)(const void *)words);
	__m256i d = _mm256_sub_epi8(w, _mm256_set1_epi8('0'));
	__m256i other = _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d),
					 _mm256_set1_epi8(-1));
	/* Clear the bytes up to the last non-digit, the one before the item. */
	__m256i before = _mm256_or_si256(other, _mm256_srli_epi32(other, 8));
	before = _mm256_or_si256(before, _mm256_srli_epi32(before, 16));
	d = _mm256_andnot_si256(before, d);
	*empty = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(other));
	/* Digits a b c d: 10a + b and 10c + d, then 100(10a + b) + 10c + d. */
	return _mm256_madd_epi16(_mm256_maddubs_epi16(d, _mm256_set1_epi16(0x010a)),
				 _mm256_set1_epi32(0x00010064));
}

/* V (below 2^14) as varints at P; the bytes written, of the VALID ones. */
AVX2 INLINE size_t put_varints(uint8_t *p, __m256i v, unsigned valid)
{
	/* v, or when over 127 its low 7 bits | 0x80, then its high 7 bits:
	 * v + (v & 0x3f80) + 0x80 as two bytes. */
	__m256i big = _mm256_cmpgt_epi32(v, _mm256_set1_epi32(0x7f));
	__m256i hi = _mm256_add_epi32(_mm256_and_si256(v, _mm256_set1_epi32(0x3f80)),
				      _mm256_set1_epi32(0x80));
	__m256i two = _mm256_add_epi32(v, _mm256_and_si256(big, hi));
	__m256i halves = _mm256_permute4x64_epi64(_mm256_packus_epi32(two, two), 0x08);
	unsigned m = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(big)) & valid;
	__m128i bytes = _mm_shuffle_epi8(_mm256_castsi256_si128(halves),
					 _mm_loadu_si128((const __m128i *)(const void *)pack_shuffle[m]));

	_mm_storeu_si128((__m128i *)(void *)p, bytes);
	return (size_t)bit_count[valid] + bit_count[m];
}

/* Whether DIGITS, a block's bits of digits, after PREV, the block
 * before's, hold five in a row: an item too long for the vectors. */
INLINE int long_item(uint64_t digits, uint64_t prev)
{
	uint64_t two = digits & digits >> 1, four = two & two >> 2;
	/* Ones that end PREV and start DIGITS; the low bits keep the counts
	 * defined when either is all ones. */
	int across = __builtin_clzll(~prev | 1) + __builtin_ctzll(~digits | UINT64_C(1) << 63);

	return ((four & digits >> 4) != 0) | (across >= 5);
}

AVX2 INLINE int scan(const char *line, size_t at, size_t end, struct apps_out *out,
		     const int to_array)
{
	/* The field's last 96 bytes, then digits, which are not items: the
	 * blocks that would read past the field read here, so the last block
	 * takes the same path as the others and no branch depends on where
	 * the field ends. */
	char tail[96 + 68];
	/* A chunk's words, the field's last, and padding. */
	uint32_t words[APPS_CHUNK + 1 + 8];
	const char *field = line + at;
	size_t len = end - at, napps = 0;
	uint64_t prev = 0;
	uint8_t *p = out->varints;

	if (len == 0 || at + len < sizeof(tail) - 68) /* nothing to do, or a short line */
		return apps_scan(SIMD_NONE, line, at, end, out);
	memcpy(tail, field + len - 96, 96);
	memset(tail + 96, '0', 68);
	for (size_t base = 0; base < len; base += APPS_CHUNK) {
		size_t clen = len - base < APPS_CHUNK ? len - base : APPS_CHUNK, n = 0;

		for (size_t o = base; o < base + clen; o += 64) {
			const char *src = o + 68 <= len ? field + o : tail + (o + 96 - len);
			uint64_t valid = len - o >= 64 ? ~UINT64_C(0) : ~(~UINT64_C(0) << ((len - o) & 63));
			uint64_t other, comma = classify(src, &other) & valid, digits = ~comma & valid;

			if ((other & valid) != 0 || long_item(digits, prev))
				return apps_scan(SIMD_NONE, line, at, end, out);
			prev = digits;
			n += before_commas(words + n, src, comma);
		}
		if (base + clen == len) /* the last item ends with the field */
			memcpy(&words[n++], field + len - 4, 4);
		_mm256_storeu_si256((__m256i *)(void *)(words + n), _mm256_set1_epi8('0'));
		for (size_t done = 0; done < n; done += 8) {
			unsigned valid = n - done >= 8 ? 0xff : (1u << (n - done)) - 1, empty;
			__m256i v = values(words + done, &empty);
			if ((empty & valid) != 0)
				return apps_scan(SIMD_NONE, line, at, end, out);
			if (to_array)
				_mm256_storeu_si256((__m256i *)(void *)(out->array + napps), v);
			else
				p += put_varints(p, v, valid);
			napps += bit_count[valid];
		}
	}
	out->napps = napps;
	out->dropped = 0;
	out->nbytes = to_array ? 0 : (size_t)(p - out->varints);
	return 0;
}

AVX2 int apps_scan_avx2(const char *line, size_t at, size_t end, struct apps_out *out)
{
	static int tables_ready;

	if (!tables_ready) {
		tables_init();
		tables_ready = 1;
	}
	return out->array != NULL ? scan(line, at, end, out, 1) : scan(line, at, end, out, 0);
}

#else

int apps_scan_avx2(const char *line, size_t at, size_t end, struct apps_out *out)
{
	return apps_scan(SIMD_NONE, line, at, end, out); /* never chosen */
}

#endif
