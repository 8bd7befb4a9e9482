#pragma once
/// Building a recurrent core by name: `type` picks LSTM, GRU or RIM and the rest of CoreOptions
/// sizes it. This is the header policies include.

#include <string>

#include "common/params.h"
#include "models/recurrent_core.h"
#include "models/rim.h"
#include "models/rnn_cores.h"

namespace rimlab::models {

struct CoreOptions {
  /// "lstm", "gru" or "rim".
  std::string type = "lstm";
  /// LSTM/GRU hidden size (600 matches RIM(6 x 100) in output width).
  int64_t hidden_size = 600;
  /// RIM options; input_size is filled in by MakeCore.
  RIMCellOptions rim;
};

/// Builds the core for inputs of `set_size` elements of width `input_size` each (set_size 1 for a
/// plain vector). LSTM and GRU see the flattened set, input width set_size * input_size.
RecurrentCore MakeCore(const CoreOptions& options, int64_t input_size, int64_t set_size = 1);

/// Reads the core keys (each under `prefix`, e.g. "core."): type, and for lstm/gru hidden_size;
/// for rim num_units, top_k, unit_size, unit_cell, input_key_size, input_value_size, input_heads,
/// comm_key_size, comm_value_size, comm_heads, input_dropout, comm_dropout, input_attention,
/// communication, init, fused. Only the chosen type's keys are read, so Finish() rejects the
/// other type's.
CoreOptions ReadCoreOptions(ParamReader& reader, const std::string& prefix = "");

/// ReadCoreOptions on a section of its own, then Finish(): unknown keys are errors.
CoreOptions CoreOptionsFromParams(const Params& params);

/// Trainable parameter count of the core MakeCore would build, without building it.
int64_t CoreParameterCount(const CoreOptions& options, int64_t input_size, int64_t set_size = 1);

}  // namespace rimlab::models
