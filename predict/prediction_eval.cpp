#include "predict/prediction_eval.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace rimlab::predict {

namespace {

/// Per-sequence BCE of logits [B, S, S] against targets [B, S, S], summed over pixels.
torch::Tensor FrameBce(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::binary_cross_entropy_with_logits(logits, targets, {}, {}, at::Reduction::None)
      .flatten(1)
      .sum(1);
}

std::vector<int64_t> Range(int64_t first, int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

}  // namespace

double TeacherForcedBce(FramePredictor model, const SequenceStore& data, int64_t n, int64_t batch) {
  if (n <= 0 || n > data.count()) n = data.count();
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  double total = 0.0;
  for (int64_t first = 0; first < n; first += batch) {
    const int64_t b = std::min(batch, n - first);
    const torch::Tensor x = data.Batch(Range(first, b));
    models::State state = model->InitialState(b);
    const torch::Tensor logits = model->Forward(x.narrow(0, 0, x.size(0) - 1), &state);
    total += torch::binary_cross_entropy_with_logits(logits, x.narrow(0, 1, x.size(0) - 1), {}, {},
                                                     at::Reduction::Sum)
                 .item<double>() /
             static_cast<double>(x.size(0) - 1);
  }
  model->train(was_training);
  return total / static_cast<double>(n);
}

double RolloutCurve::Average() const {
  double s = 0.0;
  for (double m : mean) s += m;
  return mean.empty() ? 0.0 : s / static_cast<double>(mean.size());
}

double RolloutCurve::AverageCi95() const {
  const auto n = static_cast<double>(per_sequence.size());
  if (n < 2) return 0.0;
  double s = 0.0, ss = 0.0;
  for (const auto& row : per_sequence) {
    double a = 0.0;
    for (double v : row) a += v;
    a /= static_cast<double>(row.size());
    s += a;
    ss += a * a;
  }
  const double m = s / n;
  return 1.96 * std::sqrt(std::max(0.0, (ss - s * m) / (n - 1.0)) / n);
}

namespace {

/// A curve for sequences [0, n) (n 0 or more than there are: all) with every BCE still to fill;
/// throws when the sequences are too short for the protocol.
RolloutCurve EmptyCurve(const SequenceStore& data, int64_t n, int burn_in, int rollout) {
  if (burn_in < 1 || rollout < 1 || burn_in + rollout > data.frames()) {
    throw std::invalid_argument("rollout evaluation: " + std::to_string(burn_in) + " + " +
                                std::to_string(rollout) + " frames asked of sequences of " +
                                std::to_string(data.frames()) + " (" + data.source() + ")");
  }
  if (n <= 0 || n > data.count()) n = data.count();
  RolloutCurve curve;
  curve.burn_in = burn_in;
  curve.rollout = rollout;
  curve.sequences = n;
  curve.per_sequence.assign(static_cast<size_t>(n),
                            std::vector<double>(static_cast<size_t>(rollout)));
  return curve;
}

/// Each step's mean over sequences and its normal 95% interval.
void SummariseSteps(RolloutCurve* curve) {
  const auto n = static_cast<int64_t>(curve->per_sequence.size());
  const int rollout = curve->rollout;
  curve->mean.assign(static_cast<size_t>(rollout), 0.0);
  curve->ci95.assign(static_cast<size_t>(rollout), 0.0);
  for (int k = 0; k < rollout; ++k) {
    double s = 0.0, ss = 0.0;
    for (const auto& row : curve->per_sequence) {
      s += row[static_cast<size_t>(k)];
      ss += row[static_cast<size_t>(k)] * row[static_cast<size_t>(k)];
    }
    const double m = s / static_cast<double>(n);
    const double var = n > 1 ? std::max(0.0, (ss - s * m) / static_cast<double>(n - 1)) : 0.0;
    curve->mean[static_cast<size_t>(k)] = m;
    curve->ci95[static_cast<size_t>(k)] = 1.96 * std::sqrt(var / static_cast<double>(n));
  }
}

}  // namespace

RolloutCurve RolloutBce(FramePredictor model, const SequenceStore& data, int64_t n, int burn_in,
                        int rollout, int64_t batch, Feedback feedback) {
  RolloutCurve curve = EmptyCurve(data, n, burn_in, rollout);
  n = curve.sequences;
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  for (int64_t first = 0; first < n; first += batch) {
    const int64_t b = std::min(batch, n - first);
    const torch::Tensor x = data.Batch(Range(first, b), 0, burn_in + rollout);
    models::State state = model->InitialState(b);
    // The true frames 0..burn_in-1; the last output predicts frame burn_in.
    torch::Tensor logits = model->Forward(x.narrow(0, 0, burn_in), &state)[burn_in - 1];
    for (int k = 0; k < rollout; ++k) {
      const torch::Tensor bce = FrameBce(logits, x[burn_in + k]).to(torch::kDouble).contiguous();
      const double* v = bce.data_ptr<double>();
      for (int64_t i = 0; i < b; ++i) {
        curve.per_sequence[static_cast<size_t>(first + i)][static_cast<size_t>(k)] = v[i];
      }
      if (k + 1 < rollout) {
        torch::Tensor next = torch::sigmoid(logits);
        if (feedback == Feedback::kBinary) next = (next >= 0.5).to(torch::kFloat32);
        logits = model->Forward(next.unsqueeze(0), &state)[0];
      }
    }
  }
  model->train(was_training);
  SummariseSteps(&curve);
  return curve;
}

double MeanDensity(const SequenceStore& data, int64_t n) {
  if (n <= 0 || n > data.count()) n = data.count();
  const size_t pixels = static_cast<size_t>(data.size()) * static_cast<size_t>(data.size());
  double lit = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    for (int f = 0; f < data.frames(); ++f) {
      const uint8_t* p = data.Frame(i, f);
      for (size_t j = 0; j < pixels; ++j) lit += p[j] != 0 ? 1.0 : 0.0;
    }
  }
  const double total = static_cast<double>(n) * data.frames() * static_cast<double>(pixels);
  return total > 0 ? lit / total : 0.0;
}

RolloutCurve ConstantRollout(const SequenceStore& data, double p, int64_t n, int burn_in,
                             int rollout) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("ConstantRollout: p must be in (0, 1)");
  RolloutCurve curve = EmptyCurve(data, n, burn_in, rollout);
  n = curve.sequences;
  const size_t pixels = static_cast<size_t>(data.size()) * static_cast<size_t>(data.size());
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < rollout; ++k) {
      const uint8_t* f = data.Frame(i, burn_in + k);
      double lit = 0.0;
      for (size_t j = 0; j < pixels; ++j) lit += f[j] != 0 ? 1.0 : 0.0;
      curve.per_sequence[static_cast<size_t>(i)][static_cast<size_t>(k)] =
          -(lit * std::log(p) + (static_cast<double>(pixels) - lit) * std::log1p(-p));
    }
  }
  SummariseSteps(&curve);
  return curve;
}

}  // namespace rimlab::predict
