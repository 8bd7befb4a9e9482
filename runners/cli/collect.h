#pragma once
/// `rimlab collect`: records whole episodes of a random or trained policy as a Minari dataset
/// (data/minari_dataset.h), for offline agents and for anyone's Minari tooling.

#include <cstdint>
#include <string>
#include <vector>

namespace rimlab {

struct CollectArgs {
  std::string source;  ///< "random", a run directory or a checkpoint
  std::string config;  ///< the env's config (required for random; a trained run has its own)
  std::vector<std::string> overrides;
  int64_t episodes = 0;
  double epsilon = 0.0;  ///< probability of a uniform random action instead of the policy's
  std::string split;     ///< the env's split to collect on ("" for the config's env)
  int64_t seed = -1;     ///< first episode's seed; -1: the config's seed
  bool greedy = false;   ///< the policy's most likely action instead of a sample
  std::string out;
  bool append = false;  ///< add to the dataset in --out instead of refusing it
  bool quiet = false;
};

/// Returns the exit status. Bad input throws (exit 2): unknown source, missing config, a
/// dataset already in --out without --append, or one of another env.
int CmdCollect(const CollectArgs& args);

}  // namespace rimlab
