#include "export/migrations.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace vaultaire::exports {
namespace {

TEST(MigrationsTest, AreNumberedFromZeroInOrder) {
  const auto& all = postgres_migrations();
  ASSERT_GE(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i)) << all[i].name;
    EXPECT_EQ(std::stoi(std::string(all[i].name.substr(0, 3))), all[i].version);
    EXPECT_TRUE(all[i].name.ends_with(".sql"));
  }
}

TEST(MigrationsTest, AreTheFilesByteForByte) {
  for (const Migration& m : postgres_migrations()) {
    std::ifstream in(std::string(VAULTAIRE_PG_SCHEMA_DIR) + "/" + std::string(m.name),
                     std::ios::binary);
    ASSERT_TRUE(in) << m.name;
    std::ostringstream file;
    file << in.rdbuf();
    EXPECT_EQ(m.sql, file.str()) << m.name;
  }
}

TEST(MigrationsTest, CreateTheTablesTheExporterWrites) {
  const auto& all = postgres_migrations();
  // The first runs on every start, before the others are looked up: it must be idempotent.
  EXPECT_NE(all[0].sql.find("CREATE TABLE IF NOT EXISTS schema_migrations"), std::string::npos);
  std::string sql;
  for (const Migration& m : all) {
    sql += m.sql;
  }
  for (const char* table : {"events", "usage_hourly", "export_state"}) {
    EXPECT_NE(sql.find("CREATE TABLE " + std::string(table) + " ("), std::string::npos) << table;
  }
}

}  // namespace
}  // namespace vaultaire::exports
