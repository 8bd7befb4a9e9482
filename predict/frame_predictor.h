#pragma once
// The next-frame model of the RIM paper's bouncing-balls experiment: a frame encoder, a
// recurrent core (RIM, LSTM or GRU, models/cores.h) and a frame decoder (models/encoders.h).
// From frame t and the core's state it gives the logits of frame t + 1, pixel by pixel; the loss
// is per-pixel binary cross-entropy.

#include <torch/torch.h>

#include <cstdint>

#include "common/params.h"
#include "models/cores.h"
#include "models/encoders.h"

namespace rimlab::predict {

struct FramePredictorOptions {
  int64_t image_size = 64;     ///< square frames, a multiple of 16
  int64_t conv_channels = 32;  ///< encoder and decoder channels
  int64_t encoder_size = 256;  ///< the encoder's vector width (without set_input)
  /// true: the core reads the encoder's (S/16)^2 positions as a set (a RIM's units then attend to
  /// parts of the frame); false: one vector. LSTM and GRU see the set flattened.
  bool set_input = false;
  models::CoreOptions core;
};

/// Reads the `model` section's keys (image_size, conv_channels, encoder_size, set_input) and the
/// `core` section; unknown keys are errors naming the file and line.
FramePredictorOptions FramePredictorOptionsFrom(const Params& model, const Params& core);

class FramePredictorImpl : public torch::nn::Module {
 public:
  explicit FramePredictorImpl(FramePredictorOptions options);

  /// frames float [T, B, S, S] in [0, 1] -> logits [T, B, S, S] of frames 1..T (the frame after
  /// each input); `state` is the core's state before the first frame, updated to after the last.
  /// `info` (optional) receives the core's per-step record (a RIM's active units).
  torch::Tensor Forward(const torch::Tensor& frames, models::State* state,
                        models::CoreInfo* info = nullptr);
  models::State InitialState(int64_t batch) const { return core->InitialState(batch); }

  int64_t NumParameters() const;
  int64_t CoreParameters() const { return core->NumParameters(); }

  FramePredictorOptions options;
  models::FrameEncoder encoder{nullptr};
  models::RecurrentCore core{nullptr};
  models::FrameDecoder decoder{nullptr};
};
TORCH_MODULE(FramePredictor);

}  // namespace rimlab::predict
