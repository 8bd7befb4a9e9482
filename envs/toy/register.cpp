// Registers the toy tasks with the env registry.
#include "envs/registry.h"
#include "envs/toy/toy.h"

namespace rimlab {

void RegisterToyEnvs(Registry* registry) {
  registry->Add({"bandit",
                 "n-armed bandit in one-step episodes: pull the good arm (learning smoke test)",
                 {},
                 [](const Params& p) { return toy::MakeBandit(toy::BanditOptionsFromParams(p)); }});
  registry->Add({"memory",
                 "answer a query with the cue shown `delay` steps earlier (needs recurrence)",
                 {},
                 [](const Params& p) { return toy::MakeMemory(toy::MemoryOptionsFromParams(p)); }});
}

}  // namespace rimlab
