#pragma once
/// Observation encoders that feed the recurrent cores. Sizes come from options (the env's specs),
/// never from constants: a gridworld view of any H x W, any mission vocabulary, any frame size
/// divisible by 16.
///
/// Grid and frame encoders can hand the core either one vector [B, D] or a set of per-position
/// features [B, M, D] so that RIM units can attend to different cells (RIM_SPEC.md: M > 1).

#include <torch/torch.h>

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "models/recurrent_core.h"

#include <string>
#include <vector>

namespace rimlab::models {

struct MissionEncoderOptions {
  explicit MissionEncoderOptions(int64_t vocab_size = 0) : vocab_size_(vocab_size) {}
  /// Token ids are 0..vocab_size-1; 0 is padding and must only trail the mission.
  TORCH_ARG(int64_t, vocab_size);
  TORCH_ARG(int64_t, embedding_size) = 32;
  /// "gru": a GRU over the tokens, its state after the last real token (rl-starter-files' choice);
  /// "bag": the mean embedding of the real tokens (order-free, cheaper).
  TORCH_ARG(std::string, kind) = "gru";
  /// GRU hidden size (the output width for "gru"; "bag" outputs embedding_size).
  TORCH_ARG(int64_t, hidden_size) = 64;
};

/// Mission tokens int [B, L] -> [B, output_size()].
///
/// Outside training and autograd (acting: collection, evaluation, the viewer) each distinct
/// mission is encoded once and remembered until a parameter changes (an optimiser step or a
/// load: their version counters or storage change), since an episode's mission is fixed and a
/// policy step would otherwise re-run the GRU on every call.
class MissionEncoderImpl : public torch::nn::Module {
 public:
  explicit MissionEncoderImpl(MissionEncoderOptions options);
  torch::Tensor forward(const torch::Tensor& tokens);
  int64_t output_size() const;

  MissionEncoderOptions options;
  torch::nn::Embedding embedding{nullptr};
  /// Our own GRU core rather than torch::nn::GRU, whose per-call overhead dominated a policy
  /// step on a batch of 16 (0.5 ms for 3 tokens).
  RecurrentCore gru{nullptr};

 private:
  torch::Tensor EncodeDistinct(const torch::Tensor& ids);  // int64 [B, L], rows need not differ
  /// The cached path; an undefined tensor when the parameters cannot be versioned.
  torch::Tensor EncodeCached(const torch::Tensor& ids, const torch::Tensor& keys);

  std::mutex cache_mutex_;
  std::vector<std::pair<const void*, int64_t>> cache_signature_;  // parameters' (data, version)
  std::unordered_map<int64_t, int64_t> cache_slot_;               // mission key -> cache row
  torch::Tensor cache_rows_;                                      // [distinct, output_size()]
};
TORCH_MODULE(MissionEncoder);

struct GridEncoderOptions {
  /// "embed": each cell's three indices embedded, then 3x3 convolutions that keep positions;
  /// "conv": rl-starter-files' image network (the raw indices as 3 float channels, 2x2
  /// convolutions conv_channels[0..2] with a 2x2 max-pool after the first, no projection), the
  /// small fast baseline. "conv" has no set output and ignores cell_embedding_size/output_size.
  TORCH_ARG(std::string, arch) = "embed";
  /// The egocentric view's height and width (MiniGrid: 7 x 7).
  TORCH_ARG(int64_t, image_height) = 7;
  TORCH_ARG(int64_t, image_width) = 7;
  /// Index ranges of the three channels: object 0..10, colour 0..5, state 0..2 (MiniGrid).
  TORCH_ARG(int64_t, num_objects) = 11;
  TORCH_ARG(int64_t, num_colors) = 6;
  TORCH_ARG(int64_t, num_states) = 3;
  /// Embedding width per channel; a cell is the concatenation of its three embeddings.
  TORCH_ARG(int64_t, cell_embedding_size) = 8;
  /// 3x3 convolutions (padding 1, so positions are kept), one entry per layer.
  TORCH_ARG(std::vector<int64_t>, conv_channels) = std::vector<int64_t>({32, 64});
  /// Width of the direction embedding (4 directions), appended to the output; 0 = ignore.
  TORCH_ARG(int64_t, direction_embedding_size) = 8;
  /// Mission encoder; vocab_size 0 = no mission input.
  TORCH_ARG(MissionEncoderOptions, mission) = MissionEncoderOptions(0);
  /// false: one vector [B, output_size] (flattened conv features through a linear layer);
  /// true: a set [B, H*W, element_size] of per-position conv features plus the position's
  /// normalised (row, col), with the direction and mission features appended to every element.
  TORCH_ARG(bool, set_output) = false;
  /// Width of the vector output (set_output false).
  TORCH_ARG(int64_t, output_size) = 256;
  /// arch "conv": run the image network as one autograd node (models/fused_conv.h) when it
  /// applies; false keeps torch's layers (the reference the fused path is tested against).
  TORCH_ARG(bool, fused) = true;
};

/// image uint8 [B, H, W, 3] (HWC), direction int [B] or [B, 1] in 0..3, mission int [B, L] (or
/// undefined without a mission) -> [B, output_size] or [B, H*W, element_size].
class GridEncoderImpl : public torch::nn::Module {
 public:
  explicit GridEncoderImpl(GridEncoderOptions options);
  torch::Tensor forward(const torch::Tensor& image, const torch::Tensor& direction,
                        const torch::Tensor& mission = {});
  /// Set size M (1 for vector output) and width of one element (the core's input_size).
  int64_t set_size() const;
  int64_t element_size() const;

  GridEncoderOptions options;
  torch::nn::Embedding cells{nullptr};  ///< undefined for arch "conv"
  torch::nn::Sequential convs{nullptr};
  torch::nn::Linear project{nullptr};
  torch::nn::Embedding direction{nullptr};
  MissionEncoder mission{nullptr};

 private:
  torch::Tensor positions_;     // [H*W, 2] normalised (row, col)
  int64_t image_features_ = 0;  // width of the image part of a vector output
};
TORCH_MODULE(GridEncoder);

struct FrameEncoderOptions {
  explicit FrameEncoderOptions(int64_t channels = 1) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);
  /// Square frames of image_size (divisible by 16): four stride-2 4x4 convolutions down to /16.
  TORCH_ARG(int64_t, image_size) = 64;
  TORCH_ARG(int64_t, conv_channels) = 32;
  TORCH_ARG(bool, set_output) = false;
  /// Vector output width; with set_output the elements are conv_channels + 2 wide.
  TORCH_ARG(int64_t, output_size) = 256;
};

/// Frames float [B, C, S, S] -> [B, output_size] or a set [B, (S/16)^2, conv_channels + 2].
class FrameEncoderImpl : public torch::nn::Module {
 public:
  explicit FrameEncoderImpl(FrameEncoderOptions options);
  torch::Tensor forward(const torch::Tensor& frames);
  int64_t set_size() const;
  int64_t element_size() const;

  FrameEncoderOptions options;
  torch::nn::Sequential convs{nullptr};
  torch::nn::Linear project{nullptr};

 private:
  torch::Tensor positions_;
};
TORCH_MODULE(FrameEncoder);

struct FrameDecoderOptions {
  FrameDecoderOptions(int64_t input_size, int64_t channels)
      : input_size_(input_size), channels_(channels) {}
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, image_size) = 64;
  TORCH_ARG(int64_t, conv_channels) = 32;
};

/// The encoder's mirror for the balls prediction task: [B, input_size] -> logits [B, C, S, S]
/// (apply a sigmoid for pixel probabilities; train with binary cross-entropy on logits).
class FrameDecoderImpl : public torch::nn::Module {
 public:
  explicit FrameDecoderImpl(FrameDecoderOptions options);
  torch::Tensor forward(const torch::Tensor& features);
  /// Starts every pixel at `probability` (the data's mean): the output bias is its log-odds, so
  /// training begins at the mean frame instead of spending its first updates getting there.
  void SetOutputBias(double probability);

  FrameDecoderOptions options;
  torch::nn::Linear project{nullptr};
  torch::nn::Sequential deconvs{nullptr};
};
TORCH_MODULE(FrameDecoder);

}  // namespace rimlab::models
