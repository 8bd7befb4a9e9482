#pragma once
// `rimlab balls-data`: writes bouncing-balls sequences in Relational-NEM's HDF5 layout.

#include <cstdint>
#include <string>

namespace rimlab {

struct BallsDataArgs {
  std::string variant = "4";
  int64_t sequences = 1000;  ///< training sequences
  int64_t validation = -1;   ///< -1: a tenth of the training sequences (at least 1)
  int64_t test = -1;         ///< -1: a fifth of the training sequences (at least 1)
  int frames = 51;
  int size = 64;
  uint64_t seed = 0;
  int threads = 0;  ///< 0: every core
  std::string out;
  bool force = false;  ///< replace an existing --out
  bool quiet = false;
};

/// Returns the exit status. Bad arguments throw std::invalid_argument (exit 2).
int CmdBallsData(const BallsDataArgs& args);

}  // namespace rimlab
