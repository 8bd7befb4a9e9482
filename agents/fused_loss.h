#pragma once
// The actor-critic loss of PPO (clipped surrogate, optional value clipping) and A2C (plain policy
// gradient) from the policy's logits and values, forward and backward, as one autograd node.
//
// Why: written with tensor operators the loss was about 35 operators forward and as many backward
// per minibatch part, on tensors of a few hundred rows: dispatch and autograd bookkeeping, not
// arithmetic. Here it is one loop over the rows each way, its gradient in closed form:
//   d logp_a / d logits = onehot(a) - p,   d H / d logits_j = -p_j (log p_j + H),
// with torch's conventions where the loss has kinks (min and max split the gradient evenly on a
// tie; clamp passes it at its bounds), so it equals the operator path to float rounding.

#include <torch/torch.h>

#include "agents/losses.h"

namespace rimlab::agents {

struct LossInputs {
  torch::Tensor logits;     ///< [..., A] float32, with autograd history
  torch::Tensor value;      ///< [...] float32, with autograd history
  torch::Tensor actions;    ///< [...] int64
  torch::Tensor log_probs;  ///< [...] the acting policy's log-probabilities
  torch::Tensor values;     ///< [...] the acting policy's values (for value clipping)
  torch::Tensor advantages, returns;
  torch::Tensor mask;  ///< [...] 1 on decision rows, 0 elsewhere
};

/// True when FusedActorCriticLoss handles these tensors (float32 on the CPU).
bool FusedLossSupported(const LossInputs& in);

/// The loss `ChunkLoss` minimises, with its logged terms. Means over decision rows divide by
/// `rows` when it is > 0, else by the mask's count (at least 1). Advantages are used as given.
MinibatchLoss FusedActorCriticLoss(const LossInputs& in, const LossOptions& options,
                                   double rows = 0.0);

/// The same loss written operator by operator (any dtype or device): the reference the fused
/// node is tested against, and the path for what it does not handle.
MinibatchLoss OperatorActorCriticLoss(const LossInputs& in, const LossOptions& options,
                                      double rows = 0.0);

}  // namespace rimlab::agents
