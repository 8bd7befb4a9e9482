// Registers the bouncing-balls tasks with the env registry.
#include "envs/balls/touch.h"
#include "envs/registry.h"

namespace rimlab {

void RegisterBallsEnvs(Registry* registry) {
  registry->Add({"balls_touch",
                 "steer into the ball of the border's colour among bouncing balls (Box2D); "
                 "splits train, more, faster, novel",
                 balls::TouchSplits(), [](const Params& p) -> std::unique_ptr<Environment> {
                   return balls::MakeTouch(balls::TouchOptionsFromParams(p));
                 }});
}

}  // namespace rimlab
