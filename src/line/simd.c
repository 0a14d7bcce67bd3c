/* simd.c -- whether this CPU and environment let the parser use AVX2. */
#include <stdlib.h>
#include <string.h>

#include "simd.h"

enum simd simd_choose(void)
{
	const char *want = getenv("MEMC_LOAD_SIMD");

	if (want != NULL && strcmp(want, "none") == 0)
		return SIMD_NONE;
#ifdef HAVE_AVX2
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
	    __builtin_cpu_supports("popcnt"))
		return SIMD_AVX2;
#endif
	return SIMD_NONE;
}
