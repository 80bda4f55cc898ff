// The database schema and its migrations. PRAGMA user_version holds the schema version; each
// migration moves it up by one inside a transaction. A database newer than this dlbench is refused
// rather than misread. docs/storage.md describes every table.
#pragma once

#include "store/db.h"

namespace dlb::store {

inline constexpr int kSchemaVersion = 10;

// The tables that hold one repetition's rows (keyed by repetition_id), besides repetitions itself:
// what a merge copies and what deleting a repetition removes.
inline constexpr const char* kRepetitionTables[] = {"samples",  "chunks",       "telemetry",
                                                    "energy_windows", "training_epochs",
                                                    "requests", "token_chunks"};

int SchemaVersion(Db& db);

// Brings db to kSchemaVersion. Throws EnvError for a database written by a newer dlbench.
void Migrate(Db& db);

// Brings db to an older version `target` (for migration tests: build a file as an old dlbench would).
void MigrateTo(Db& db, int target);

}  // namespace dlb::store
