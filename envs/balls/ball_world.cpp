#include "envs/balls/ball_world.h"

#include <box2d/box2d.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "common/rng.h"

namespace rimlab::balls {

namespace {

constexpr float kPi = 3.14159265358979f;

void Require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("balls: " + what);
}

/// Fully elastic at every speed: Box2D's default threshold (1 m/s) makes slow contacts inelastic,
/// which would drain the energy of slow balls.
void MakeElastic(b2FixtureDef* def) {
  def->friction = 0.0f;
  def->restitution = 1.0f;
  def->restitutionThreshold = 0.0f;
}

}  // namespace

template <typename On>
void BallWorld::ForEachTouching(On on) const {
  if (world_ == nullptr) return;
  for (b2Contact* c = world_->GetContactList(); c != nullptr; c = c->GetNext()) {
    if (!c->IsTouching()) continue;
    const uintptr_t a = c->GetFixtureA()->GetBody()->GetUserData().pointer;
    const uintptr_t b = c->GetFixtureB()->GetBody()->GetUserData().pointer;
    if (a == 0 || b == 0) continue;  // a wall
    const int ia = static_cast<int>(a) - 1, ib = static_cast<int>(b) - 1;
    on(std::min(ia, ib), std::max(ia, ib));
  }
}

void CheckOptions(const BallWorldOptions& o) {
  Require(o.min_balls >= 1 && o.max_balls >= o.min_balls,
          "min_balls must be at least 1 and max_balls at least min_balls (got " +
              std::to_string(o.min_balls) + ", " + std::to_string(o.max_balls) + ")");
  Require(o.box_size > 0.0f, "box_size must be positive");
  Require(o.min_radius > 0.0f && o.max_radius >= o.min_radius,
          "min_radius must be positive and max_radius at least min_radius");
  Require(2.0f * o.max_radius < o.box_size, "a ball of max_radius must fit in the box");
  Require(o.min_density > 0.0f && o.max_density >= o.min_density,
          "min_density must be positive and max_density at least min_density");
  Require(o.min_speed >= 0.0f && o.max_speed >= o.min_speed,
          "min_speed must be non-negative and max_speed at least min_speed");
  Require(o.frame_time > 0.0f && o.substeps >= 1, "frame_time must be positive, substeps >= 1");
  Require(o.velocity_iterations >= 1 && o.position_iterations >= 1,
          "velocity_iterations and position_iterations must be at least 1");
  // Box2D caps a body's translation per step (b2_maxTranslation): faster balls would be slowed.
  Require(o.max_speed * o.frame_time / static_cast<float>(o.substeps) < 0.5f * b2_maxTranslation,
          "max_speed * frame_time / substeps must stay under half of Box2D's b2_maxTranslation");
}

BallWorld::BallWorld(BallWorldOptions options) : options_(options) {
  CheckOptions(options_);
}

BallWorld::~BallWorld() = default;

void BallWorld::Reset(uint64_t seed) {
  const auto& o = options_;
  Rng rng(seed);
  const int count = rng.UniformInt(o.min_balls, o.max_balls + 1);
  std::vector<BallSpec> specs;
  for (int i = 0; i < count; ++i) {
    BallSpec b;
    b.radius = static_cast<float>(rng.Uniform(o.min_radius, o.max_radius));
    b.density = static_cast<float>(rng.Uniform(o.min_density, o.max_density));
    // Rejection sampling for a free spot; the options may ask for more balls than fit.
    bool placed = false;
    for (int attempt = 0; attempt < 10000 && !placed; ++attempt) {
      b.x = static_cast<float>(rng.Uniform(b.radius, o.box_size - b.radius));
      b.y = static_cast<float>(rng.Uniform(b.radius, o.box_size - b.radius));
      placed = true;
      for (size_t j = 0; j < specs.size() && placed; ++j) {
        const float gap = b.radius + specs[j].radius + 0.05f * o.min_radius;
        const float dx = b.x - specs[j].x, dy = b.y - specs[j].y;
        placed = dx * dx + dy * dy > gap * gap;
      }
    }
    Require(placed, std::to_string(count) + " balls of radius up to " +
                        std::to_string(o.max_radius) + " do not fit in a box of " +
                        std::to_string(o.box_size));
    const float speed = static_cast<float>(rng.Uniform(o.min_speed, o.max_speed));
    const float heading = static_cast<float>(rng.Uniform(0.0, 2.0 * kPi));
    b.vx = speed * std::cos(heading);
    b.vy = speed * std::sin(heading);
    specs.push_back(b);
  }
  ResetWith(specs);
}

void BallWorld::ResetWith(const std::vector<BallSpec>& balls) {
  const float s = options_.box_size;
  for (size_t i = 0; i < balls.size(); ++i) {
    const auto& b = balls[i];
    Require(b.radius > 0.0f && b.density > 0.0f, "a ball needs a positive radius and density");
    Require(b.x >= b.radius && b.x <= s - b.radius && b.y >= b.radius && b.y <= s - b.radius,
            "ball " + std::to_string(i) + " is not inside the box");
    for (size_t j = 0; j < i; ++j) {
      const float dx = b.x - balls[j].x, dy = b.y - balls[j].y, gap = b.radius + balls[j].radius;
      Require(dx * dx + dy * dy >= gap * gap,
              "balls " + std::to_string(j) + " and " + std::to_string(i) + " overlap");
    }
  }
  world_ = std::make_unique<b2World>(b2Vec2(0.0f, 0.0f));
  bodies_.clear();
  radii_.clear();
  touched_.clear();

  // The box: four two-sided edges on one static body.
  b2BodyDef wall_def;
  b2Body* walls = world_->CreateBody(&wall_def);
  const b2Vec2 corners[4] = {{0.0f, 0.0f}, {s, 0.0f}, {s, s}, {0.0f, s}};
  for (int i = 0; i < 4; ++i) {
    b2EdgeShape edge;
    edge.SetTwoSided(corners[i], corners[(i + 1) % 4]);
    b2FixtureDef def;
    def.shape = &edge;
    MakeElastic(&def);
    walls->CreateFixture(&def);
  }
  for (size_t i = 0; i < balls.size(); ++i) {
    const auto& b = balls[i];
    b2BodyDef def;
    def.type = b2_dynamicBody;
    def.position.Set(b.x, b.y);
    def.linearVelocity.Set(b.vx, b.vy);
    def.fixedRotation = true;  // no friction, so spin would never matter
    def.userData.pointer = static_cast<uintptr_t>(i) + 1;  // 0 is Box2D's "none": the walls
    b2Body* body = world_->CreateBody(&def);
    b2CircleShape circle;
    circle.m_radius = b.radius;
    b2FixtureDef fixture;
    fixture.shape = &circle;
    fixture.density = b.density;
    MakeElastic(&fixture);
    body->CreateFixture(&fixture);
    bodies_.push_back(body);
    radii_.push_back(b.radius);
  }
}

void BallWorld::Step() {
  Require(world_ != nullptr, "Step before Reset");
  const float dt = options_.frame_time / static_cast<float>(options_.substeps);
  touched_.clear();
  for (int i = 0; i < options_.substeps; ++i) {
    world_->Step(dt, options_.velocity_iterations, options_.position_iterations);
    ForEachTouching([this](int a, int b) {
      const std::pair<int, int> pair(a, b);
      if (std::find(touched_.begin(), touched_.end(), pair) == touched_.end()) {
        touched_.push_back(pair);
      }
    });
  }
}

Ball BallWorld::GetBall(int i) const {
  const b2Body* body = bodies_.at(static_cast<size_t>(i));
  const b2Vec2 p = body->GetPosition();
  const b2Vec2 v = body->GetLinearVelocity();
  return {p.x, p.y, v.x, v.y, radii_[static_cast<size_t>(i)], body->GetMass()};
}

std::vector<Ball> BallWorld::Balls() const {
  std::vector<Ball> out;
  out.reserve(bodies_.size());
  for (int i = 0; i < num_balls(); ++i) out.push_back(GetBall(i));
  return out;
}

double BallWorld::KineticEnergy() const {
  double e = 0.0;
  for (const b2Body* body : bodies_) {
    const b2Vec2 v = body->GetLinearVelocity();
    e += 0.5 * static_cast<double>(body->GetMass()) *
         (static_cast<double>(v.x) * v.x + static_cast<double>(v.y) * v.y);
  }
  return e;
}

void BallWorld::SetVelocity(int i, float vx, float vy) {
  bodies_.at(static_cast<size_t>(i))->SetLinearVelocity(b2Vec2(vx, vy));
}

std::vector<std::pair<int, int>> BallWorld::Contacts() const {
  std::vector<std::pair<int, int>> out;
  ForEachTouching([&out](int a, int b) { out.emplace_back(a, b); });
  return out;
}

}  // namespace rimlab::balls
