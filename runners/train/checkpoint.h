#pragma once
/// Checkpoint files of a run: runs/NAME/checkpoints/ckpt_<frames, 12 digits>.pt, each a torch
/// archive written to a temporary file and renamed, so a crash or Ctrl-C never leaves half a
/// checkpoint behind and the newest complete one is always the one to resume from.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runners/train/rl_trainer.h"

namespace rimlab {

/// Writes the trainer's state as `dir`/ckpt_<frames>.pt (dir is created) and returns its path.
std::string SaveCheckpoint(const OnPolicyTrainer& trainer, const std::string& dir);

/// Restores the trainer from `path`; throws std::runtime_error naming the file when it cannot be
/// read or does not fit the trainer's model and pool.
void LoadCheckpoint(OnPolicyTrainer* trainer, const std::string& path);

/// The same for any trainer: `write` fills the archive, `read` restores from it.
std::string SaveCheckpointWith(int64_t frames, const std::string& dir,
                               const std::function<void(torch::serialize::OutputArchive*)>& write);
void LoadCheckpointWith(const std::string& path,
                        const std::function<void(torch::serialize::InputArchive*)>& read);

/// Loads only the model weights (evaluation, the viewer).
void LoadModelWeights(agents::ActorCritic model, const std::string& path);

/// The checkpoints in `dir`, oldest first (by frames); temporary files are ignored.
std::vector<std::string> ListCheckpoints(const std::string& dir);

/// Deletes all but the newest `keep` checkpoints (keep <= 0: none deleted).
void PruneCheckpoints(const std::string& dir, int keep);

}  // namespace rimlab
