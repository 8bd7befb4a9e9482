#pragma once
/// Process-wide settings that decide how fast LibTorch runs on CPU, applied first thing in main.
///
/// - OpenBLAS picks its GEMM kernels from a table of CPU models. On CPUs it does not know (the
///   virtual Xeons this project is measured on report a generic "Intel Xeon Processor") it falls
///   back to "Prescott", SSE3 kernels, even when the CPU has AVX2 or AVX-512: every matrix product
///   then runs several times slower. The kernels are chosen when the library loads, before main,
///   so when OpenBLAS reports such a fallback and OPENBLAS_CORETYPE is unset, the process sets it
///   (SkylakeX with AVX-512, Haswell with AVX2 and FMA) and re-executes itself once.
/// - glibc returns freed blocks above its mmap and trim thresholds to the kernel, so each
///   minibatch's large activations are page-faulted in again; keeping them in the heap made a
///   PPO minibatch about 15% faster.
///
/// - The rimlab command is linked with tcmalloc when the build finds it (RIMLAB_TCMALLOC, see
///   CMakeLists.txt): PPO's many small tensors made glibc's malloc and free about a tenth of the
///   CPU time, and with tcmalloc end-to-end PPO ran about 10% faster. glibc's thresholds are then
///   left alone.
///
/// Set RIMLAB_NO_TUNING=1 to skip the first two (e.g. to measure their effect).

#include <string>

namespace rimlab {

/// May not return (re-exec); otherwise returns after adjusting malloc.
void TuneProcess(int argc, char** argv);

/// "OpenBLAS SkylakeX kernels", "OpenBLAS Prescott kernels (OPENBLAS_CORETYPE=...)", or
/// "not OpenBLAS": what the BLAS in use reports, for logs and benchmarks.
std::string BlasDescription();

/// "tcmalloc" or "glibc malloc": the allocator this process runs with.
std::string AllocatorDescription();

}  // namespace rimlab
