#pragma once
/// The one environment interface that agents, the actor pool, recordings and the viewer share.

#include <cstdint>
#include <memory>
#include <string>

#include "envs/core/frame.h"
#include "envs/core/spec.h"
#include "envs/core/timestep.h"

namespace rimlab {

/// A single environment instance. Not thread-safe: the actor pool gives each its own thread at a
/// time. Implementations write observations into the caller's buffers and must not allocate per
/// step in the steady state.
class Environment {
 public:
  virtual ~Environment() = default;

  virtual const EnvSpec& Spec() const = 0;

  /// Restarts the episode generator from `seed`: the same seed gives the same sequence of
  /// episodes and, with the same actions, the same trajectory.
  virtual void Seed(uint64_t seed) = 0;

  /// Starts a new episode and writes its first observation. Returns a FIRST step.
  virtual TimeStep Reset(const ObsRef& obs) = 0;

  /// Advances one step. Calling Step after a LAST step without a Reset throws std::logic_error;
  /// the actor pool resets automatically instead.
  virtual TimeStep Step(const Action& action, const ObsRef& obs) = 0;

  /// Draws the full state (not just the agent's view) into `frame`, resizing it.
  virtual void Render(Frame* frame) const = 0;

  /// The agent's own view drawn from one of its observations (MiniGrid's get_obs_render), as
  /// `rows` x `cols` tiles of `tile` pixels, resizing `frame`. When the policy's encoder hands its
  /// core a set of rows * cols elements, element m is the tile at column m % cols, row m / cols,
  /// so the viewer draws the core's attention over these tiles. Envs without such a view return
  /// false and leave `frame` alone.
  virtual bool RenderView(const Observation& obs, int tile, Frame* frame, int* rows,
                          int* cols) const {
    (void)obs, (void)tile, (void)frame, (void)rows, (void)cols;
    return false;
  }

  /// A human-readable description of the current state (mission, map), for the CLI and debugging.
  virtual std::string Describe() const { return {}; }

  /// Snapshots for exact resume of training runs: SaveState captures everything that decides the
  /// env's future (episode state, step counter, RNG); LoadState on an env made with the same
  /// options makes it continue bit for bit as the saved one would have. The bytes are opaque and
  /// portable only between builds of the same version. LoadState throws std::invalid_argument on
  /// bytes it cannot read (truncated, another env's). The defaults throw std::logic_error.
  virtual std::string SaveState() const;
  virtual void LoadState(const std::string& bytes);
};

}  // namespace rimlab
