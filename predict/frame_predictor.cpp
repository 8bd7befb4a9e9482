#include "predict/frame_predictor.h"

namespace rimlab::predict {

FramePredictorOptions FramePredictorOptionsFrom(const Params& model, const Params& core) {
  ParamReader r(model, "model");
  FramePredictorOptions o;
  o.image_size = r.Int("image_size", o.image_size, 16, 1024);
  if (o.image_size % 16 != 0) {
    throw OptionError("model", "image_size", "must be a multiple of 16 (four stride-2 layers)");
  }
  o.conv_channels = r.Int("conv_channels", o.conv_channels, 1, 1024);
  o.encoder_size = r.Int("encoder_size", o.encoder_size, 1, 1 << 16);
  o.set_input = r.Bool("set_input", o.set_input);
  r.Finish();
  o.core = models::CoreOptionsFromParams(core);
  return o;
}

FramePredictorImpl::FramePredictorImpl(FramePredictorOptions options_) : options(options_) {
  const auto& o = options;
  encoder = register_module("encoder", models::FrameEncoder(models::FrameEncoderOptions(1)
                                                                .image_size(o.image_size)
                                                                .conv_channels(o.conv_channels)
                                                                .set_output(o.set_input)
                                                                .output_size(o.encoder_size)));
  core = register_module("core",
                         models::MakeCore(o.core, encoder->element_size(), encoder->set_size()));
  decoder = register_module("decoder",
                            models::FrameDecoder(models::FrameDecoderOptions(core->output_size(), 1)
                                                     .image_size(o.image_size)
                                                     .conv_channels(o.conv_channels)));
}

torch::Tensor FramePredictorImpl::Forward(const torch::Tensor& frames, models::State* state,
                                          models::CoreInfo* info) {
  TORCH_CHECK(frames.dim() == 4 && frames.size(2) == options.image_size &&
                  frames.size(3) == options.image_size,
              "FramePredictor: expected frames [T, B, ", options.image_size, ", ",
              options.image_size, "], got ", frames.sizes());
  const int64_t t = frames.size(0), b = frames.size(1), s = options.image_size;
  // The convolutions see every frame of every sequence at once; only the core is sequential.
  torch::Tensor x = encoder->forward(frames.reshape({t * b, 1, s, s}));
  x = options.set_input ? x.view({t, b, x.size(1), x.size(2)}) : x.view({t, b, x.size(1)});
  models::UnrollOutput out = core->Unroll(x, *state, torch::Tensor());
  *state = out.state;
  if (info != nullptr) *info = out.info;
  return decoder->forward(out.outputs.reshape({t * b, out.outputs.size(2)})).view({t, b, s, s});
}

int64_t FramePredictorImpl::NumParameters() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace rimlab::predict
