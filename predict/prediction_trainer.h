#pragma once
// Training a FramePredictor on bouncing-balls sequences: next-frame prediction with teacher
// forcing, per-pixel binary cross-entropy, Adam (the paper's lr 7e-4), gradient-norm clipping.
// Batches are drawn from the trainer's own generator, so a checkpoint (weights, Adam's moments,
// the generator, the update count) resumes the run exactly.

#include <cstdint>
#include <string>
#include <vector>

#include "common/params.h"
#include "common/rng.h"
#include "predict/frame_predictor.h"
#include "predict/sequence_store.h"

namespace rimlab::predict {

struct PredictionTrainOptions {
  int64_t batch_size = 16;  ///< sequences per update
  int64_t updates = 2000;   ///< Adam steps in all
  double lr = 7e-4;         ///< the RIM paper's
  double clip = 1.0;        ///< global gradient-norm clip (0: none)
  int64_t seed = 1;
};

/// Reads the `train` section's keys (batch_size, updates, lr, clip); `seed` comes from the root.
PredictionTrainOptions PredictionTrainOptionsFrom(const Params& train, int64_t seed);

struct UpdateStats {
  int64_t update = 0;  ///< updates done, this one included
  double bce = 0;      ///< the batch's mean BCE per predicted frame (nats)
  double grad_norm = 0;
};

class PredictionTrainer {
 public:
  PredictionTrainer(FramePredictor model, const SequenceStore* data,
                    PredictionTrainOptions options);

  UpdateStats Update();
  bool done() const { return update_ >= options_.updates; }
  int64_t update() const { return update_; }
  int64_t sequences_seen() const { return update_ * options_.batch_size; }
  FramePredictor model() const { return model_; }
  const PredictionTrainOptions& options() const { return options_; }

  /// Writes `path` (through a temporary file and a rename); `seconds` is the run's training time
  /// so far, stored for the resumed run's clock, and `extra` whatever else the caller's logs
  /// need to continue exactly (the running sums of a half-done logging window).
  void Save(const std::string& path, double seconds, const std::vector<double>& extra = {}) const;
  /// Restores everything Save wrote; returns the stored seconds and fills `extra` (optional).
  /// Throws std::runtime_error naming the file when it cannot be read or does not fit the model.
  double Load(const std::string& path, std::vector<double>* extra = nullptr);

 private:
  FramePredictor model_;
  const SequenceStore* data_;
  PredictionTrainOptions options_;
  std::unique_ptr<torch::optim::Adam> adam_;
  Rng rng_;
  int64_t update_ = 0;
};

/// Loads only the model weights of a checkpoint Save wrote (evaluation). Throws
/// std::runtime_error naming the file when they do not fit the model.
void LoadPredictorWeights(FramePredictor model, const std::string& path);

}  // namespace rimlab::predict
