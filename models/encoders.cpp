#include "models/encoders.h"

#include "models/fused_conv.h"
#include "models/rnn_cores.h"

#include <cmath>
#include <stdexcept>

namespace rimlab::models {

namespace {
void Require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

/// Normalised (row, col) in [0, 1] of every cell of an H x W grid, row-major: [H*W, 2].
torch::Tensor GridPositions(int64_t h, int64_t w) {
  auto rows = torch::arange(h, torch::kFloat32) / std::max<int64_t>(h - 1, 1);
  auto cols = torch::arange(w, torch::kFloat32) / std::max<int64_t>(w - 1, 1);
  auto grid = torch::meshgrid({rows, cols}, "ij");
  return torch::stack({grid[0].flatten(), grid[1].flatten()}, 1);
}

/// [B, C, H, W] conv features -> [B, H*W, C + 2] with each position's coordinates.
torch::Tensor ToSet(const torch::Tensor& features, const torch::Tensor& positions) {
  const int64_t b = features.size(0);
  auto set = features.flatten(2).transpose(1, 2);  // [B, H*W, C]
  auto pos = positions.to(set.options()).unsqueeze(0).expand({b, -1, -1});
  return torch::cat({set, pos}, -1);
}
}  // namespace

MissionEncoderImpl::MissionEncoderImpl(MissionEncoderOptions options_) : options(options_) {
  Require(options.vocab_size() >= 2, "MissionEncoder: vocab_size must be >= 2 (0 is padding)");
  Require(options.kind() == "gru" || options.kind() == "bag", "MissionEncoder: kind gru or bag");
  embedding = register_module(
      "embedding", torch::nn::Embedding(
                       torch::nn::EmbeddingOptions(options.vocab_size(), options.embedding_size())
                           .padding_idx(0)));
  if (options.kind() == "gru") {
    gru = register_module(
        "gru", RecurrentCore(std::shared_ptr<RecurrentCoreImpl>(std::make_shared<GRUCoreImpl>(
                   RNNCoreOptions(options.embedding_size(), options.hidden_size())))));
  }
}

int64_t MissionEncoderImpl::output_size() const {
  return options.kind() == "gru" ? options.hidden_size() : options.embedding_size();
}

torch::Tensor MissionEncoderImpl::forward(const torch::Tensor& tokens) {
  auto ids = tokens.to(torch::kInt64);
  // A batch repeats a handful of missions (a mission is fixed for its episode), and the GRU was
  // most of a PPO update's arithmetic: encode each distinct mission once and gather. Gradients
  // flow through the gather, accumulating over the rows that share a mission.
  // Rows are told apart by one int64 key (the tokens as digits base vocab_size) when it fits,
  // since a 1-d unique is far cheaper than unique_dim's row comparisons.
  const int64_t len = ids.size(1);
  const double bits =
      static_cast<double>(len) * std::log2(static_cast<double>(options.vocab_size()));
  const bool acting = !is_training() && !torch::GradMode::is_enabled();
  if ((acting || ids.size(0) > 4) && bits < 62.0 && len > 0) {
    auto key = ids.select(1, 0).clone();
    for (int64_t i = 1; i < len; ++i) key = key * options.vocab_size() + ids.select(1, i);
    if (acting) {
      auto cached = EncodeCached(ids, key);
      if (cached.defined()) return cached;
    }
    if (ids.size(0) > 4) {
      auto unique = at::_unique2(key, /*sorted=*/false, /*return_inverse=*/true);
      const auto& inverse = std::get<1>(unique);
      const int64_t distinct = std::get<0>(unique).size(0);
      if (distinct < ids.size(0)) {
        // One representative row per distinct key: scatter row indices by key slot.
        auto first = torch::empty({distinct}, torch::kInt64)
                         .scatter_(0, inverse, torch::arange(ids.size(0), torch::kInt64));
        return EncodeDistinct(ids.index_select(0, first)).index_select(0, inverse);
      }
    }
  }
  return EncodeDistinct(ids);
}

torch::Tensor MissionEncoderImpl::EncodeCached(const torch::Tensor& ids,
                                               const torch::Tensor& keys) {
  std::vector<std::pair<const void*, int64_t>> signature;
  for (const auto& p : parameters()) {
    if (p.is_inference()) return {};  // inference tensors keep no version counter
    signature.emplace_back(p.data_ptr(), p._version());
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  // Missions come from a small vocabulary; the bound only guards against a generator of endless
  // distinct ones.
  constexpr size_t kMaxCached = 4096;
  if (signature != cache_signature_ || cache_slot_.size() > kMaxCached) {
    cache_signature_ = std::move(signature);
    cache_slot_.clear();
    cache_rows_ = torch::Tensor();
  }
  const auto k = keys.contiguous();
  const int64_t* key = k.data_ptr<int64_t>();
  const int64_t n = k.numel();
  std::vector<int64_t> missing;  // row index of each new key's first occurrence
  int64_t next = cache_rows_.defined() ? cache_rows_.size(0) : 0;
  for (int64_t i = 0; i < n; ++i) {
    if (cache_slot_.emplace(key[i], next).second) {
      missing.push_back(i);
      ++next;
    }
  }
  if (!missing.empty()) {
    auto fresh = EncodeDistinct(ids.index_select(0, torch::tensor(missing, torch::kInt64)));
    cache_rows_ = cache_rows_.defined() ? torch::cat({cache_rows_, fresh}, 0) : fresh;
  }
  std::vector<int64_t> slots(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) slots[static_cast<size_t>(i)] = cache_slot_.at(key[i]);
  return cache_rows_.index_select(0, torch::tensor(slots, torch::kInt64));
}

torch::Tensor MissionEncoderImpl::EncodeDistinct(const torch::Tensor& ids) {
  auto real = ids.ne(0);                    // [B, L]
  auto lengths = real.sum(1).clamp_min(1);  // an empty mission reads pad 0
  auto emb = embedding(ids);                // [B, L, E]
  if (options.kind() == "bag") {
    return emb.sum(1) / lengths.unsqueeze(1).to(emb.scalar_type());
  }
  const int64_t b = emb.size(0);
  auto out = gru->Unroll(emb.transpose(0, 1), gru->InitialState(b), {}).outputs;  // [L, B, H]
  // The state after the last real token; trailing padding never reaches it.
  auto last = (lengths - 1).view({1, -1, 1}).expand({1, -1, out.size(2)});
  return out.gather(0, last).squeeze(0);
}

GridEncoderImpl::GridEncoderImpl(GridEncoderOptions options_) : options(std::move(options_)) {
  const auto& o = options;
  Require(o.image_height() >= 1 && o.image_width() >= 1, "GridEncoder: image size must be >= 1");
  Require(o.arch() == "embed" || o.arch() == "conv", "GridEncoder: arch must be embed or conv");
  convs = torch::nn::Sequential();
  if (o.arch() == "conv") {
    Require(o.conv_channels().size() == 3, "GridEncoder: arch conv needs 3 conv_channels");
    Require(!o.set_output(), "GridEncoder: arch conv has no set output");
    // 2x2 conv, pool /2, 2x2 conv, 2x2 conv: H -> ((H - 1) / 2) - 2.
    const int64_t h = (o.image_height() - 1) / 2 - 2;
    const int64_t w = (o.image_width() - 1) / 2 - 2;
    Require(h >= 1 && w >= 1, "GridEncoder: arch conv needs a view of at least 7 x 7");
    const auto& ch = o.conv_channels();
    convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, ch[0], 2)));
    convs->push_back(torch::nn::ReLU());
    convs->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
    convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(ch[0], ch[1], 2)));
    convs->push_back(torch::nn::ReLU());
    convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(ch[1], ch[2], 2)));
    convs->push_back(torch::nn::ReLU());
    image_features_ = ch[2] * h * w;
  } else {
    Require(!o.conv_channels().empty(), "GridEncoder: need at least one conv layer");
    const int64_t vocab = o.num_objects() + o.num_colors() + o.num_states();
    cells = register_module("cells", torch::nn::Embedding(vocab, o.cell_embedding_size()));
    int64_t in = 3 * o.cell_embedding_size();
    for (int64_t c : o.conv_channels()) {
      convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, c, 3).padding(1)));
      convs->push_back(torch::nn::ReLU());
      in = c;
    }
    if (!o.set_output()) {
      project = register_module(
          "project", torch::nn::Linear(in * o.image_height() * o.image_width(), o.output_size()));
    }
    image_features_ = o.output_size();
  }
  register_module("convs", convs);
  if (o.direction_embedding_size() > 0) {
    direction = register_module("direction", torch::nn::Embedding(4, o.direction_embedding_size()));
  }
  if (o.mission().vocab_size() > 0)
    mission = register_module("mission", MissionEncoder(o.mission()));
  positions_ = register_buffer("positions", GridPositions(o.image_height(), o.image_width()));
}

int64_t GridEncoderImpl::set_size() const {
  return options.set_output() ? options.image_height() * options.image_width() : 1;
}

int64_t GridEncoderImpl::element_size() const {
  int64_t n = options.set_output() ? options.conv_channels().back() + 2 : image_features_;
  n += options.direction_embedding_size();
  if (!mission.is_empty()) n += mission->output_size();
  return n;
}

torch::Tensor GridEncoderImpl::forward(const torch::Tensor& image, const torch::Tensor& dir,
                                       const torch::Tensor& mission_tokens) {
  const auto& o = options;
  Require(image.dim() == 4 && image.size(1) == o.image_height() &&
              image.size(2) == o.image_width() && image.size(3) == 3,
          "GridEncoder: expected image [B, " + std::to_string(o.image_height()) + ", " +
              std::to_string(o.image_width()) + ", 3], got " + c10::str(image.sizes()));
  // One table for the three channels: offset the colour and state indices past the objects.
  torch::Tensor x;
  if (o.arch() == "conv") {
    const auto& w1 = convs[0]->as<torch::nn::Conv2d>()->weight;
    const auto& w2 = convs[3]->as<torch::nn::Conv2d>()->weight;
    const auto& w3 = convs[5]->as<torch::nn::Conv2d>()->weight;
    if (o.fused() && FusedGridConvSupported(image, w1, w2, w3)) {
      x = FusedGridConv(image, w1, convs[0]->as<torch::nn::Conv2d>()->bias, w2,
                        convs[3]->as<torch::nn::Conv2d>()->bias, w3,
                        convs[5]->as<torch::nn::Conv2d>()->bias);  // [B, C3 H3 W3]
    } else {
      x = convs->forward(image.permute({0, 3, 1, 2}).to(torch::kFloat32));  // [B, 3, H, W]
    }
  } else {
    auto offsets = torch::tensor({int64_t{0}, o.num_objects(), o.num_objects() + o.num_colors()},
                                 torch::kInt64)
                       .to(image.device());
    auto ids = image.to(torch::kInt64) + offsets;     // [B, H, W, 3]
    x = cells(ids).flatten(3).permute({0, 3, 1, 2});  // [B, 3E, H, W]
    x = convs->forward(x);
  }
  std::vector<torch::Tensor> extras;
  if (!direction.is_empty()) extras.push_back(direction(dir.to(torch::kInt64).view({-1})));
  if (!mission.is_empty()) {
    Require(mission_tokens.defined(), "GridEncoder: built with a mission vocabulary, got none");
    extras.push_back(mission->forward(mission_tokens));
  }
  if (!o.set_output()) {
    extras.insert(extras.begin(),
                  project.is_empty() ? x.flatten(1) : torch::relu(project(x.flatten(1))));
    return torch::cat(extras, 1);
  }
  auto set = ToSet(x, positions_);
  for (auto& e : extras) e = e.unsqueeze(1).expand({-1, set.size(1), -1});
  extras.insert(extras.begin(), set);
  return torch::cat(extras, 2);
}

namespace {

/// He initialisation (normal, fan-in, ReLU gain) with zero biases. Torch's default shrinks the
/// signal about threefold per layer, and through the encoder, core and decoder the next-frame
/// predictor then sat on the mean-frame plateau (BCE 911 after 300 updates, against 820 with
/// this and still falling; docs/balls.md).
void HeInit(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  // Every descendant: the module itself is not yet in a shared_ptr while it is being built.
  for (auto& m : module.modules(/*include_self=*/false)) {
    torch::Tensor w, b;
    if (auto* c = m->as<torch::nn::Conv2d>()) {
      w = c->weight;
      b = c->bias;
    } else if (auto* t = m->as<torch::nn::ConvTranspose2d>()) {
      w = t->weight;
      b = t->bias;
    } else if (auto* l = m->as<torch::nn::Linear>()) {
      w = l->weight;
      b = l->bias;
    } else {
      continue;
    }
    torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanIn, torch::kReLU);
    if (b.defined()) b.zero_();
  }
}

}  // namespace

FrameEncoderImpl::FrameEncoderImpl(FrameEncoderOptions options_) : options(options_) {
  const auto& o = options;
  Require(o.image_size() >= 16 && o.image_size() % 16 == 0,
          "FrameEncoder: image_size must be a multiple of 16");
  convs = torch::nn::Sequential();
  int64_t in = o.channels();
  for (int i = 0; i < 4; ++i) {
    convs->push_back(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, o.conv_channels(), 4).stride(2).padding(1)));
    convs->push_back(torch::nn::ReLU());
    in = o.conv_channels();
  }
  register_module("convs", convs);
  const int64_t side = o.image_size() / 16;
  if (!o.set_output()) {
    project = register_module("project", torch::nn::Linear(in * side * side, o.output_size()));
  }
  positions_ = register_buffer("positions", GridPositions(side, side));
  HeInit(*this);
}

int64_t FrameEncoderImpl::set_size() const {
  const int64_t side = options.image_size() / 16;
  return options.set_output() ? side * side : 1;
}

int64_t FrameEncoderImpl::element_size() const {
  return options.set_output() ? options.conv_channels() + 2 : options.output_size();
}

torch::Tensor FrameEncoderImpl::forward(const torch::Tensor& frames) {
  Require(frames.dim() == 4 && frames.size(1) == options.channels() &&
              frames.size(2) == options.image_size() && frames.size(3) == options.image_size(),
          "FrameEncoder: expected frames [B, C, S, S], got " + c10::str(frames.sizes()));
  auto x = convs->forward(frames);
  if (options.set_output()) return ToSet(x, positions_);
  return torch::relu(project(x.flatten(1)));
}

FrameDecoderImpl::FrameDecoderImpl(FrameDecoderOptions options_) : options(options_) {
  const auto& o = options;
  Require(o.image_size() >= 16 && o.image_size() % 16 == 0,
          "FrameDecoder: image_size must be a multiple of 16");
  const int64_t side = o.image_size() / 16;
  project = register_module("project",
                            torch::nn::Linear(o.input_size(), o.conv_channels() * side * side));
  deconvs = torch::nn::Sequential();
  for (int i = 0; i < 4; ++i) {
    const int64_t out = i == 3 ? o.channels() : o.conv_channels();
    deconvs->push_back(torch::nn::ConvTranspose2d(
        torch::nn::ConvTranspose2dOptions(o.conv_channels(), out, 4).stride(2).padding(1)));
    if (i < 3) deconvs->push_back(torch::nn::ReLU());
  }
  register_module("deconvs", deconvs);
  HeInit(*this);
}

void FrameDecoderImpl::SetOutputBias(double probability) {
  TORCH_CHECK(probability > 0.0 && probability < 1.0, "FrameDecoder: probability in (0, 1)");
  torch::NoGradGuard no_grad;
  auto* last = deconvs->ptr(deconvs->size() - 1)->as<torch::nn::ConvTranspose2d>();
  last->bias.fill_(std::log(probability / (1.0 - probability)));
}

torch::Tensor FrameDecoderImpl::forward(const torch::Tensor& features) {
  const int64_t side = options.image_size() / 16;
  auto x = torch::relu(project(features)).view({-1, options.conv_channels(), side, side});
  return deconvs->forward(x);
}

}  // namespace rimlab::models
