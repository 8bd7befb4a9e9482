#include "runners/cli/process_tuning.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace rimlab {

namespace {

using CoreNameFn = char* (*)();

const char* OpenBlasCoreName() {
  // Looked up at run time: libblas.so.3 may be any BLAS Debian's alternatives point at.
  auto fn = reinterpret_cast<CoreNameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return fn != nullptr ? fn() : nullptr;
}

/// The kernel set this CPU can run when OpenBLAS fell back to a generic one, or nullptr.
const char* BetterCoreType(const char* detected) {
  static const char* const kGeneric[] = {"Prescott",   "Core2",     "Penryn",
                                         "Dunnington", "Nehalem",   "Katmai",
                                         "Coppermine", "Northwood", "Banias"};
  bool generic = false;
  for (const char* g : kGeneric) generic = generic || std::strcmp(detected, g) == 0;
  if (!generic) return nullptr;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

bool UsingTcmalloc() {
  return dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr;
}

}  // namespace

void TuneProcess(int argc, char** argv) {
  (void)argc;
  const char* off = std::getenv("RIMLAB_NO_TUNING");
  if (off != nullptr && std::strcmp(off, "0") != 0) return;
  const char* core = OpenBlasCoreName();
  if (core != nullptr && std::getenv("OPENBLAS_CORETYPE") == nullptr &&
      std::getenv("RIMLAB_BLAS_REEXEC") == nullptr) {
    if (const char* better = BetterCoreType(core)) {
      setenv("OPENBLAS_CORETYPE", better, 1);
      setenv("RIMLAB_BLAS_REEXEC", "1", 1);  // never loop, whatever OpenBLAS does with it
      std::fflush(nullptr);
      execv("/proc/self/exe", argv);
      // exec failed (no /proc?): carry on with the slow kernels rather than fail.
      unsetenv("OPENBLAS_CORETYPE");
    }
  }
  if (UsingTcmalloc()) return;  // it keeps freed memory in its caches anyway
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

std::string AllocatorDescription() {
  return UsingTcmalloc() ? "tcmalloc" : "glibc malloc";
}

std::string BlasDescription() {
  const char* core = OpenBlasCoreName();
  if (core == nullptr) return "not OpenBLAS";
  std::string out = std::string("OpenBLAS ") + core + " kernels";
  if (const char* better = BetterCoreType(core)) {
    out +=
        std::string(" (this CPU could run ") + better + ": set OPENBLAS_CORETYPE=" + better + ")";
  }
  return out;
}

}  // namespace rimlab
