// Registers the gridworld tasks with the env registry.
#include "envs/grid/tasks/tasks.h"
#include "envs/registry.h"

namespace rimlab {

void RegisterGridEnvs(Registry* registry) {
  registry->Add({"pickup",
                 "MiniGrid Fetch: pick up the object the mission names",
                 {},
                 [](const Params& p) -> std::unique_ptr<Environment> {
                   return grid::MakePickup(grid::PickupOptionsFromParams(p));
                 }});
  registry->Add({"distractors",
                 "pick up the target among distractors; splits train, more, novel, bigger",
                 grid::DistractorSplits(), [](const Params& p) -> std::unique_ptr<Environment> {
                   return grid::MakeDistractors(grid::DistractorsOptionsFromParams(p));
                 }});
  registry->Add({"level",
                 "a hand-written ASCII map with MiniGrid's base rules",
                 {},
                 [](const Params& p) -> std::unique_ptr<Environment> {
                   return grid::MakeLevel(grid::LevelOptionsFromParams(p));
                 }});
}

}  // namespace rimlab
