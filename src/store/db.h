// A thin RAII layer over SQLite's C API: a connection, prepared statements and transactions.
// Every SQLite failure becomes an EnvError naming the database file and SQLite's message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dlb::store {

class Db;

class Stmt {
 public:
  Stmt(Db& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt, &sqlite3_finalize) {}

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& BindNull(int i);
  // Binds column `col` of another statement's current row as it is (type and bytes): for copying
  // rows between databases.
  Stmt& BindColumn(int i, const Stmt& from, int col);
  template <typename T>
  Stmt& Bind(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  bool Step();          // true while a row is available
  void Run();           // Step to completion, then Reset
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  double Double(int col) const { return sqlite3_column_double(stmt_.get(), col); }
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
  std::optional<int64_t> OptInt(int col) const;
  std::optional<double> OptDouble(int col) const;
  std::optional<std::string> OptText(int col) const;

 private:
  Db* db_;
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt_;
};

enum class OpenMode {
  kReadWrite,  // opens or creates the file
  kReadOnly,   // mode=ro: SQLite writes nothing (it may still create the WAL's -shm beside it)
  kImmutable,  // immutable=1: no locks and no -shm, for a file on read-only media
  kMemory,     // an empty in-memory database; `path` only names it in messages
};

class Db {
 public:
  // Opens path as `mode` says. Throws EnvError with the path and SQLite's reason.
  explicit Db(const std::string& path, OpenMode mode = OpenMode::kReadWrite);
  Db(Db&&) = default;

  void Exec(std::string_view sql);
  Stmt Prepare(std::string_view sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_.get()); }
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_.get(); }

  // Throws EnvError naming the file, `what` and SQLite's message; for a damaged file, also how to
  // recover what it holds.
  [[noreturn]] void Fail(std::string_view what) const;

 private:
  std::string path_;
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db_{nullptr, &sqlite3_close_v2};
};

// "PATH is damaged ... and was not changed; recover what it still holds with ..., or use another
// --db".
std::string RecoveryHint(const std::string& path);

// Binds parameters 1, 2, 3, ... in the order they are streamed: `Binder(stmt) << a << b;`.
class Binder {
 public:
  explicit Binder(Stmt& stmt) : stmt_(stmt) {}
  template <typename T>
  Binder& operator<<(const T& v) {
    stmt_.Bind(++index_, v);
    return *this;
  }
  Binder& Null() {
    stmt_.BindNull(++index_);
    return *this;
  }

 private:
  Stmt& stmt_;
  int index_ = 0;
};

// BEGIN IMMEDIATE on construction; rolls back unless Commit() was called.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void Commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace dlb::store
