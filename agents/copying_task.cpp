#include "agents/copying_task.h"

#include <torch/torch.h>

#include <chrono>

namespace rimlab::agents {

CopyingOptions CopyingOptionsFromParams(const Params& task, const Params& core) {
  ParamReader r(task, "copying task");
  CopyingOptions o;
  r.String("task", "copying");
  o.copy_length = r.Int("copy_length", o.copy_length, 1, 1000);
  o.symbols = r.Int("symbols", o.symbols, 1, 1000);
  o.train_blank = r.Int("train_blank", o.train_blank, 1, 100000);
  o.test_blank = r.Int("test_blank", o.test_blank, 1, 100000);
  o.batch_size = r.Int("batch_size", o.batch_size, 1, 1 << 16);
  o.updates = r.Int("updates", o.updates, 0, 1 << 30);
  o.lr = r.Float("lr", o.lr, 1e-7, 1.0);
  o.clip = r.Float("clip", o.clip, 0.0, 1e6);
  o.embedding_size = r.Int("embedding_size", o.embedding_size, 1, 1 << 16);
  o.eval_every = r.Int("eval_every", o.eval_every, 0, 1 << 30);
  o.eval_batches = r.Int("eval_batches", o.eval_batches, 1, 1 << 16);
  o.seed = r.Int("seed", o.seed, 0, int64_t{1} << 62);
  o.threads = r.Int("threads", o.threads, 1, 256);
  o.max_minutes = r.Float("max_minutes", o.max_minutes, 0.0, 1e6);
  r.Finish();
  o.core = models::CoreOptionsFromParams(core);
  return o;
}

CopyingBatch MakeCopyingBatch(int64_t batch, int64_t blank, int64_t copy_length, int64_t symbols) {
  const int64_t length = blank + 2 * copy_length;
  auto seq = torch::randint(1, symbols + 1, {copy_length, batch}, torch::kInt64);
  auto inputs = torch::zeros({length, batch}, torch::kInt64);
  auto targets = torch::zeros({length, batch}, torch::kInt64);
  inputs.narrow(0, 0, copy_length).copy_(seq);
  inputs[copy_length + blank - 1].fill_(symbols + 1);  // the marker ends the blank span
  targets.narrow(0, copy_length + blank, copy_length).copy_(seq);
  return {inputs, targets};
}

namespace {

struct CopyModelImpl : torch::nn::Module {
  CopyModelImpl(const CopyingOptions& o) {
    const int64_t vocab = o.symbols + 2;
    embed = register_module("embed", torch::nn::Embedding(vocab, o.embedding_size));
    core = register_module("core", models::MakeCore(o.core, o.embedding_size));
    readout = register_module("readout", torch::nn::Linear(core->output_size(), vocab));
  }
  /// Logits [T, B, vocab] for int64 inputs [T, B].
  torch::Tensor forward(const torch::Tensor& inputs) {
    auto x = embed(inputs);
    auto out = core->Unroll(x, core->InitialState(inputs.size(1)), {});
    return readout(out.outputs);
  }
  torch::nn::Embedding embed{nullptr};
  models::RecurrentCore core{nullptr};
  torch::nn::Linear readout{nullptr};
};
TORCH_MODULE(CopyModel);

CopyingEval Evaluate(CopyModel& model, const CopyingOptions& o) {
  torch::NoGradGuard no_grad;
  model->eval();
  CopyingEval e;
  const auto n = static_cast<double>(o.eval_batches);
  for (int64_t i = 0; i < o.eval_batches; ++i) {
    auto b = MakeCopyingBatch(o.batch_size, o.test_blank, o.copy_length, o.symbols);
    auto logits = model->forward(b.inputs);
    auto logp = torch::log_softmax(logits, -1);
    auto nll = -logp.gather(-1, b.targets.unsqueeze(-1)).squeeze(-1);  // [T, B]
    const int64_t start = o.test_blank + o.copy_length;
    auto copy_nll = nll.narrow(0, start, o.copy_length);
    auto right = logits.narrow(0, start, o.copy_length)
                     .argmax(-1)
                     .eq(b.targets.narrow(0, start, o.copy_length));
    e.ce_all += nll.mean().item<double>() / n;
    e.ce_copy += copy_nll.mean().item<double>() / n;
    e.copy_accuracy += right.to(torch::kFloat64).mean().item<double>() / n;
    e.sequence_accuracy += right.all(0).to(torch::kFloat64).mean().item<double>() / n;
  }
  model->train();
  return e;
}

}  // namespace

CopyingResult RunCopying(const CopyingOptions& o,
                         const std::function<void(const CopyingEval&)>& on_eval) {
  torch::set_num_threads(static_cast<int>(o.threads));
  torch::manual_seed(static_cast<uint64_t>(o.seed));
  CopyModel model(o);
  model->train();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(o.lr));
  CopyingResult result;
  for (const auto& p : model->parameters()) result.parameters += p.numel();
  result.core_parameters = model->core->NumParameters();

  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double window_loss = 0;
  int64_t window = 0, update = 0;
  double train_seconds = 0;
  auto report = [&](int64_t at) {
    const double eval_start = elapsed();
    CopyingEval e = Evaluate(model, o);
    train_seconds -= elapsed() - eval_start;  // evaluation time is not training time
    e.update = at;
    e.seconds = elapsed();
    e.train_ce = window > 0 ? window_loss / static_cast<double>(window) : 0.0;
    window_loss = 0;
    window = 0;
    if (on_eval) on_eval(e);
    return e;
  };
  for (update = 1; update <= o.updates; ++update) {
    auto b = MakeCopyingBatch(o.batch_size, o.train_blank, o.copy_length, o.symbols);
    auto logits = model->forward(b.inputs);
    auto loss = torch::nn::functional::cross_entropy(logits.flatten(0, 1), b.targets.flatten());
    adam.zero_grad();
    loss.backward();
    if (o.clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), o.clip);
    adam.step();
    window_loss += loss.item<double>();
    ++window;
    const bool out_of_time = o.max_minutes > 0 && elapsed() > 60.0 * o.max_minutes;
    if (out_of_time) break;
    if (o.eval_every > 0 && update % o.eval_every == 0 && update < o.updates) report(update);
  }
  const int64_t done = std::min(update, o.updates);
  train_seconds += elapsed();
  result.ms_per_update = done > 0 ? 1e3 * train_seconds / static_cast<double>(done) : 0.0;
  result.final_eval = report(done);
  return result;
}

}  // namespace rimlab::agents
