#include "store/db.h"

#include <fmt/format.h>

#include "util/error.h"

namespace dlb::store {

namespace {

// A file name as an SQLite URI path: '%', '?' and '#' percent-encoded.
std::string UriPath(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

bool Damaged(int code) {
  code &= 0xff;
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

}  // namespace

std::string RecoveryHint(const std::string& path) {
  return fmt::format("{} is damaged (or is not an SQLite database) and was not changed; recover "
                     "what it still holds with `sqlite3 {} .recover | sqlite3 recovered.db`, or use "
                     "another --db",
                     path, path);
}

Db::Db(const std::string& path, OpenMode mode) : path_(path) {
  sqlite3* raw = nullptr;
  std::string name = path;
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case OpenMode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case OpenMode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = "file:" + UriPath(path) + "?mode=ro";
      break;
    case OpenMode::kImmutable:
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = "file:" + UriPath(path) + "?mode=ro&immutable=1";
      break;
    case OpenMode::kMemory:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY;
      name = ":memory:";
      break;
  }
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw EnvError(fmt::format("cannot open database {}: {}", path, msg));
  }
  sqlite3_busy_timeout(raw, 10'000);
  sqlite3_extended_result_codes(raw, 1);
}

void Db::Fail(std::string_view what) const {
  std::string msg = fmt::format("database {}: {}: {}", path_, what, sqlite3_errmsg(db_.get()));
  if (Damaged(sqlite3_extended_errcode(db_.get()))) msg += "; " + RecoveryHint(path_);
  throw EnvError(msg);
}

void Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    if (Damaged(rc)) msg += "; " + RecoveryHint(path_);
    throw EnvError(fmt::format("database {}: {}", path_, msg));
  }
}

Stmt Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    Fail(fmt::format("cannot prepare \"{}\"", sql.substr(0, 60)));
  }
  return Stmt(*this, stmt);
}

Stmt& Stmt::Bind(int i, int64_t v) {
  if (sqlite3_bind_int64(stmt_.get(), i, v) != SQLITE_OK) db_->Fail("bind");
  return *this;
}

Stmt& Stmt::Bind(int i, double v) {
  if (sqlite3_bind_double(stmt_.get(), i, v) != SQLITE_OK) db_->Fail("bind");
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  if (sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK) {
    db_->Fail("bind");
  }
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  if (sqlite3_bind_null(stmt_.get(), i) != SQLITE_OK) db_->Fail("bind");
  return *this;
}

Stmt& Stmt::BindColumn(int i, const Stmt& from, int col) {
  if (sqlite3_bind_value(stmt_.get(), i, sqlite3_column_value(from.stmt_.get(), col)) != SQLITE_OK) {
    db_->Fail("bind");
  }
  return *this;
}

bool Stmt::Step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->Fail("step");
}

void Stmt::Run() {
  while (Step()) {
  }
  Reset();
}

void Stmt::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::string Stmt::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_.get(), col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), col)))
           : std::string();
}

std::optional<int64_t> Stmt::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::optional<double> Stmt::OptDouble(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Double(col);
}

std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

Transaction::Transaction(Db& db) : db_(db) { db_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) {
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::Commit() {
  db_.Exec("COMMIT");
  done_ = true;
}

}  // namespace dlb::store
