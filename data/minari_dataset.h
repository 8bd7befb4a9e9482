#pragma once
/// Datasets of whole episodes in Minari's HDF5 layout, so that `minari` (and anything that walks
/// its files with h5py) reads what `rimlab collect` records, and rimlab reads Minari's datasets
/// of its own envs:
///
///   DIR/data/main_data.hdf5   episode_{id}/ with attributes id, seed, total_steps and datasets
///                             observations/{field} (steps + 1 rows, the reset observation
///                             first), actions, rewards (float64), terminations, truncations
///                             (bool), an empty infos/ group, and action_probs (float32, steps x
///                             actions: the behaviour policy's probabilities, which Minari's
///                             loader skips)
///   DIR/data/metadata.json    total_episodes, total_steps, data_format, the spaces serialised
///                             as Minari's serialize_space writes them, and where the data came
///                             from (env, options, split, seed, policy, epsilon)

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/hdf5_file.h"
#include "envs/core/spec.h"

namespace rimlab::minari {

/// One recorded episode, observations in the env's own layout (ObservationSpec order and dtypes).
struct Episode {
  int64_t id = 0;
  int64_t seed = 0;
  /// Per observation field: (steps + 1) rows of that field's bytes.
  std::vector<std::vector<uint8_t>> observations;
  std::vector<int64_t> actions;
  std::vector<double> rewards;
  std::vector<uint8_t> terminations, truncations;  ///< 0 or 1
  std::vector<float> action_probs;                 ///< steps x actions, or empty
  int64_t steps() const { return static_cast<int64_t>(actions.size()); }
};

/// The observation space as Minari's serialize_space writes it: a Dict over the fields in sorted
/// order (as gymnasium orders a Dict); a one-element integer field is a Discrete, any other a Box.
/// uint8 Boxes are declared over 0..255, as MiniGrid declares its image.
std::string SerializeObservationSpace(const ObservationSpec& spec);
/// Discrete(n) for discrete actions, a float32 Box otherwise.
std::string SerializeActionSpace(const ActionSpec& spec);

/// Where the episodes came from, for metadata.json.
struct Provenance {
  std::string dataset_id;      ///< default: the directory's name
  std::string env_name;        ///< the registry name
  nlohmann::json env_options;  ///< the config's env section
  std::string split;
  std::string algorithm_name;  ///< "random" or the policy's algorithm
  std::string policy;          ///< the checkpoint, when a trained policy acted
  double epsilon = 0.0;
  uint64_t seed = 0;
};

/// Writes episodes into DIR. Create refuses a directory that already holds a dataset; Append adds
/// to one whose env and spaces are the same (ids continue, the metadata keeps a list of the
/// collections). metadata.json is rewritten atomically after every episode, so a killed
/// collection leaves a dataset that opens with every episode written so far.
class Writer {
 public:
  static Writer Create(const std::string& dir, const EnvSpec& spec, const Provenance& provenance);
  static Writer Append(const std::string& dir, const EnvSpec& spec, const Provenance& provenance);

  /// Writes `episode` as the next id (its own id is ignored). Throws h5::Error on shapes that
  /// do not match the spec.
  void Add(const Episode& episode);
  int64_t total_episodes() const { return total_episodes_; }
  int64_t total_steps() const { return total_steps_; }
  const std::string& file() const { return file_; }

 private:
  Writer(std::string dir, const EnvSpec& spec, nlohmann::json metadata, h5::Group root);
  void WriteMetadata() const;

  std::string dir_, file_;
  EnvSpec spec_;
  nlohmann::json metadata_;
  std::unique_ptr<h5::Group> root_;
  int64_t total_episodes_ = 0, total_steps_ = 0;
};

/// One observation field as a dataset stores it.
struct StoredField {
  std::string name;
  std::vector<int64_t> shape;  ///< per row; empty for a Discrete
  std::string dtype;           ///< numpy's name: uint8, int32, int64, float32
  bool discrete = false;
};

/// Reads a dataset written by Writer or by Minari. Every failure is an h5::Error naming the file
/// and the object (exit 2 from the CLI).
class Reader {
 public:
  /// DIR or DIR/data. Reads metadata.json and checks that the HDF5 file opens.
  explicit Reader(const std::string& dir);

  const nlohmann::json& metadata() const { return metadata_; }
  int64_t total_episodes() const { return total_episodes_; }
  int64_t total_steps() const { return total_steps_; }
  const std::vector<StoredField>& fields() const { return fields_; }
  int num_actions() const { return num_actions_; }
  const std::string& file() const { return file_; }

  /// Throws unless the dataset's observation and action spaces are the ones `spec` serialises to.
  void CheckMatches(const EnvSpec& spec) const;
  /// Episode `id`, its observations converted to `spec`'s layout, every shape, type and count
  /// checked against the metadata and the spaces.
  Episode Read(int64_t id, const ObservationSpec& spec) const;
  /// Checks that the file holds exactly total_episodes episodes whose steps add up to
  /// total_steps, each with consistent shapes.
  void Validate(const ObservationSpec& spec) const;

 private:
  std::string data_dir_, file_;
  nlohmann::json metadata_;
  int64_t total_episodes_ = 0, total_steps_ = 0;
  std::vector<StoredField> fields_;
  int num_actions_ = 0;
  std::unique_ptr<h5::Group> root_;
};

}  // namespace rimlab::minari
