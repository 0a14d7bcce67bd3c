/* simd.h -- which vector instructions the line parser may use.
 *
 * The parser has a portable path (64-bit words, any CPU) and, on x86-64,
 * an AVX2 path compiled in through target attributes: one binary runs on
 * any x86-64 and takes AVX2 where the CPU has it. Both paths give the same
 * results; MEMC_LOAD_SIMD=none forces the portable one, so tests run both. */
#ifndef MEMC_LOAD_SIMD_H
#define MEMC_LOAD_SIMD_H

enum simd { SIMD_NONE, SIMD_AVX2 };

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2 1
/* A function that may use AVX2 (with BMI1 and POPCNT, which every AVX2
 * CPU has); call it only after simd_choose said SIMD_AVX2. */
#define AVX2 __attribute__((target("avx2,bmi,popcnt")))
#endif

/* SIMD_AVX2 when the CPU has it and the environment does not say
 * MEMC_LOAD_SIMD=none, else SIMD_NONE. */
enum simd simd_choose(void);

#endif
