#include "agents/actor_critic.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace rimlab::agents {

namespace {

void Require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("actor-critic: " + message);
}

/// CleanRL's layer_init: orthogonal weights with a chosen gain, zero bias. The small gain on the
/// policy output starts training from a near-uniform policy.
torch::nn::Linear InitLinear(int64_t in, int64_t out, double gain) {
  torch::nn::Linear layer(in, out);
  torch::NoGradGuard no_grad;
  torch::nn::init::orthogonal_(layer->weight, gain);
  torch::nn::init::zeros_(layer->bias);
  return layer;
}

torch::nn::Sequential Head(int64_t in, int64_t hidden, int64_t out, double out_gain) {
  torch::nn::Sequential head;
  head->push_back(InitLinear(in, hidden, std::sqrt(2.0)));
  head->push_back(torch::nn::Tanh());
  head->push_back(InitLinear(hidden, out, out_gain));
  return head;
}

/// Merges the leading [T, B] of every field into one batch dim of T * B.
ObsTensors FlattenTime(const ObsTensors& obs) {
  ObsTensors flat;
  flat.reserve(obs.size());
  for (const auto& o : obs) flat.push_back(o.flatten(0, 1));
  return flat;
}

}  // namespace

models::GridEncoderOptions ActorCriticOptions::DefaultGridOptions() {
  models::GridEncoderOptions g;
  g.arch("conv").conv_channels({16, 32, 64}).direction_embedding_size(0);
  g.mission(models::MissionEncoderOptions(0).embedding_size(32).hidden_size(128));
  return g;
}

models::CoreOptions ActorCriticOptions::DefaultCore() {
  models::CoreOptions c;
  c.type = "lstm";
  c.hidden_size = 64;
  return c;
}

ActorCriticOptions ActorCriticOptionsFromParams(const Params& model, const Params& core) {
  ActorCriticOptions o;
  ParamReader r(model, "model");
  o.encoder = r.Choice("encoder", o.encoder, {"auto", "conv", "embed", "frame", "objects", "mlp"});
  o.mission = r.Choice("mission", o.mission, {"gru", "bag", "none"});
  o.mission_to = r.Choice("mission_to", o.mission_to, {"heads", "core"});
  o.film = r.Bool("film", o.film);
  if (o.film && o.mission == "none")
    r.Fail("film", "film needs a mission encoder (mission: gru or bag)");
  if (o.film && o.mission_to != "heads") r.Fail("film", "film needs mission_to: heads");
  o.set_input = r.Bool("set_input", o.set_input);
  if (o.set_input && o.encoder != "embed") r.Fail("set_input", "set_input needs encoder: embed");
  auto& g = o.grid;
  if (o.encoder == "embed") {
    // The embed architecture's own defaults, unless the config says otherwise.
    g.arch("embed").conv_channels({32, 64}).direction_embedding_size(8);
  }
  if (r.Has("conv_channels")) {
    std::vector<int64_t> channels;
    for (const auto& s : r.StringList("conv_channels", {})) {
      char* end = nullptr;
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || v < 1 || v > 4096)
        r.Fail("conv_channels", "expected a list of integers in [1, 4096], got '" + s + "'");
      channels.push_back(v);
    }
    if (channels.empty()) r.Fail("conv_channels", "expected at least one layer");
    g.conv_channels(channels);
  }
  g.cell_embedding_size(r.Int("cell_embedding_size", g.cell_embedding_size(), 1, 1024));
  g.output_size(r.Int("embed_size", g.output_size(), 1, 1 << 16));
  g.direction_embedding_size(
      r.Int("direction_embedding_size", g.direction_embedding_size(), 0, 1024));
  auto m = g.mission();
  m.embedding_size(r.Int("mission_embedding_size", m.embedding_size(), 1, 1024));
  m.hidden_size(r.Int("mission_hidden", m.hidden_size(), 1, 1 << 14));
  g.mission(m);
  g.set_output(o.set_input);
  o.mlp_hidden = r.Int("mlp_hidden", o.mlp_hidden, 1, 1 << 16);
  o.objects_pool = r.Choice("objects_pool", o.objects_pool, {"none", "max"});
  o.head_hidden = r.Int("head_hidden", o.head_hidden, 1, 1 << 16);
  r.Finish();
  ParamReader c(core, "core");
  o.core = models::ReadCoreOptions(c);
  if (o.core.type != "rim" && !core.Has("hidden_size")) o.core.hidden_size = 64;
  // PPO's ratio compares the policy that acted (eval mode) with the one being updated (train
  // mode), so dropout would bias it; RIM's paper defaults (0.1) apply only when asked for.
  if (!core.Has("input_dropout")) o.core.rim.input_dropout(0.0);
  if (!core.Has("comm_dropout")) o.core.rim.comm_dropout(0.0);
  c.Finish();
  return o;
}

ActorCriticImpl::ActorCriticImpl(const EnvSpec& spec, ActorCriticOptions options)
    : spec_(spec), options_(std::move(options)) {
  Require(spec.action.discrete(), spec.name + " has continuous actions; only discrete supported");
  num_actions_ = spec.action.num_actions;
  const auto& fields = spec.observation.fields;
  image_field_ = spec.observation.IndexOf("image");
  direction_field_ = spec.observation.IndexOf("direction");
  mission_field_ = spec.observation.IndexOf("mission");
  const bool grid_obs = image_field_ >= 0 && fields[image_field_].shape.size() == 3 &&
                        fields[image_field_].shape[2] == 3 &&
                        fields[image_field_].dtype == DType::kUInt8;
  frame_field_ = spec.observation.IndexOf("frame");
  const bool frame_obs = frame_field_ >= 0 && fields[frame_field_].shape.size() == 3 &&
                         fields[frame_field_].shape[0] == fields[frame_field_].shape[1] &&
                         fields[frame_field_].shape[0] % 16 == 0 &&
                         fields[frame_field_].shape[2] == 3 &&
                         fields[frame_field_].dtype == DType::kUInt8;
  objects_field_ = spec.observation.IndexOf("objects");
  const bool objects_obs = objects_field_ >= 0 && fields[objects_field_].shape.size() == 2 &&
                           fields[objects_field_].dtype == DType::kFloat32;
  encoder_ = options_.encoder;
  if (encoder_ == "auto") {
    encoder_ = grid_obs ? "conv" : frame_obs ? "frame" : objects_obs ? "objects" : "mlp";
  }

  int64_t core_input = 0;
  int64_t set_size = 1;
  if (encoder_ == "conv" || encoder_ == "embed") {
    Require(grid_obs, "encoder '" + encoder_ + "' needs a uint8 [H, W, 3] field 'image'; " +
                          spec.name + " has none (use encoder: mlp)");
    auto g = options_.grid;
    g.arch(encoder_);
    g.image_height(fields[image_field_].shape[0]).image_width(fields[image_field_].shape[1]);
    if (direction_field_ < 0) g.direction_embedding_size(0);
    auto m = g.mission();
    if (mission_field_ >= 0 && options_.mission != "none") {
      m.vocab_size(static_cast<int64_t>(fields[mission_field_].maximum) + 1).kind(options_.mission);
    } else {
      m.vocab_size(0);
      mission_field_ = -1;
    }
    Require(!options_.film || mission_field_ >= 0,
            "film needs a 'mission' observation field and a mission encoder; " +
                (options_.mission == "none" ? std::string("the model sets mission: none")
                                            : spec.name + " has no mission field"));
    Require(!options_.film || options_.mission_to == "heads", "film needs mission_to: heads");
    if (mission_field_ >= 0 && options_.mission_to == "heads") {
      mission = register_module("mission", models::MissionEncoder(m));
      m.vocab_size(0);  // the grid encoder then leaves the mission out of the core's input
    }
    g.mission(m);
    if (g.direction_embedding_size() == 0) direction_field_ = -1;
    grid = register_module("grid", models::GridEncoder(g));
    core_input = grid->element_size();
    set_size = grid->set_size();
  } else if (encoder_ == "frame") {
    Require(frame_obs,
            "encoder 'frame' needs a uint8 [S, S, 3] field 'frame' with S a multiple "
            "of 16; " +
                spec.name + " has none");
    Require(!options_.film, "film needs a grid encoder (conv or embed), not frame");
    frame = register_module(
        "frame", models::FrameEncoder(models::FrameEncoderOptions(3)
                                          .image_size(fields[frame_field_].shape[0])
                                          .conv_channels(options_.grid.conv_channels().front())
                                          .output_size(options_.grid.output_size())));
    core_input = frame->element_size();
    mission_field_ = -1;
  } else if (encoder_ == "objects") {
    Require(objects_obs,
            "encoder 'objects' needs a float32 [M, F] field 'objects'; " + spec.name + " has none");
    Require(!options_.film, "film needs a grid encoder (conv or embed), not objects");
    // Each row sees the other fields beside it (balls_touch: the target's colour), so that one
    // shared network can compare a ball with the target in whichever row the ball sits.
    int64_t width = fields[objects_field_].shape[1];
    for (size_t i = 0; i < fields.size(); ++i) {
      if (static_cast<int>(i) != objects_field_) width += fields[i].NumElements();
    }
    const int64_t h = options_.mlp_hidden;
    objects = register_module(
        "objects", torch::nn::Sequential(InitLinear(width, h, std::sqrt(2.0)), torch::nn::ReLU(),
                                         InitLinear(h, h, std::sqrt(2.0)), torch::nn::ReLU()));
    core_input = h;
    set_size = options_.objects_pool == "max" ? 1 : fields[objects_field_].shape[0];
    mission_field_ = -1;
  } else {
    Require(encoder_ == "mlp", "unknown encoder '" + encoder_ + "'");
    Require(!options_.film, "film needs a grid encoder (conv or embed), not mlp");
    int64_t width = 0;
    for (const auto& f : fields) width += f.NumElements();
    mlp = register_module(
        "mlp", torch::nn::Sequential(InitLinear(width, options_.mlp_hidden, std::sqrt(2.0)),
                                     torch::nn::Tanh()));
    core_input = options_.mlp_hidden;
  }
  if (options_.film) {
    film = register_module("film", torch::nn::Linear(mission->output_size(), 2 * core_input));
    // Identity at the start: the policy begins as the unconditioned one and learns the gating.
    torch::NoGradGuard no_grad;
    film->weight.zero_();
    film->bias.zero_();
  }
  core = register_module("core", models::MakeCore(options_.core, core_input, set_size));
  const int64_t head_input =
      core->output_size() + (mission.is_empty() ? 0 : mission->output_size());
  actor = register_module("actor", Head(head_input, options_.head_hidden, num_actions_, 0.01));
  critic = register_module(
      "critic", Head(head_input, options_.head_hidden, options_.q_head ? num_actions_ : 1, 1.0));
}

torch::Tensor ActorCriticImpl::Encode(const ObsTensors& obs, torch::Tensor mission_features) {
  if (!frame.is_empty()) {
    return frame->forward(obs.at(frame_field_).permute({0, 3, 1, 2}).to(torch::kFloat32) / 255.0);
  }
  if (!grid.is_empty()) {
    const torch::Tensor none;
    auto x =
        grid->forward(obs.at(image_field_), direction_field_ >= 0 ? obs.at(direction_field_) : none,
                      mission_field_ >= 0 && mission.is_empty() ? obs.at(mission_field_) : none);
    if (film.is_empty()) return x;
    if (!mission_features.defined()) mission_features = MissionFeatures(obs);
    auto gb = film->forward(mission_features).chunk(2, -1);  // [N, D] each
    if (x.dim() == 3) {  // a set [N, M, D]: every element gets its sample's modulation
      gb[0] = gb[0].unsqueeze(1);
      gb[1] = gb[1].unsqueeze(1);
    }
    return torch::addcmul(x + gb[1], x, gb[0]);
  }
  if (!objects.is_empty()) {
    const auto& rows = obs.at(objects_field_);  // [N, M, F]
    std::vector<torch::Tensor> parts{rows.to(torch::kFloat32)};
    for (size_t i = 0; i < obs.size(); ++i) {
      if (static_cast<int>(i) == objects_field_) continue;
      parts.push_back(
          obs[i].flatten(1).to(torch::kFloat32).unsqueeze(1).expand({-1, rows.size(1), -1}));
    }
    auto x = objects->forward(torch::cat(parts, 2));  // a set [N, M, mlp_hidden]
    return options_.objects_pool == "max" ? std::get<0>(x.max(1)) : x;
  }
  std::vector<torch::Tensor> parts;
  parts.reserve(obs.size());
  for (const auto& o : obs) parts.push_back(o.flatten(1).to(torch::kFloat32));
  return mlp->forward(torch::cat(parts, 1));
}

torch::Tensor ActorCriticImpl::MissionFeatures(const ObsTensors& obs) {
  if (mission.is_empty()) return {};
  return mission->forward(obs.at(mission_field_));
}

PolicyOutput ActorCriticImpl::Heads(const torch::Tensor& core_out,
                                    const torch::Tensor& mission_features, models::State state,
                                    models::CoreInfo info) {
  const auto x =
      mission_features.defined() ? torch::cat({core_out, mission_features}, -1) : core_out;
  PolicyOutput out;
  if (options_.q_head && options_.q_policy) {
    out.q = critic->forward(x);
    const double eps = options_.q_policy_epsilon;
    const auto greedy = torch::one_hot(out.q.argmax(-1), num_actions_).to(out.q.scalar_type());
    out.logits = torch::log(greedy * (1.0 - eps) + eps / static_cast<double>(num_actions_));
    out.value = std::get<0>(out.q.max(-1));
    out.state = std::move(state);
    out.info = std::move(info);
    return out;
  }
  out.logits = actor->forward(x);
  if (options_.q_head) {
    out.q = critic->forward(x);
    out.value = (torch::softmax(out.logits, -1) * out.q).sum(-1);
  } else {
    out.value = critic->forward(x).squeeze(-1);
  }
  out.state = std::move(state);
  out.info = std::move(info);
  return out;
}

PolicyOutput ActorCriticImpl::Step(const ObsTensors& obs, const models::State& state,
                                   const torch::Tensor& reset) {
  auto mission_features = MissionFeatures(obs);
  auto step = core->Step(Encode(obs, mission_features), state, reset);
  return Heads(step.output, mission_features, std::move(step.state), std::move(step.info));
}

PolicyOutput ActorCriticImpl::Unroll(const ObsTensors& obs, const models::State& state,
                                     const torch::Tensor& resets) {
  const int64_t t = obs.at(0).size(0);
  const int64_t b = obs.at(0).size(1);
  const auto flat = FlattenTime(obs);
  auto mission_features = MissionFeatures(flat);
  auto x = Encode(flat, mission_features);
  std::vector<int64_t> shape = {t, b};
  for (int64_t d = 1; d < x.dim(); ++d) shape.push_back(x.size(d));
  auto unroll = core->Unroll(x.view(shape), state, resets);
  if (mission_features.defined()) mission_features = mission_features.view({t, b, -1});
  return Heads(unroll.outputs, mission_features, std::move(unroll.state), std::move(unroll.info));
}

std::string ActorCriticImpl::Describe() const {
  std::ostringstream s;
  const auto& c = options_.core;
  if (c.type == "rim") {
    s << "rim(" << c.rim.num_units() << " units, top " << c.rim.top_k() << ", size "
      << c.rim.unit_size() << ")";
  } else {
    s << c.type << "(" << c.hidden_size << ")";
  }
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  s << ", " << encoder_ << " encoder" << (mission.is_empty() ? "" : ", mission to the heads")
    << (film.is_empty() ? "" : ", FiLM") << ", " << n << " parameters";
  return s.str();
}

bool ActorCriticImpl::TrainingIsRandom() const {
  const auto& c = options_.core;
  return c.type == "rim" &&
         (c.rim.input_dropout() > 0.0 || (c.rim.communication() && c.rim.comm_dropout() > 0.0) ||
          !c.rim.input_attention());  // without input attention the active units are drawn
}

bool ActorCriticImpl::TrainingRandomIsDropoutOnly() const {
  return TrainingIsRandom() && options_.core.rim.input_attention();
}

namespace {

/// A fresh model of `spec` and `options`, with torch's generator put back after construction
/// (its initial weights are overwritten anyway, and runs with and without such models must stay
/// on one random stream).
std::shared_ptr<ActorCriticImpl> Twin(const EnvSpec& spec, const ActorCriticOptions& options) {
  auto gen = at::detail::getDefaultCPUGenerator();
  torch::Tensor rng;
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng = gen.get_state();
  }
  auto twin = std::make_shared<ActorCriticImpl>(spec, options);
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  }
  return twin;
}

}  // namespace

std::shared_ptr<ActorCriticImpl> ActorCriticImpl::Replica() const {
  auto replica = Twin(spec_, options_);
  ShareParameters(*this, *replica);
  replica->train(is_training());
  return replica;
}

std::shared_ptr<ActorCriticImpl> ActorCriticImpl::Copy() const {
  auto copy = Twin(spec_, options_);
  torch::NoGradGuard no_grad;
  const auto from = named_parameters(true);
  auto to = copy->named_parameters(true);
  for (const auto& item : from) to[item.key()].copy_(item.value());
  const auto from_buffers = named_buffers(true);
  auto to_buffers = copy->named_buffers(true);
  for (const auto& item : from_buffers) to_buffers[item.key()].copy_(item.value());
  copy->train(is_training());
  return copy;
}

void ShareParameters(const ActorCriticImpl& source, ActorCriticImpl& replica) {
  const auto from = source.named_parameters(true);
  auto to = replica.named_parameters(true);
  Require(from.size() == to.size(), "replica: parameter lists differ");
  for (const auto& item : from) {
    auto* target = to.find(item.key());
    Require(target != nullptr && target->sizes() == item.value().sizes(),
            "replica: parameter '" + item.key() + "' differs");
    if (!target->is_alias_of(item.value())) target->set_data(item.value());
  }
}

torch::Tensor LogProbs(const torch::Tensor& logits, const torch::Tensor& actions) {
  return torch::log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1);
}

torch::Tensor Entropy(const torch::Tensor& logits) {
  auto logp = torch::log_softmax(logits, -1);
  return -(logp.exp() * logp).sum(-1);
}

void CopyParameters(const ActorCritic& from, ActorCritic& to) {
  torch::NoGradGuard no_grad;
  auto target = to->named_parameters(true);
  for (const auto& item : from->named_parameters(true)) target[item.key()].copy_(item.value());
}

}  // namespace rimlab::agents
