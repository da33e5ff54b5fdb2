#include "server/credentials.h"

#include <gtest/gtest.h>

#include "actors/local_hub.h"
#include "common/clock.h"
#include "support/run.h"
#include "support/temp_dir.h"

namespace vaultaire::server {
namespace {

using testing::run;

constexpr std::string_view kMasterKey = "test:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
constexpr std::string_view kKey = "VKTESTKEY0000000001";
constexpr std::string_view kSecret = "the-secret-of-the-test-key";

// The real store, log, views and hub in a temp dir, and the credential store the server builds
// over them; identity changes go through the hub as the admin API sends them.
class CredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(events::Store::open(dir_.path() / "db", events::OpenMode::kPrimary).value());
    log_ = std::move(events::EventLog::open(*store_, clock_).value());
    views_ = std::make_unique<events::ViewReader>(*store_);
    hub_ = std::make_unique<actors::LocalHub>(testing::test_io().get_executor(), *log_, *views_);
    credentials_ = std::make_unique<HubCredentialStore>(
        *views_, hub_->identity_generation(), MasterKeys::from_string(kMasterKey).value(),
        std::filesystem::path(), RootCredentials{"ROOTKEY", "root-secret"});

    auto tenant = command();
    tenant.mutable_create_tenant();
    ASSERT_TRUE(execute(std::move(tenant)).has_value());
    auto user = command();
    user.mutable_create_user()->set_user("alice");
    user.mutable_create_user()->set_role("member");
    ASSERT_TRUE(execute(std::move(user)).has_value());
    auto key = command();
    auto* k = key.mutable_create_access_key()->mutable_key();
    k->set_access_key(std::string(kKey));
    k->set_user("alice");
    *k->mutable_secret() = credentials_->seal(kSecret, kKey).value();
    k->mutable_rate_limit()->set_requests_per_second(10);
    ASSERT_TRUE(execute(std::move(key)).has_value());
  }

  static proto::Command command() {
    proto::Command c;
    c.mutable_context()->set_tenant("t1");
    c.mutable_context()->set_request_id("REQ");
    c.mutable_context()->set_principal("ROOTKEY");
    return c;
  }
  Result<proto::CommandReply> execute(proto::Command c) { return run(hub_->execute(std::move(c))); }

  Result<proto::CommandReply> change(std::optional<bool> enabled, std::optional<double> rate) {
    auto c = command();
    auto* ch = c.mutable_change_access_key()->mutable_change();
    ch->set_access_key(std::string(kKey));
    if (enabled) {
      ch->set_enabled(*enabled);
    }
    if (rate) {
      ch->mutable_rate_limit()->set_requests_per_second(*rate);
      ch->set_rate_limit_changed(true);
    }
    return execute(std::move(c));
  }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000 * kNanosPerSecond};
  std::unique_ptr<events::Store> store_;
  std::unique_ptr<events::EventLog> log_;
  std::unique_ptr<events::ViewReader> views_;
  std::unique_ptr<actors::LocalHub> hub_;
  std::unique_ptr<HubCredentialStore> credentials_;
};

TEST_F(CredentialStoreTest, AKeyResolvesToItsSecretTenantAndRoleEveryTime) {
  for (int i = 0; i < 3; ++i) {  // the first from the views, the others from the cache
    const auto c = credentials_->find(kKey);
    ASSERT_TRUE(c.has_value()) << i;
    EXPECT_EQ(c->secret, kSecret);
    EXPECT_EQ(c->identity.tenant, "t1");
    EXPECT_EQ(c->identity.user, "alice");
    EXPECT_EQ(c->identity.role, "member");
    EXPECT_EQ(c->identity.requests_per_second, 10);
  }
  EXPECT_FALSE(credentials_->find("VKNOSUCHKEY00000000").has_value());
}

TEST_F(CredentialStoreTest, DisablingChangingAndDeletingAKeyShowOnTheNextLookup) {
  ASSERT_TRUE(credentials_->find(kKey).has_value());  // cached now

  ASSERT_TRUE(change(false, std::nullopt).has_value());
  EXPECT_FALSE(credentials_->find(kKey).has_value()) << "a disabled key still resolved";

  ASSERT_TRUE(change(true, 2.5).has_value());
  auto c = credentials_->find(kKey);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->identity.requests_per_second, 2.5) << "the rate limit of the cached key";

  auto del = command();
  del.mutable_delete_access_key()->set_access_key(std::string(kKey));
  ASSERT_TRUE(execute(std::move(del)).has_value());
  EXPECT_FALSE(credentials_->find(kKey).has_value()) << "a deleted key still resolved";
}

TEST_F(CredentialStoreTest, RootResolvesWithoutTheViews) {
  const auto c = credentials_->find("ROOTKEY");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->secret, "root-secret");
  EXPECT_EQ(c->identity.role, "root");
}

}  // namespace
}  // namespace vaultaire::server
