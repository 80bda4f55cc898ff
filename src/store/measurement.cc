#include "store/measurement.h"

#include <span>
#include <variant>

namespace dlb::store {
namespace {

// The series' samples, one row each, to `samples` (its figures are in the repetition's row, which
// Store::AddRepetition writes).
void InsertSeries(Db& db, int64_t repetition_id, const result::TimedSeries& t) {
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
  Stmt c = db.Prepare(
      "INSERT INTO chunks (repetition_id, chunk_idx, phase, wall_ns, other_cpu_frac, steal_frac, "
      "minor_faults, contaminated, excluded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (size_t i = 0; i < t.chunks.size(); ++i) {
    const result::SampleChunk& k = t.chunks[i];
    c.Bind(1, repetition_id);
    c.Bind(2, static_cast<int64_t>(i));
    c.Bind(3, k.phase);
    c.Bind(4, k.wall_ns);
    c.Bind(5, k.other_cpu_frac);
    c.Bind(6, k.steal_frac);
    c.Bind(7, k.minor_faults);
    c.Bind(8, static_cast<int64_t>(k.contaminated));
    c.Bind(9, static_cast<int64_t>(k.excluded));
    c.Step();
    c.Reset();
  }
}

// A repetition's request traces and their chunks (the tables requests and token_chunks).
void InsertRequests(Db& db, int64_t repetition_id, std::span<const result::RequestTrace> requests) {
  Stmt r = db.Prepare(
      "INSERT INTO requests (repetition_id, request_idx, is_warmup, status, error, input_tokens, "
      "output_tokens_requested, due_ns, sent_ns, done_ns, token_source, usage_output_tokens, "
      "usage_input_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Stmt c = db.Prepare(
      "INSERT INTO token_chunks (repetition_id, request_idx, chunk_idx, arrival_ns, tokens) "
      "VALUES (?, ?, ?, ?, ?)");
  for (const result::RequestTrace& t : requests) {
    Binder(r) << repetition_id << t.index << static_cast<int64_t>(t.warmup)
              << t.status << (t.error.empty() ? std::nullopt : std::optional<std::string>(t.error))
              << t.input_tokens << t.output_tokens_requested << t.due_ns << t.sent_ns << t.done_ns
              << t.token_source << t.usage_output_tokens << t.usage_input_tokens;
    r.Run();
    for (size_t k = 0; k < t.chunks.size(); ++k) {
      c.Bind(1, repetition_id);
      c.Bind(2, t.index);
      c.Bind(3, static_cast<int64_t>(k));
      c.Bind(4, t.chunks[k].arrival_ns);
      c.Bind(5, static_cast<int64_t>(t.chunks[k].tokens));
      c.Step();
      c.Reset();
    }
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

// The samples, each one whole generate, and each call's trace: request i is sample i, warm-up alike
// (the run flags the warm-up calls' traces when it ends the warm-up).
void Insert(Db& db, int64_t repetition_id, const result::GenerationMeasurement& m) {
  InsertSeries(db, repetition_id, m.calls);
  InsertRequests(db, repetition_id, m.requests);
}

}  // namespace

void InsertMeasurement(Db& db, int64_t repetition_id, const result::Measurement& m) {
  std::visit([&](const auto& payload) { Insert(db, repetition_id, payload); }, m);
}

}  // namespace dlb::store
