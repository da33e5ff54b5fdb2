#include "actors/identity_actor.h"

#include "actors/container_actor.h"
#include "events/names.h"

namespace vaultaire::actors {
namespace {

// The name a command locks while it commits.
std::string lock_name(const proto::Command& c) {
  const std::string& tenant = c.context().tenant();
  switch (c.op_case()) {
    case proto::Command::kCreateUser:
      return tenant + '/' + c.create_user().user();
    case proto::Command::kDeleteUser:
      return tenant + '/' + c.delete_user().user();
    case proto::Command::kCreateAccessKey:
      return "key/" + c.create_access_key().key().access_key();
    case proto::Command::kChangeAccessKey:
      return "key/" + c.change_access_key().change().access_key();
    case proto::Command::kDeleteAccessKey:
      return "key/" + c.delete_access_key().access_key();
    case proto::Command::kReencryptSecrets:
      return "keys";
    default:
      return tenant;
  }
}

bool exists(const Result<proto::TenantRecord>& t, const std::string& name) {
  // The default tenant always exists; others once created.
  return name == "default" || (t && t->created());
}

}  // namespace

IdentityActor::IdentityActor(asio::any_io_executor executor, events::EventLog& log,
                             const events::ViewReader& views)
    : Actor(std::move(executor), "identity"), log_(log), views_(views) {}

bool IdentityActor::handles(const proto::Command& command) {
  switch (command.op_case()) {
    case proto::Command::kCreateTenant:
    case proto::Command::kSetQuotas:
    case proto::Command::kDeleteTenant:
    case proto::Command::kCreateUser:
    case proto::Command::kDeleteUser:
    case proto::Command::kCreateAccessKey:
    case proto::Command::kChangeAccessKey:
    case proto::Command::kDeleteAccessKey:
    case proto::Command::kSetGrant:
    case proto::Command::kReencryptSecrets:
      return true;
    default:
      return false;
  }
}

Result<void> IdentityActor::check(const proto::Command& c) const {
  const std::string& tenant = c.context().tenant();
  if (!events::is_valid_identity_name(tenant)) {
    return Errc::kInvalidName;
  }
  const auto t = views_.tenant(tenant);
  if (!t && !is(t.error(), Errc::kNotFound)) {
    return t.error();
  }
  auto require_user = [&](const std::string& user) -> Result<void> {
    auto u = views_.user(tenant, user);
    if (!u) {
      return u.error();
    }
    return {};
  };
  switch (c.op_case()) {
    case proto::Command::kCreateTenant:
      if (exists(t, tenant)) {
        return Errc::kAlreadyExists;
      }
      return {};
    case proto::Command::kSetQuotas:
      return exists(t, tenant) ? Result<void>{} : Result<void>(Errc::kNotFound);
    case proto::Command::kDeleteTenant: {
      if (tenant == "default") {
        return Errc::kAccessDenied;
      }
      if (!exists(t, tenant)) {
        return Errc::kNotFound;
      }
      auto users = views_.users(tenant);
      if (!users) {
        return users.error();
      }
      if (t->buckets() > 0 || users->users_size() > 0) {
        return Errc::kNotEmpty;
      }
      return {};
    }
    case proto::Command::kCreateUser: {
      if (!exists(t, tenant)) {
        return Errc::kNotFound;
      }
      const auto& u = c.create_user();
      if (!events::is_valid_identity_name(u.user())) {
        return Errc::kInvalidName;
      }
      if (u.role() != "admin" && u.role() != "member") {
        return Errc::kInvalidArgument;
      }
      if (views_.user(tenant, u.user())) {
        return Errc::kAlreadyExists;
      }
      return {};
    }
    case proto::Command::kDeleteUser:
      return require_user(c.delete_user().user());
    case proto::Command::kCreateAccessKey: {
      if (auto u = require_user(c.create_access_key().key().user()); !u) {
        return u;
      }
      if (views_.access_key(c.create_access_key().key().access_key())) {
        return Errc::kAlreadyExists;
      }
      return {};
    }
    case proto::Command::kChangeAccessKey:
    case proto::Command::kDeleteAccessKey: {
      const std::string& id = c.has_change_access_key()
                                  ? c.change_access_key().change().access_key()
                                  : c.delete_access_key().access_key();
      auto k = views_.access_key(id);
      if (!k) {
        return k.error();
      }
      // A tenant admin acts on its own tenant's keys only; root's context names the key's.
      if (k->tenant() != tenant) {
        return Errc::kNotFound;
      }
      return {};
    }
    case proto::Command::kSetGrant: {
      if (auto u = require_user(c.set_grant().grant().user()); !u) {
        return u;
      }
      if (auto container = views_.container(tenant, c.container()); !container) {
        return Errc::kNotFound;
      }
      return {};
    }
    case proto::Command::kReencryptSecrets: {
      const auto& r = c.reencrypt_secrets();
      if (r.previous_nonces_size() != r.secrets_size()) {
        return Errc::kInvalidArgument;
      }
      for (int i = 0; i < r.secrets_size(); ++i) {
        auto k = views_.access_key(r.secrets(i).access_key());
        if (!k || k->secret().nonce() != r.previous_nonces(i)) {
          return Errc::kConflict;  // changed since it was read: read again
        }
      }
      return {};
    }
    default:
      return Errc::kInvalidArgument;
  }
}

asio::awaitable<Result<proto::CommandReply>> IdentityActor::handle(proto::Command command) {
  const std::string name = lock_name(command);
  if (busy_.contains(name)) {
    co_return Errc::kConflict;
  }
  if (auto ok = check(command); !ok) {
    co_return ok.error();
  }
  proto::Event event = event_for(std::move(command));
  busy_.insert(name);
  auto appended = co_await log_.append(std::move(event));
  busy_.erase(name);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  if (!appended) {
    co_return appended.error();
  }
  proto::CommandReply reply;
  reply.set_sequence(appended->sequence);
  reply.set_time_unix_nanos(appended->time_unix_nanos);
  co_return reply;
}

}  // namespace vaultaire::actors
