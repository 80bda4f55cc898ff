#include "store/merge.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "store/query.h"
#include "store/schema.h"
#include "util/error.h"
#include "util/strings.h"

namespace dlb::store {
namespace {

// What a run holds, in numbers: two copies of one run_uuid are the same run only if these agree.
struct Content {
  std::string status, finished_at;
  int64_t cells = 0, repetitions = 0, samples = 0;
  bool operator==(const Content&) const = default;
  std::string Describe() const {
    return fmt::format("{}, {} cells, {} repetitions, {} samples", status, cells, repetitions, samples);
  }
};

Content ContentOf(Db& db, const RunRow& r) {
  Content c{r.status, r.finished_at.value_or(""), r.cells, 0, 0};
  Stmt s = db.Prepare(
      "SELECT COUNT(*), (SELECT COUNT(*) FROM samples s JOIN repetitions p USING (repetition_id) "
      "JOIN cells c USING (cell_id) WHERE c.run_id = ?1) "
      "FROM repetitions p JOIN cells c USING (cell_id) WHERE c.run_id = ?1");
  s.Bind(1, r.run_id);
  s.Step();
  c.repetitions = s.Int(0);
  c.samples = s.Int(1);
  return c;
}

struct Candidate {
  std::string file;
  size_t source = 0;  // index into the opened sources
  RunRow run;
  Content content;
};

std::string Where(const Candidate& c) {
  return fmt::format("run {} in {}{}", c.run.run_id, c.file,
                     c.run.merged_from ? " (merged from " + *c.run.merged_from + ")" : "");
}

std::string ShardName(const RunRow& r) {
  return fmt::format("shard {}/{} of sweep {}", r.shard_index, r.shard_count, r.sweep_id);
}

std::vector<std::string> ColumnsOf(Db& db, std::string_view table) {
  Stmt s = db.Prepare(fmt::format("SELECT name FROM pragma_table_info('{}') ORDER BY cid", table));
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

// Copies the rows of `table` whose `key` is old_key, giving them new_key; `id` (when not empty) is
// the table's own integer key, left for the target to assign. Returns (old id, new id) pairs.
std::vector<std::pair<int64_t, int64_t>> CopyRows(Db& src, Db& dst, std::string_view table,
                                                  std::string_view id, std::string_view key,
                                                  int64_t old_key, int64_t new_key) {
  std::vector<std::string> columns;
  for (auto& c : ColumnsOf(dst, table)) {
    if (c != id) columns.push_back(std::move(c));
  }
  const std::string list = Join(columns, ", ");
  std::string marks;
  for (size_t i = 0; i < columns.size(); ++i) marks += i ? ", ?" : "?";
  Stmt sel = src.Prepare(fmt::format("SELECT {}{} FROM {} WHERE {} = ? ORDER BY rowid",
                                     id.empty() ? "" : std::string(id) + ", ", list, table, key));
  Stmt ins = dst.Prepare(fmt::format("INSERT INTO {} ({}) VALUES ({})", table, list, marks));
  const int offset = id.empty() ? 0 : 1;
  sel.Bind(1, old_key);
  std::vector<std::pair<int64_t, int64_t>> ids;
  while (sel.Step()) {
    for (size_t i = 0; i < columns.size(); ++i) {
      const int param = static_cast<int>(i) + 1;
      if (columns[i] == key && key != id) {
        ins.Bind(param, new_key);
      } else {
        ins.BindColumn(param, sel, static_cast<int>(i) + offset);
      }
    }
    ins.Run();
    if (!id.empty()) ids.push_back({sel.Int(0), dst.LastInsertId()});
  }
  return ids;
}

int64_t CopyRun(Db& src, Db& dst, const Candidate& c) {
  auto runs = CopyRows(src, dst, "runs", "run_id", "run_id", c.run.run_id, 0);
  DLB_CHECK(runs.size() == 1) << "run " << c.run.run_id << " vanished while merging";
  const int64_t run_id = runs[0].second;
  // A run read as incomplete (its controller is gone) is stored so; the first merge keeps its
  // origin when a merged file is merged again.
  Stmt up = dst.Prepare(
      "UPDATE runs SET status = ?, finished_at = ?, merged_from = COALESCE(merged_from, ?), "
      "merged_at = ? WHERE run_id = ?");
  Binder(up) << c.run.status << c.run.finished_at << c.file << NowIso8601() << run_id;
  up.Run();
  for (auto [old_cell, new_cell] : CopyRows(src, dst, "cells", "cell_id", "run_id", c.run.run_id, run_id)) {
    for (auto [old_rep, new_rep] :
         CopyRows(src, dst, "repetitions", "repetition_id", "cell_id", old_cell, new_cell)) {
      for (std::string_view t : kRepetitionTables) {
        CopyRows(src, dst, t, "", "repetition_id", old_rep, new_rep);
      }
    }
  }
  CopyRows(src, dst, "validations", "validation_id", "run_id", c.run.run_id, run_id);
  return run_id;
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

MergeSummary MergeFiles(Store& target, const std::vector<std::string>& sources) {
  Db& dst = target.db();
  std::vector<Store> opened;
  std::vector<Candidate> candidates;
  for (const auto& file : sources) {
    if (SameFile(file, dst.path())) {
      throw UserError(fmt::format("{} is the database being merged into; name it once, first", file));
    }
    opened.push_back(Store::OpenExisting(file));
    for (auto& r : ListRuns(opened.back().db())) {
      Content content = ContentOf(opened.back().db(), r);
      candidates.push_back({file, opened.size() - 1, std::move(r), std::move(content)});
    }
  }
  // Shards in shard order, then everything else by start: the same run ids whatever the files'
  // order.
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.run.sweep_id, a.run.shard_index, a.run.started_at, a.run.run_uuid) <
           std::tie(b.run.sweep_id, b.run.shard_index, b.run.started_at, b.run.run_uuid);
  });

  // What the target holds already, as candidates (file = the target).
  std::map<std::string, Candidate> by_uuid;
  std::map<std::pair<std::string, int64_t>, Candidate> by_shard;
  std::map<std::string, int64_t> shard_count;
  auto shard_key = [](const RunRow& r) { return std::pair{r.sweep_id, r.shard_index}; };
  for (auto& r : ListRuns(dst)) {
    Candidate c{dst.path(), 0, r, ContentOf(dst, r)};
    if (!r.sweep_id.empty()) {
      by_shard.emplace(shard_key(r), c);
      shard_count.emplace(r.sweep_id, r.shard_count);
    }
    by_uuid.emplace(r.run_uuid, std::move(c));
  }

  MergeSummary summary;
  std::vector<const Candidate*> to_add;
  for (const auto& c : candidates) {
    const RunRow& r = c.run;
    if (auto it = by_uuid.find(r.run_uuid); it != by_uuid.end()) {
      if (!(it->second.content == c.content)) {
        throw UserError(fmt::format(
            "run {} is {} ({}) and {} ({}): two different versions of one run; merge only the one "
            "to keep",
            r.run_uuid, Where(it->second), it->second.content.Describe(), Where(c), c.content.Describe()));
      }
      ++summary.runs_already_there;
      summary.lines.push_back(fmt::format("{} (uuid {}): already there as {}", Where(c), r.run_uuid,
                                          Where(it->second)));
      continue;
    }
    if (!r.sweep_id.empty()) {
      if (auto it = by_shard.find(shard_key(r)); it != by_shard.end()) {
        throw UserError(fmt::format(
            "{} is both {} (uuid {}, {}) and {} (uuid {}, {}); a shard that ran twice must be "
            "merged once: leave the other file out",
            ShardName(r), Where(it->second), it->second.run.run_uuid, it->second.content.Describe(),
            Where(c), r.run_uuid, c.content.Describe()));
      }
      if (auto [it, fresh] = shard_count.emplace(r.sweep_id, r.shard_count);
          !fresh && it->second != r.shard_count) {
        throw UserError(fmt::format("sweep {} has shards of {} and of {} parts ({}); they are not "
                                    "parts of one whole",
                                    r.sweep_id, it->second, r.shard_count, Where(c)));
      }
      by_shard.emplace(shard_key(r), c);
    }
    by_uuid.emplace(r.run_uuid, c);
    to_add.push_back(&c);
  }

  Transaction txn(dst);
  for (const Candidate* c : to_add) {
    const int64_t id = CopyRun(opened[c->source].db(), dst, *c);
    ++summary.runs_added;
    summary.lines.push_back(fmt::format("{} (uuid {}{}, host {}): added as run {}", Where(*c),
                                        c->run.run_uuid,
                                        c->run.sweep_id.empty() ? "" : ", " + ShardName(c->run),
                                        c->run.host, id));
    if (c->run.status != "complete") {
      summary.warnings.push_back(fmt::format("{} is {}: its cells hold what finished before it stopped",
                                             Where(*c), c->run.status));
    }
  }
  txn.Commit();

  // Sweeps that are still missing shards.
  std::map<std::string, std::set<int64_t>> present;
  for (const auto& [key, c] : by_shard) present[key.first].insert(key.second);
  for (const auto& [sweep, shards] : present) {
    const int64_t n = shard_count[sweep];
    if (static_cast<int64_t>(shards.size()) < n) {
      std::vector<std::string> missing;
      for (int64_t i = 0; i < n; ++i) {
        if (!shards.count(i)) missing.push_back(std::to_string(i));
      }
      summary.warnings.push_back(fmt::format("sweep {}: {} of {} shards merged so far; missing {}",
                                             sweep, shards.size(), n, Join(missing, ", ")));
    }
  }
  return summary;
}

}  // namespace dlb::store
