#pragma once

// The PostgreSQL schema of the exports: the files of schema/postgres/, embedded into the binary
// at build time (cmake/embed_sql.cmake), so an exporter always applies the schema it was built
// to write, with nothing to install beside it.

#include <string_view>
#include <vector>

namespace vaultaire::exports {

struct Migration {
  int version = 0;        // NNN of NNN_name.sql
  std::string_view name;  // the file name
  std::string_view sql;   // its bytes
};

// Every migration, in increasing version order. Version 0 creates schema_migrations itself
// (idempotent: it runs before every check); the others run once each.
const std::vector<Migration>& postgres_migrations();

}  // namespace vaultaire::exports
