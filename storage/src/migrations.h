// The schema's migrations, numbered from 1: the scripts of storage/schema/sqlite and
// storage/schema/postgresql (one file per number in each, NNNN_name.sql), compiled in by
// storage/CMakeLists.txt. A database at version v runs the scripts v+1 to kSchemaVersion.
#pragma once

namespace tramite::storage {

struct Migration {
  const char* file;        // NNNN_name.sql
  const char* sqlite;      // its script for each dialect: statements ending in ';', and
  const char* postgresql;  // -- comments
};

extern const Migration kMigrations[];
extern const int kSchemaVersion;

}  // namespace tramite::storage
