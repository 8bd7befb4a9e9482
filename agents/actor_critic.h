#pragma once
/// The recurrent actor-critic that PPO and A2C train: encoder -> recurrent core (lstm, gru or rim,
/// named in the config) -> policy and value heads. Every size comes from the env's spec, and the
/// heads read only the core's output, so the core is the policy's sole path from observation to
/// action (a test checks it: a public RIM-PPO release fed its heads the encoder features).

#include <torch/torch.h>

#include <string>
#include <vector>

#include "common/params.h"
#include "envs/core/spec.h"
#include "models/cores.h"
#include "models/encoders.h"

namespace rimlab::agents {

/// One tensor per ObservationSpec field, in spec order, in the field's dtype (uint8 stays uint8):
/// [B, ...field shape] for Step, [T, B, ...field shape] for Unroll.
using ObsTensors = std::vector<torch::Tensor>;

struct ActorCriticOptions {
  /// "auto": "conv" for gridworld observations (image, direction, mission), "frame" for a uint8
  /// [S, S, 3] colour `frame` field (S a multiple of 16: the balls tasks), "objects" for a float
  /// [M, F] `objects` field (balls_touch's features), "mlp" otherwise; "objects": every row,
  /// with the other fields flattened beside it, through one shared two-layer network of width
  /// mlp_hidden, handing the core a set of M elements (an LSTM or GRU reads them concatenated, a
  /// RIM attends over them);
  /// "conv"/"embed": models::GridEncoder's arch (see encoders.h); "frame": models::FrameEncoder
  /// on the frame scaled to [0, 1] (conv_channels' first entry wide, embed_size out); "mlp":
  /// every field flattened to floats, concatenated, and one hidden layer.
  std::string encoder = "auto";
  /// Grid encoders: rl-starter-files' sizes by default (convs 16-32-64, mission GRU 128 over
  /// 32-wide word embeddings, no direction input: the view is egocentric).
  models::GridEncoderOptions grid = DefaultGridOptions();
  /// Mission encoder kind: "gru", "bag" or "none" (ignore the mission field).
  std::string mission = "gru";
  /// Where the mission features go: "heads" (concatenated to the core's output, as
  /// rl-starter-files does: the core remembers what it saw, the heads know what is asked) or
  /// "core" (part of the core's input).
  std::string mission_to = "heads";
  /// Also modulate the encoder's features by the mission before the core (FiLM, as BabyAI
  /// conditions its image network on the instruction): features * (1 + gamma(m)) + beta(m), with
  /// gamma and beta linear in the mission features and zero at initialisation. It gives the
  /// policy a product of "what is seen" and "what is asked", which concatenation leaves the heads
  /// to learn. Needs a mission and mission_to "heads".
  bool film = false;
  /// Feed the core a set of per-cell features (encoder "embed" only) so RIM units can attend to
  /// different cells; otherwise one vector.
  bool set_input = false;
  int64_t mlp_hidden = 64;
  /// The objects encoder's output: "none" the set of rows; "max" their elementwise maximum, one
  /// vector whatever the number of rows (PointNet's pooling).
  std::string objects_pool = "none";
  models::CoreOptions core = DefaultCore();
  /// Width of the hidden tanh layer of each head (rl-starter-files: 64).
  int64_t head_hidden = 64;
  /// The critic outputs Q(s, a) for every action (CRR) instead of V(s); `value` is then the
  /// policy's expectation of Q. Set by the trainer for `algo: crr`, not a config key.
  bool q_head = false;
  /// With q_head: act epsilon-greedily on Q (DQN) instead of from the policy head, which is then
  /// not run: logits are log((1 - eps) 1[a = argmax Q] + eps / A), eps = q_policy_epsilon, and
  /// value is max Q. Evaluation, recording and the viewer then play the DQN's own policy; greedy
  /// evaluation takes argmax Q. Set by the trainer for `algo: dqn`, not a config key.
  bool q_policy = false;
  double q_policy_epsilon = 0.01;

  static models::GridEncoderOptions DefaultGridOptions();
  static models::CoreOptions DefaultCore();
};

/// Reads the `model` section (encoder, mission, set_input, conv_channels, cell_embedding_size,
/// embed_size, direction_embedding_size, mission_embedding_size, mission_hidden, mlp_hidden,
/// objects_pool,
/// head_hidden, mission_to, film) and the `core` section (models::ReadCoreOptions); unknown keys
/// are errors.
ActorCriticOptions ActorCriticOptionsFromParams(const Params& model, const Params& core);

struct PolicyOutput {
  torch::Tensor logits;  ///< [B, A] (Step) or [T, B, A] (Unroll)
  torch::Tensor value;   ///< [B] or [T, B]
  torch::Tensor q;       ///< with q_head: [B, A] or [T, B, A]; undefined otherwise
  models::State state;   ///< after the (last) step
  models::CoreInfo info;
};

class ActorCriticImpl : public torch::nn::Module {
 public:
  /// Throws std::invalid_argument for a spec it cannot handle (continuous actions, a grid
  /// encoder on non-grid observations) naming what was expected.
  ActorCriticImpl(const EnvSpec& spec, ActorCriticOptions options);

  models::State InitialState(int64_t batch) const { return core->InitialState(batch); }
  /// One step for a batch. `reset` [B] (float or bool): 1 where an episode starts at this
  /// observation, so that sample's state is zeroed first.
  PolicyOutput Step(const ObsTensors& obs, const models::State& state, const torch::Tensor& reset);
  /// T steps from `state`; resets [T, B]. Equal to T calls of Step, but encodes all T * B
  /// observations in one batch.
  PolicyOutput Unroll(const ObsTensors& obs, const models::State& state,
                      const torch::Tensor& resets);
  /// Observations [N, ...] -> core inputs [N, D] or [N, M, D].
  /// With film, `mission_features` are MissionFeatures(obs) (computed when not given).
  torch::Tensor Encode(const ObsTensors& obs, torch::Tensor mission_features = {});
  /// The mission encoder's features [N, F] for the heads (and FiLM); undefined without one.
  torch::Tensor MissionFeatures(const ObsTensors& obs);

  int64_t num_actions() const { return num_actions_; }
  const ActorCriticOptions& options() const { return options_; }
  /// "rim(4x2, 16) conv encoder, 12345 parameters", for logs.
  std::string Describe() const;
  /// True when a training-mode forward pass draws random numbers (dropout): such passes on two
  /// threads at once would draw from torch's one generator in a timing-dependent order.
  bool TrainingIsRandom() const;
  /// True when all of that randomness is dropout masks (models/dropout_noise.h), whose seeds a
  /// DropoutSeedScope can give each thread in a fixed order; false for the RIM without input
  /// attention, which draws its active units from torch's generator.
  bool TrainingRandomIsDropoutOnly() const;
  /// A model of the same architecture whose parameters share this one's storage (so it sees every
  /// optimiser step) but are separate autograd leaves with their own gradients; for splitting a
  /// minibatch over threads. Building it leaves torch's random generator untouched.
  std::shared_ptr<ActorCriticImpl> Replica() const;
  /// A model of the same architecture holding its own copy of every parameter and buffer (a
  /// target network). Building it leaves torch's random generator untouched.
  std::shared_ptr<ActorCriticImpl> Copy() const;

  models::GridEncoder grid{nullptr};
  models::FrameEncoder frame{nullptr};      ///< only with encoder "frame"
  models::MissionEncoder mission{nullptr};  ///< only with mission_to "heads"
  torch::nn::Linear film{nullptr};          ///< only with film: mission -> [gamma, beta]
  torch::nn::Sequential mlp{nullptr};
  torch::nn::Sequential objects{nullptr};  ///< only with encoder "objects": shared per row
  models::RecurrentCore core{nullptr};
  torch::nn::Sequential actor{nullptr};
  torch::nn::Sequential critic{nullptr};

 private:
  /// `mission_features` (may be undefined) are concatenated to the core's output.
  PolicyOutput Heads(const torch::Tensor& core_out, const torch::Tensor& mission_features,
                     models::State state, models::CoreInfo info);

  EnvSpec spec_;
  ActorCriticOptions options_;
  std::string encoder_;  // resolved kind
  int64_t num_actions_ = 0;
  int image_field_ = -1, direction_field_ = -1, mission_field_ = -1, frame_field_ = -1;
  int objects_field_ = -1;
};
TORCH_MODULE(ActorCritic);

/// Copies every parameter of `from` into `to` in place (a target network's refresh); the two
/// must share options and spec.
void CopyParameters(const ActorCritic& from, ActorCritic& to);

/// Points every parameter of `replica` at the storage of the same parameter of `source` (same
/// architecture required). Loading a checkpoint into `source` replaces its storage, so callers
/// re-share before use.
void ShareParameters(const ActorCriticImpl& source, ActorCriticImpl& replica);

/// Log-probabilities of `actions` (int64, any shape S) under `logits` [S, A], and entropies [S].
torch::Tensor LogProbs(const torch::Tensor& logits, const torch::Tensor& actions);
torch::Tensor Entropy(const torch::Tensor& logits);

}  // namespace rimlab::agents
