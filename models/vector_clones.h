#pragma once
// RIMLAB_VECTOR_CLONES marks a function whose loops are short (keys of 32 to 64, a handful of
// units, rows of d_h, masks drawn eight at a time), so that it runs at the width of the vector
// unit: it is compiled for AVX-512, AVX2+FMA and the baseline, and the loader picks the best the
// CPU has (GCC's target_clones; one binary still runs everywhere).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RIMLAB_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RIMLAB_VECTOR_CLONES
#endif
