#include "models/cores.h"

#include <stdexcept>

namespace rimlab::models {

RecurrentCore MakeCore(const CoreOptions& options, int64_t input_size, int64_t set_size) {
  // Through shared_ptr<RecurrentCoreImpl>: ModuleHolder's forwarding constructor would otherwise
  // try to construct the abstract base from the derived pointer.
  using Base = std::shared_ptr<RecurrentCoreImpl>;
  const RNNCoreOptions rnn(input_size * set_size, options.hidden_size);
  if (options.type == "lstm") return RecurrentCore(Base(std::make_shared<LSTMCoreImpl>(rnn)));
  if (options.type == "gru") return RecurrentCore(Base(std::make_shared<GRUCoreImpl>(rnn)));
  if (options.type == "rim") {
    RIMCellOptions rim = options.rim;
    rim.input_size(input_size);
    return RecurrentCore(Base(std::make_shared<RIMCellImpl>(rim)));
  }
  throw std::invalid_argument("MakeCore: unknown core type '" + options.type +
                              "' (expected lstm, gru or rim)");
}

CoreOptions ReadCoreOptions(ParamReader& r, const std::string& prefix) {
  CoreOptions o;
  const auto key = [&](const char* name) { return prefix + name; };
  o.type = r.Choice(key("type"), o.type, {"lstm", "gru", "rim"});
  constexpr int64_t kBig = 1 << 16;
  if (o.type != "rim") {
    o.hidden_size = r.Int(key("hidden_size"), o.hidden_size, 1, kBig);
    return o;
  }
  auto& m = o.rim;
  m.num_units(r.Int(key("num_units"), m.num_units(), 1, 256));
  m.top_k(r.Int(key("top_k"), m.top_k(), 1, 256));
  if (m.top_k() > m.num_units()) r.Fail(key("top_k"), "top_k must not exceed num_units");
  m.unit_size(r.Int(key("unit_size"), m.unit_size(), 1, kBig));
  m.unit_cell(r.Choice(key("unit_cell"), m.unit_cell(), {"lstm", "gru"}));
  m.input_key_size(r.Int(key("input_key_size"), m.input_key_size(), 1, kBig));
  m.input_value_size(r.Int(key("input_value_size"), m.input_value_size(), 0, kBig));
  m.input_heads(r.Int(key("input_heads"), m.input_heads(), 1, 64));
  m.comm_key_size(r.Int(key("comm_key_size"), m.comm_key_size(), 1, kBig));
  m.comm_value_size(r.Int(key("comm_value_size"), m.comm_value_size(), 1, kBig));
  m.comm_heads(r.Int(key("comm_heads"), m.comm_heads(), 1, 64));
  m.input_dropout(r.Float(key("input_dropout"), m.input_dropout(), 0.0, 0.99));
  m.comm_dropout(r.Float(key("comm_dropout"), m.comm_dropout(), 0.0, 0.99));
  m.input_attention(r.Bool(key("input_attention"), m.input_attention()));
  m.communication(r.Bool(key("communication"), m.communication()));
  m.init(r.Choice(key("init"), m.init(), {"uniform", "authors"}));
  m.fused(r.Bool(key("fused"), m.fused()));
  return o;
}

CoreOptions CoreOptionsFromParams(const Params& params) {
  ParamReader reader(params, "core");
  auto o = ReadCoreOptions(reader);
  reader.Finish();
  return o;
}

int64_t CoreParameterCount(const CoreOptions& options, int64_t input_size, int64_t set_size) {
  if (options.type == "lstm")
    return GatedRNNParameterCount(input_size * set_size, options.hidden_size, 4);
  if (options.type == "gru")
    return GatedRNNParameterCount(input_size * set_size, options.hidden_size, 3);
  RIMCellOptions rim = options.rim;
  rim.input_size(input_size);
  return RIMParameterCount(rim);
}

}  // namespace rimlab::models
