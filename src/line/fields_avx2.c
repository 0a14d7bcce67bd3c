/* fields_avx2.c -- the first four fields of the usual line, with AVX2.
 *
 * A usual line's type, dev_id and coordinates lie within its first 96
 * bytes: three vectors give every tab, and every byte no key may hold, at
 * once. The two coordinates are then read side by side, one per 128-bit
 * lane: a table shuffle drops the sign and the point and puts the digits
 * at the lane's end, and multiply-adds make two numbers of 8 digits each,
 * which Clinger's fast path turns into the doubles strtod would give. No
 * branch depends on a coordinate's sign or length, or on where the fields
 * end: those are as good as random from line to line. Anything unusual is
 * left to record.c's portable path, which knows every rule. */
#include <string.h>

#include "coord.h"
#include "fields.h"
#include "record.h"
#include "simd.h"

#if defined(HAVE_AVX2) && COORD_FAST
#include <immintrin.h>

/* For a lane of NDIG digits with a point at POINT (POINT = NDIG: none),
 * the shuffle that puts the digits, without the point, at the lane's end
 * after zeros. */
static uint8_t digit_shuffle[17][17][16];

static void tables_init(void)
{
	for (int ndig = 0; ndig <= 16; ndig++)
		for (int point = 0; point <= 16; point++)
			for (int j = 0; j < 16; j++) {
				int k = j - (16 - ndig); /* the digit byte J takes */
				digit_shuffle[ndig][point][j] =
					(uint8_t)(k < 0 ? 0x80 : k + (k >= point));
			}
}

/* The lowest bit of the 96-bit set (LO, HI), 96 when there is none. */
AVX2 static inline unsigned lowest_bit(uint64_t lo, uint32_t hi)
{
	unsigned b = (unsigned)_tzcnt_u64(lo); /* 64 when LO is 0 */

	return b + (b == 64) * (unsigned)_tzcnt_u32(hi);
}

/* The tabs that end dev_id, lat and lon, or -1. */
AVX2 static inline int tabs(const char *line, unsigned t[3])
{
	const __m256i tab = _mm256_set1_epi8('\t'), space = _mm256_set1_epi8(0x20);
	const __m256i del = _mm256_set1_epi8(0x7f);
	__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)line);
	__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(line + 32));
	__m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(line + 64));
	uint64_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, tab)) |
		      (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, tab)) << 32;
	uint32_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, tab));
	/* Bytes no key may hold: up to a space, and DEL. */
	__m256i sa = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(a, space), a),
				     _mm256_cmpeq_epi8(a, del));
	__m256i sb = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(b, space), b),
				     _mm256_cmpeq_epi8(b, del));
	uint64_t stops = ((uint32_t)_mm256_movemask_epi8(sa) |
			  (uint64_t)(uint32_t)_mm256_movemask_epi8(sb) << 32) >>
			 (DEV_TYPE_LEN + 1);

	/* The dev_id ends at the first byte no key may hold: a tab, and not
	 * at once (empty), or the line is not usual. */
	t[0] = DEV_TYPE_LEN + 1 + (unsigned)_tzcnt_u64(stops);
	if (t[0] == DEV_TYPE_LEN + 1 || t[0] >= 64 || (lo >> t[0] & 1) == 0)
		return -1;
	lo &= ~UINT64_C(1) << t[0];
	t[1] = lowest_bit(lo, hi);
	hi &= hi - (lo == 0); /* take t[1] out */
	lo &= lo - 1;
	t[2] = lowest_bit(lo, hi);
	return t[2] < 96 ? 0 : -1;
}

AVX2 int fields_avx2(const char *line, size_t len, struct fields *f)
{
	static int tables_ready;
	unsigned t[3];

	if (!tables_ready) {
		tables_init();
		tables_ready = 1;
	}
	if (len < FIELDS_MIN_LINE || tabs(line, t) < 0)
		return -1;
	/* Lat and lon, with their signs. An empty field's first byte is the
	 * tab after it; 16 bytes past lon's sign are within the line. */
	const char *lat = line + t[0] + 1, *lon = line + t[1] + 1;
	unsigned neg0 = lat[0] == '-', neg1 = lon[0] == '-';
	unsigned skip0 = neg0 | (lat[0] == '+'), skip1 = neg1 | (lon[0] == '+');
	unsigned body0 = t[1] - t[0] - 1 - skip0, body1 = t[2] - t[1] - 1 - skip1;
	if ((body0 - 1 > 15) | (body1 - 1 > 15))
		return -1;
	__m256i raw = _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)(const void *)(lat + skip0)),
					_mm_loadu_si128((const __m128i *)(const void *)(lon + skip1)));
	__m256i dig = _mm256_sub_epi8(raw, _mm256_set1_epi8('0'));
	uint32_t full = ((1u << body0) - 1) | ((1u << body1) - 1) << 16;
	uint32_t d = (uint32_t)_mm256_movemask_epi8(
			     _mm256_cmpeq_epi8(_mm256_min_epu8(dig, _mm256_set1_epi8(9)), dig)) &
		     full;
	uint32_t p = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(raw, _mm256_set1_epi8('.'))) &
		     full;
	uint32_t p0 = p & 0xffff, p1 = p >> 16;
	/* Digits and at most one point, and a digit in each. */
	if (((d | p) ^ full) | (p0 & (p0 - 1)) | (p1 & (p1 - 1)) ||
	    (d & 0xffff) == 0 || (d >> 16) == 0)
		return -1;
	unsigned point0 = (unsigned)_tzcnt_u32(p0 | 1u << body0), ndig0 = body0 - (p0 != 0);
	unsigned point1 = (unsigned)_tzcnt_u32(p1 | 1u << body1), ndig1 = body1 - (p1 != 0);
	__m256i ctl = _mm256_setr_m128i(
		_mm_loadu_si128((const __m128i *)(const void *)digit_shuffle[ndig0][point0]),
		_mm_loadu_si128((const __m128i *)(const void *)digit_shuffle[ndig1][point1]));
	/* Pairs of digits, fours, then eights: two numbers a lane. */
	__m256i x = _mm256_shuffle_epi8(dig, ctl);
	x = _mm256_madd_epi16(_mm256_maddubs_epi16(x, _mm256_set1_epi16(0x010a)),
			      _mm256_set1_epi32(0x00010064));
	x = _mm256_madd_epi16(_mm256_packus_epi32(x, x), _mm256_set1_epi32(0x00012710));
	__m128i hi = _mm256_extracti128_si256(x, 1);
	uint64_t m0 = (uint64_t)(uint32_t)_mm256_cvtsi256_si32(x) * 100000000 +
		      (uint32_t)_mm256_extract_epi32(x, 1);
	uint64_t m1 = (uint64_t)(uint32_t)_mm_cvtsi128_si32(hi) * 100000000 +
		      (uint32_t)_mm_extract_epi32(hi, 1);
	if ((m0 > UINT64_C(1) << 53) | (m1 > UINT64_C(1) << 53))
		return -1;
	f->coord[0] = coord_signed((double)m0 / coord_pow10[ndig0 - point0], (int)neg0);
	f->coord[1] = coord_signed((double)m1 / coord_pow10[ndig1 - point1], (int)neg1);
	for (int i = 0; i < 3; i++)
		f->tab[i] = line + t[i];
	return 0;
}

#else

int fields_avx2(const char *line, size_t len, struct fields *f)
{
	(void)line, (void)len, (void)f;
	return -1; /* never chosen */
}

#endif
