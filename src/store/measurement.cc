#include "store/measurement.h"

#include <variant>

namespace dlb::store {
namespace {

// The sampler's figures go to the repetition's row; its samples, one row each, to `samples`.
void InsertSeries(Db& db, int64_t repetition_id, const result::TimedSeries& t) {
  Stmt up = db.Prepare(
      "UPDATE repetitions SET warmup_iterations = ?, warmup_settled = ?, n_samples = ?, "
      "converged = ?, stop_reason = ?, median_ns = ?, rel_ci = ?, window_ns = ?, "
      "window_iterations = ?, block_iterations = ?, near_overhead = ? WHERE repetition_id = ?");
  Binder(up) << t.warmup_count << static_cast<int64_t>(t.warmup_settled) << t.steady_count()
             << static_cast<int64_t>(t.converged)
             << (t.stop_reason.empty() ? std::nullopt : std::optional<std::string>(t.stop_reason))
             << t.median_ns << t.rel_ci << t.window_ns << t.window_iterations << t.block_iterations
             << static_cast<int64_t>(t.near_overhead) << repetition_id;
  up.Run();
  Stmt s = db.Prepare(
      "INSERT INTO samples (repetition_id, chunk_idx, iter_idx, is_warmup, wall_ns) "
      "VALUES (?, ?, ?, ?, ?)");
  for (size_t i = 0; i < t.wall_ns.size(); ++i) {
    s.Bind(1, repetition_id);
    s.Bind(2, static_cast<int64_t>(t.chunk_idx[i]));
    s.Bind(3, static_cast<int64_t>(i));
    s.Bind(4, static_cast<int64_t>(static_cast<int64_t>(i) < t.warmup_count));
    s.Bind(5, t.wall_ns[i]);
    s.Step();
    s.Reset();
  }
}

void Insert(Db& db, int64_t repetition_id, const result::InferenceMeasurement& m) {
  InsertSeries(db, repetition_id, m.calls);
}

void Insert(Db& db, int64_t repetition_id, const result::TrainingMeasurement& m) {
  InsertSeries(db, repetition_id, m.steps);
  Stmt s = db.Prepare(
      "INSERT INTO training_epochs (repetition_id, epoch_idx, epoch_ns, train_loss, accuracy) "
      "VALUES (?, ?, ?, ?, ?)");
  for (const auto& e : m.epochs) {
    Binder(s) << repetition_id << e.epoch_idx << e.epoch_ns << e.train_loss << e.accuracy;
    s.Run();
  }
}

// The samples, each one whole generate. The per-call traces (prefill and decode-step times) are
// not stored yet: they need their own table.
void Insert(Db& db, int64_t repetition_id, const result::GenerationMeasurement& m) {
  InsertSeries(db, repetition_id, m.calls);
}

}  // namespace

void InsertMeasurement(Db& db, int64_t repetition_id, const result::Measurement& m) {
  std::visit([&](const auto& payload) { Insert(db, repetition_id, payload); }, m);
}

}  // namespace dlb::store
