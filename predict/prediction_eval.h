#pragma once
// How well a FramePredictor predicts, measured as the RIM paper measures it: binary
// cross-entropy summed over a frame's pixels (nats per frame), with teacher forcing, and in the
// 15 + 35 protocol: the model reads 15 true frames, then runs on its own predictions (pixel
// probabilities fed back as the next input) for 35 frames, scored against the true ones.

#include <cstdint>
#include <vector>

#include "predict/frame_predictor.h"
#include "predict/sequence_store.h"

namespace rimlab::predict {

/// Mean BCE per predicted frame over sequences [0, n) (n 0: all), each frame predicted from the
/// true frames before it.
double TeacherForcedBce(FramePredictor model, const SequenceStore& data, int64_t n = 0,
                        int64_t batch = 50);

struct RolloutCurve {
  int burn_in = 15, rollout = 35;
  int64_t sequences = 0;
  /// [sequences][rollout]: the BCE of rollout step k (the frame burn_in + k) of each sequence.
  std::vector<std::vector<double>> per_sequence;
  std::vector<double> mean, ci95;  ///< per rollout step over sequences (normal interval)
  double Average() const;          ///< mean over steps and sequences
  /// The 95% normal interval's half-width of Average(), over the sequences' own averages.
  double AverageCi95() const;
};

/// What a rollout feeds back: the predicted pixel probabilities (the paper's protocol), or
/// those thresholded at 0.5, binary frames like the ones the model was trained on.
enum class Feedback { kProbabilities, kBinary };

/// The 15 + 35 protocol on sequences [0, n) (n 0: all); needs burn_in + rollout frames.
RolloutCurve RolloutBce(FramePredictor model, const SequenceStore& data, int64_t n = 0,
                        int burn_in = 15, int rollout = 35, int64_t batch = 50,
                        Feedback feedback = Feedback::kProbabilities);

/// The fraction of lit pixels over sequences [0, n) (n 0: all), every frame.
double MeanDensity(const SequenceStore& data, int64_t n = 0);

/// The 15 + 35 protocol's scores for predicting every pixel at probability p, whatever came
/// before (p: the training data's MeanDensity): the level below which a model has learnt
/// something about where the balls are.
RolloutCurve ConstantRollout(const SequenceStore& data, double p, int64_t n = 0, int burn_in = 15,
                             int rollout = 35);

}  // namespace rimlab::predict
