// A stored row described once: each column names its SQL column (or, read only, an expression),
// the member of the row struct it fills, and how the figure leaves the database. The SELECT list
// and the reading loop, the column lists, placeholders and binds of the statements that write the
// row, the JSON and CSV exports and the figure lines of `show` are all generated from one such
// table (query.h declares them), so a column is read, written, exported and shown by name: a figure
// is added in one line, and a column the schema lacks fails the statement instead of shifting every
// later one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "store/db.h"

namespace dlb::store {

template <typename Row>
using Member = std::variant<int64_t Row::*, std::optional<int64_t> Row::*, double Row::*,
                            std::optional<double> Row::*, std::string Row::*,
                            std::optional<std::string> Row::*, bool Row::*>;

// Which statement writes a column.
enum class Written {
  kInsert,  // the INSERT of the row
  kUpdate,  // the UPDATE that rewrites the row's figures (a cell's summary, after each repetition)
  kNever,   // read only: a key SQLite assigns, a computed expression, or a row whose writer binds
            // values of its own (runs: the experiment's)
};

// What a value is, for the exports and for `show`.
enum class Unit {
  kPlain,     // a number or text as stored
  kNs,        // shown as a duration
  kSeconds,   // shown as a duration
  kBytes,     // shown as KiB, MiB, ...
  kFraction,  // shown as a percentage
  kBool,      // stored 0/1: true/false in JSON
  kJson,      // JSON text: exported parsed, as a value of its own
};

// Whether lower or higher is better: what a reader, or a later comparison, takes for "improved".
enum class Better { kNeither, kLower, kHigher };

// How a column leaves the database (store/export.cc, cli/show.cc).
struct Export {
  // Where the JSON export puts it in the row's object: "name", "group.name", or "group.name[i]"
  // for the i-th element of an array; empty: a key or internal value, not exported (and then
  // kInternal below says so, so that no figure is left out by forgetting it).
  std::string_view json = {};
  Unit unit = Unit::kPlain;
  Better better = Better::kNeither;
  // `show` prints "label: value" on a line of its own for it; empty: show words it itself, or not.
  std::string_view label = {};
  // Repetition figures: the cell's CSV and JSON export carry its median over the cell's ok
  // repetitions as the cell figure "<name>_median".
  bool cell_median = false;
  // The cell's CSV has a column of it (cells only; JSON text never).
  bool csv = false;
};
inline constexpr Export kInternal = {};

template <typename Row>
struct Column {
  std::string_view name;  // the column; for an expression, what it is
  Member<Row> member;
  Written written = Written::kInsert;
  std::string_view expr = {};  // read instead of the column (a subquery); never written
  Export out = kInternal;
};

namespace columns_detail {

inline void Read(const Stmt& s, int i, int64_t& v) {
  if (!s.IsNull(i)) v = s.Int(i);
}
inline void Read(const Stmt& s, int i, double& v) {
  if (!s.IsNull(i)) v = s.Double(i);
}
inline void Read(const Stmt& s, int i, std::string& v) {
  if (!s.IsNull(i)) v = s.Text(i);
}
inline void Read(const Stmt& s, int i, bool& v) {
  if (!s.IsNull(i)) v = s.Int(i) != 0;
}
inline void Read(const Stmt& s, int i, std::optional<int64_t>& v) { v = s.OptInt(i); }
inline void Read(const Stmt& s, int i, std::optional<double>& v) { v = s.OptDouble(i); }
inline void Read(const Stmt& s, int i, std::optional<std::string>& v) { v = s.OptText(i); }

template <typename Row>
std::string Joined(std::span<const Column<Row>> columns, Written written, std::string_view suffix) {
  std::string out;
  for (const auto& c : columns) {
    if (c.written != written) continue;
    if (!out.empty()) out += ", ";
    out += c.name;
    out += suffix;
  }
  return out;
}

}  // namespace columns_detail

// The SELECT list of every column, in the table's order; an expression stands in for its column.
template <typename Row>
std::string SelectList(std::span<const Column<Row>> columns) {
  std::string out;
  for (const auto& c : columns) {
    if (!out.empty()) out += ", ";
    out += c.expr.empty() ? c.name : c.expr;
  }
  return out;
}

// The current row of a statement that selected SelectList(columns) first. A NULL leaves a member
// that is not optional at the struct's default (runs.compare_by of old files, for example).
template <typename Row>
void ReadColumns(const Stmt& s, std::span<const Column<Row>> columns, Row& row) {
  for (size_t i = 0; i < columns.size(); ++i) {
    std::visit([&](auto member) { columns_detail::Read(s, static_cast<int>(i), row.*member); },
               columns[i].member);
  }
}

// "a, b, c" and "?, ?, ?": the columns an INSERT writes.
template <typename Row>
std::string ColumnNames(std::span<const Column<Row>> columns, Written written = Written::kInsert) {
  return columns_detail::Joined(columns, written, "");
}
template <typename Row>
std::string Placeholders(std::span<const Column<Row>> columns, Written written = Written::kInsert) {
  std::string out;
  for (const auto& c : columns) {
    if (c.written == written) out += out.empty() ? "?" : ", ?";
  }
  return out;
}
// "a = ?, b = ?": the columns an UPDATE writes.
template <typename Row>
std::string Assignments(std::span<const Column<Row>> columns, Written written = Written::kUpdate) {
  return columns_detail::Joined(columns, written, " = ?");
}

// Binds the row's members of the columns `written` so, in the order of the lists above.
template <typename Row>
void BindColumns(Binder& b, std::span<const Column<Row>> columns, Written written, const Row& row) {
  for (const auto& c : columns) {
    if (c.written != written) continue;
    std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<decltype(row.*member), const bool&>) {
            b << static_cast<int64_t>(row.*member);
          } else {
            b << row.*member;
          }
        },
        c.member);
  }
}

}  // namespace dlb::store
