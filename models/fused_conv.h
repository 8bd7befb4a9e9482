#pragma once
// rl-starter-files' image network on a uint8 [B, H, W, 3] view (2x2 conv, ReLU, 2x2 max-pool,
// 2x2 conv, ReLU, 2x2 conv, ReLU), forward and backward, as one autograd node.
//
// Why: on a 7x7 view these layers are about 23,000 multiply-adds per image, yet oneDNN's
// convolution and pooling primitives, with the permute and the uint8-to-float conversion before
// them, took about 2 ms of a 6 ms PPO minibatch of 256 rows (forward and backward): set-up and
// dispatch, not arithmetic. Here each convolution is one matrix product over 2x2 patches gathered
// straight from the NHWC view (im2col), each way, and pooling and ReLU are one loop.

#include <torch/torch.h>

namespace rimlab::models {

/// True when FusedGridConv handles these tensors: a uint8 [B, H, W, 3] image with H, W >= 7 and
/// float32 CPU weights of shapes [C1, 3, 2, 2], [C2, C1, 2, 2], [C3, C2, 2, 2].
bool FusedGridConvSupported(const torch::Tensor& image, const torch::Tensor& w1,
                            const torch::Tensor& w2, const torch::Tensor& w3);

/// Returns [B, C3 * H3 * W3] with H3 = (H - 1) / 2 - 2 (and W3 likewise), in the order torch
/// flattens an NCHW map. Differentiable in the weights and biases (an image has no gradient);
/// equals the torch::nn layers to float rounding, max-pool ties included (the first maximum in
/// row-major order takes the gradient, as torch's max_pool2d does).
torch::Tensor FusedGridConv(const torch::Tensor& image, const torch::Tensor& w1,
                            const torch::Tensor& b1, const torch::Tensor& w2,
                            const torch::Tensor& b2, const torch::Tensor& w3,
                            const torch::Tensor& b3);

}  // namespace rimlab::models
