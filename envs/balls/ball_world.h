#pragma once
// Bouncing balls in a closed box on Box2D 2.4: the world of the RIM paper's prediction
// experiment (Relational-NEM's balls4mass / balls678mass / balls3curtain) and of the RL tasks
// among the balls. No gravity, no friction, every contact fully elastic (restitution 1 at every
// speed), a fixed time step with sub-steps. Deterministic for a seed: the same seed gives the
// same positions bit for bit, on every run and thread.
//
// Units: the box is `box_size` wide and high (Box2D's metres); positions have the origin at the
// box's lower-left corner and y up.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

class b2Body;
class b2World;

namespace rimlab::balls {

struct BallWorldOptions {
  int min_balls = 4, max_balls = 4;              ///< the count is drawn per Reset in [min, max]
  float box_size = 10.0f;                        ///< side of the square box
  float min_radius = 0.6f, max_radius = 0.6f;    ///< per ball, uniform
  float min_density = 1.0f, max_density = 1.0f;  ///< per ball, uniform: mass = density * pi r^2
  float min_speed = 2.0f, max_speed = 4.0f;  ///< initial speed per ball, uniform; random heading
  float frame_time = 1.0f / 10.0f;           ///< simulated time per Step
  int substeps = 8;                          ///< Box2D steps per Step
  int velocity_iterations = 8, position_iterations = 3;
};

/// What one ball is now.
struct Ball {
  float x = 0, y = 0;    ///< centre
  float vx = 0, vy = 0;  ///< velocity
  float radius = 0, mass = 0;
};

/// A ball to place: what ResetWith takes.
struct BallSpec {
  float x = 0, y = 0, vx = 0, vy = 0;
  float radius = 1, density = 1;
};

/// Throws std::invalid_argument for options that cannot make a world (naming the option).
void CheckOptions(const BallWorldOptions& options);

class BallWorld {
 public:
  explicit BallWorld(BallWorldOptions options);
  ~BallWorld();
  BallWorld(const BallWorld&) = delete;
  BallWorld& operator=(const BallWorld&) = delete;

  /// A fresh world for `seed`: the ball count, radii, masses, non-overlapping positions inside
  /// the box and velocities are all drawn from it.
  void Reset(uint64_t seed);
  /// A world with exactly these balls (inside the box, not overlapping: checked).
  void ResetWith(const std::vector<BallSpec>& balls);
  /// Advances frame_time (substeps Box2D steps).
  void Step();

  int num_balls() const { return static_cast<int>(bodies_.size()); }
  Ball GetBall(int i) const;
  std::vector<Ball> Balls() const;
  /// Sum of m v^2 / 2 over the balls.
  double KineticEnergy() const;
  /// Sets ball i's velocity (the RL tasks push an agent ball).
  void SetVelocity(int i, float vx, float vy);
  /// Pairs of balls in contact after the last Step (touching or overlapping).
  std::vector<std::pair<int, int>> Contacts() const;
  /// Pairs of balls (i < j) that touched at any sub-step of the last Step, in first-touch order:
  /// an elastic bounce can begin and end within one Step, which Contacts() would miss.
  const std::vector<std::pair<int, int>>& TouchedDuringStep() const { return touched_; }
  const BallWorldOptions& options() const { return options_; }

 private:
  /// Calls on(i, j), i < j, for each pair of balls touching now; allocates nothing.
  template <typename On>
  void ForEachTouching(On on) const;

  BallWorldOptions options_;
  std::unique_ptr<b2World> world_;
  std::vector<b2Body*> bodies_;  // owned by world_
  std::vector<float> radii_;
  std::vector<std::pair<int, int>> touched_;
};

}  // namespace rimlab::balls
