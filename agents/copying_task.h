#pragma once
/// The copying task of the RIM paper (Goyal et al., section 4.1), as evidence that a core can hold
/// information across a long blank span and generalise to a longer one.
///
/// A sequence is `copy_length` symbols drawn from 1..symbols, a blank span of `blank` steps whose
/// last step is the marker (symbols + 1), then `copy_length` blanks during which the model must
/// output the symbols in order. Targets are 0 everywhere else. This is the authors' layout
/// (event_based/copying_data.py): length blank + 2 * copy_length, blank = T in their code.
/// Training uses `train_blank`; evaluation uses `test_blank` (50 and 200 in the paper).

#include <cstdint>
#include <functional>
#include <string>

#include "common/params.h"
#include "models/cores.h"

namespace rimlab::agents {

struct CopyingOptions {
  int64_t copy_length = 10;     ///< symbols to copy
  int64_t symbols = 8;          ///< alphabet 1..symbols; 0 is blank, symbols+1 the marker
  int64_t train_blank = 50;     ///< blank span while training (the paper's 50)
  int64_t test_blank = 200;     ///< blank span at test (the paper's 200)
  int64_t batch_size = 64;      ///< sequences per update (the authors' 64)
  int64_t updates = 2000;       ///< Adam steps
  double lr = 1e-3;             ///< Adam learning rate (the authors' code: 1e-3)
  double clip = 1.0;            ///< global gradient-norm clip (the authors' 1.0)
  int64_t embedding_size = 64;  ///< token embedding width fed to the core
  int64_t eval_every = 250;     ///< updates between evaluations on the test span (0: only at end)
  int64_t eval_batches = 4;     ///< batches of batch_size per evaluation
  int64_t seed = 1;
  int64_t threads = 2;       ///< torch intra-op threads
  double max_minutes = 0;    ///< stop training after this wall time (0: no limit)
  models::CoreOptions core;  ///< keys under "core." (see models/cores.h)
};

/// Reads the options from a config's root section (keys as the members above; `task` is accepted
/// and ignored) and its `core` section (models::CoreOptionsFromParams). Unknown keys are rejected
/// with their file and line.
CopyingOptions CopyingOptionsFromParams(const Params& task, const Params& core);

/// One batch: inputs and targets, int64 [blank + 2 * copy_length, batch] (time-major).
struct CopyingBatch {
  torch::Tensor inputs;
  torch::Tensor targets;
};
CopyingBatch MakeCopyingBatch(int64_t batch, int64_t blank, int64_t copy_length, int64_t symbols);

/// An evaluation (or a training-window summary). Cross-entropies are in nats per position.
struct CopyingEval {
  int64_t update = 0;
  double seconds = 0;            ///< wall time since the start of training
  double train_ce = 0;           ///< training loss (all positions), mean over the last window
  double ce_all = 0;             ///< test CE averaged over every position (the paper's figure)
  double ce_copy = 0;            ///< test CE over the copy_length output positions only
  double copy_accuracy = 0;      ///< fraction of output symbols right (argmax)
  double sequence_accuracy = 0;  ///< fraction of sequences with every symbol right
};

struct CopyingResult {
  CopyingEval final_eval;
  int64_t parameters = 0;  ///< trainable scalars in the whole model
  int64_t core_parameters = 0;
  double ms_per_update = 0;
};

/// Trains a model (embedding, core, linear read-out) with Adam and cross-entropy on the training
/// span, evaluating on the test span every eval_every updates and at the end; `on_eval` sees each
/// evaluation as it happens (for logs).
CopyingResult RunCopying(const CopyingOptions& options,
                         const std::function<void(const CopyingEval&)>& on_eval = {});

}  // namespace rimlab::agents
