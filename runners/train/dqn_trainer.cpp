#include "runners/train/dqn_trainer.h"

#include "agents/rollout.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace rimlab {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

torch::Tensor Bytes(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {static_cast<int64_t>(s.size())},
                          torch::kUInt8)
      .clone();
}

std::string String(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()),
                     static_cast<size_t>(c.numel()));
}

torch::Tensor RngTensor(const Rng& rng) {
  const auto s = rng.State();
  auto t = torch::empty({4}, torch::kInt64);
  for (int i = 0; i < 4; ++i) t[i] = static_cast<int64_t>(s[static_cast<size_t>(i)]);
  return t;
}

void SetRng(Rng* rng, const torch::Tensor& t) {
  if (t.numel() != 4) throw std::runtime_error("checkpoint: a generator state is not 4 words");
  std::array<uint64_t, 4> s{};
  for (int i = 0; i < 4; ++i)
    s[static_cast<size_t>(i)] = static_cast<uint64_t>(t[i].item<int64_t>());
  rng->SetState(s);
}

agents::ReplayOptions ReplayOptionsFor(const agents::R2d2Config& c, const ActorPool& pool,
                                       const models::State& state) {
  agents::ReplayOptions o;
  o.num_envs = pool.num_envs();
  o.capacity = c.replay_capacity;
  o.sequence_length = static_cast<int>(c.sequence_length);
  o.period = static_cast<int>(c.period);
  o.priority_exponent = c.priority_exponent;
  o.importance_exponent = c.importance_exponent;
  for (const auto& f : pool.spec().observation.fields) o.field_bytes.push_back(f.NumBytes());
  for (const auto& t : state.tensors) o.state_floats += static_cast<size_t>(t[0].numel());
  return o;
}

}  // namespace

DqnTrainer::DqnTrainer(ActorPool* pool, agents::ActorCritic model, agents::R2d2Config config,
                       int64_t total_frames, uint64_t seed)
    : pool_(pool),
      model_(model),
      learner_(model, config),
      config_(config),
      actor_rng_(seed * 7919 + 1),
      replay_rng_(seed * 7919 + 2),
      actions_(static_cast<size_t>(pool->num_envs())) {
  if (!pool_->sync()) {
    throw std::invalid_argument(
        "pool.batch_size: DQN training needs the sync pool (batch_size 0 or num_envs)");
  }
  const int n = pool_->num_envs();
  steps_per_iteration_ = std::max<int64_t>(1, (config_.frames_per_update + n - 1) / n);
  num_iterations_ =
      std::max<int64_t>(1, (total_frames + frames_per_iteration() - 1) / frames_per_iteration());
  for (int i = 0; i < n; ++i) epsilons_.push_back(agents::ActorEpsilon(config_, i, n));
  batch_ = &pool_->Reset();
  state_ = model_->InitialState(n);
  replay_ = std::make_unique<agents::SequenceReplay>(ReplayOptionsFor(config_, *pool_, state_));
}

void DqnTrainer::ActorStep(DqnIterationStats* stats) {
  c10::InferenceMode inference;
  model_->eval();
  const auto& fields = pool_->spec().observation.fields;
  const int n = pool_->num_envs();
  agents::ObsTensors obs;
  for (size_t f = 0; f < fields.size(); ++f) {
    obs.push_back(FieldTensor(*batch_, fields[f], static_cast<int>(f)));
  }
  auto reset = torch::zeros({n});
  for (int i = 0; i < n; ++i) {
    reset[i] = batch_->step_type[i] == StepType::kFirst ? 1.0f : 0.0f;
  }
  // The state fed in with each observation is what a sequence starting here stores.
  state_ = models::ResetState(state_, reset);
  std::vector<torch::Tensor> flat;
  // Copies: the rows are read after the step below.
  for (const auto& t : state_.tensors) flat.push_back(t.reshape({n, -1}).clone());
  auto out = model_->Step(obs, state_, {});
  const auto greedy = out.q.argmax(-1).contiguous();
  const int64_t* g = greedy.data_ptr<int64_t>();
  const auto num_actions = static_cast<uint32_t>(out.q.size(1));
  std::vector<const void*> ptrs(fields.size());
  for (int i = 0; i < n; ++i) {
    const double eps = epsilons_[static_cast<size_t>(i)];
    const bool explore = actor_rng_.Uniform() < eps;
    const auto a = static_cast<int32_t>(explore ? actor_rng_.Below(num_actions) : g[i]);
    actions_[static_cast<size_t>(i)].index = a;
    for (size_t f = 0; f < fields.size(); ++f) {
      ptrs[f] = static_cast<const uint8_t*>(batch_->obs[f]) +
                static_cast<size_t>(i) * fields[f].NumBytes();
    }
    state_row_.clear();
    for (const auto& t : flat) {
      const float* p = t.data_ptr<float>() + i * t.size(1);
      state_row_.insert(state_row_.end(), p, p + t.size(1));
    }
    replay_->Add(i, ptrs.data(), batch_->step_type[i], batch_->reward[i], batch_->discount[i], a,
                 state_row_.data());
    if (batch_->step_type[i] == StepType::kLast) {
      stats->episodes.push_back(
          {batch_->episode_return[i], batch_->episode_length[i], batch_->success[i] != 0});
    }
  }
  state_ = std::move(out.state);
  batch_ = &pool_->Step(actions_.data());
  frames_ += n;
}

void DqnTrainer::Learn(DqnIterationStats* stats) {
  const auto sample = replay_->Draw(static_cast<int>(config_.batch_size), &replay_rng_);
  replay_->Gather(sample.ids, &gathered_);
  const auto& g = gathered_;
  const int64_t T = g.steps, B = g.size;
  const auto& fields = pool_->spec().observation.fields;
  agents::SequenceTensors x;
  for (size_t f = 0; f < fields.size(); ++f) {
    std::vector<int64_t> shape = {T, B};
    shape.insert(shape.end(), fields[f].shape.begin(), fields[f].shape.end());
    x.obs.push_back(torch::from_blob(const_cast<uint8_t*>(g.obs[f].data()), shape,
                                     agents::TorchDType(fields[f].dtype)));
  }
  x.actions = torch::from_blob(const_cast<int32_t*>(g.actions.data()), {T, B}, torch::kInt32)
                  .to(torch::kInt64);
  x.rewards = torch::from_blob(const_cast<float*>(g.rewards.data()), {T, B}, torch::kFloat32);
  x.discounts = torch::from_blob(const_cast<float*>(g.discounts.data()), {T, B}, torch::kFloat32);
  x.valid = torch::from_blob(const_cast<uint8_t*>(g.valid.data()), {T, B}, torch::kUInt8)
                .to(torch::kFloat32);
  x.first = torch::from_blob(const_cast<uint8_t*>(g.first.data()), {B}, torch::kUInt8)
                .to(torch::kFloat32);
  x.weights = torch::tensor(sample.weights);
  // The stored states, one flat row per sequence, back into the core's tensors.
  const auto rows = torch::from_blob(
      const_cast<float*>(g.start_state.data()),
      {B, static_cast<int64_t>(g.start_state.size()) / std::max<int64_t>(B, 1)}, torch::kFloat32);
  x.start_state = model_->InitialState(B);
  int64_t offset = 0;
  for (auto& t : x.start_state.tensors) {
    const int64_t width = t[0].numel();
    t = rows.narrow(1, offset, width).reshape(t.sizes()).clone();
    offset += width;
  }
  stats->update = learner_.Update(x);
  stats->updated = true;
  replay_->UpdatePriorities(sample.ids, stats->update.loss.priorities);
}

DqnIterationStats DqnTrainer::RunIteration() {
  DqnIterationStats s;
  const auto t0 = Clock::now();
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  for (int64_t k = 0; k < steps_per_iteration_; ++k) ActorStep(&s);
  s.collect_seconds = Since(t0);
  if (update_threads_ > 0) torch::set_num_threads(update_threads_);
  if (frames_ >= config_.learning_starts && replay_->size() > 0) {
    const auto t1 = Clock::now();
    Learn(&s);
    s.update_seconds = Since(t1);
  }
  if (update_threads_ <= 0) torch::set_num_threads(threads);
  ++iteration_;
  s.frames = frames_;
  s.updates = learner_.updates();
  s.replay_sequences = replay_->size();
  s.replay_steps = replay_->stored_steps();
  return s;
}

void DqnTrainer::Save(torch::serialize::OutputArchive* archive) const {
  torch::serialize::OutputArchive model_archive, target_archive, optimizer_archive;
  model_->save(model_archive);
  archive->write("model", model_archive);
  const_cast<DqnTrainer*>(this)->learner_.target()->save(target_archive);
  archive->write("target", target_archive);
  const_cast<DqnTrainer*>(this)->learner_.optimizer().save(optimizer_archive);
  archive->write("optimizer", optimizer_archive);
  const auto scalar = [](int64_t v) { return torch::tensor({v}, torch::kInt64); };
  archive->write("iteration", scalar(iteration_));
  archive->write("frames", scalar(frames_));
  archive->write("updates", scalar(learner_.updates()));
  WriteCoreState(archive, state_);
  archive->write("torch_rng", GetTorchRngState());
  archive->write("actor_rng", RngTensor(actor_rng_));
  archive->write("replay_rng", RngTensor(replay_rng_));
  archive->write("pool", Bytes(pool_->SaveState()));
  archive->write("replay", Bytes(replay_->Save()));
}

void DqnTrainer::Load(torch::serialize::InputArchive* archive) {
  torch::serialize::InputArchive model_archive, target_archive, optimizer_archive;
  archive->read("model", model_archive);
  model_->load(model_archive);
  archive->read("target", target_archive);
  learner_.target()->load(target_archive);
  archive->read("optimizer", optimizer_archive);
  learner_.optimizer().load(optimizer_archive);
  const auto read = [archive](const std::string& key) {
    torch::Tensor t;
    archive->read(key, t);
    return t;
  };
  iteration_ = read("iteration").item<int64_t>();
  frames_ = read("frames").item<int64_t>();
  learner_.set_updates(read("updates").item<int64_t>());
  state_ = ReadCoreState(archive, model_->InitialState(pool_->num_envs()));
  SetTorchRngState(read("torch_rng"));
  SetRng(&actor_rng_, read("actor_rng"));
  SetRng(&replay_rng_, read("replay_rng"));
  pool_->LoadState(String(read("pool")));
  batch_ = &pool_->Last();
  try {
    replay_->Load(String(read("replay")));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("checkpoint: ") + e.what());
  }
}

}  // namespace rimlab
