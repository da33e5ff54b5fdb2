#pragma once

// vaultctl's admin commands (tenants, quotas, users, keys, grants, buckets, master-key): each
// is one or two calls to the admin API (docs/admin-api.md) through AdminClient, printed as a
// short line or a table, or with --json as the server's JSON.

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace vaultaire::vaultctl {

// vaultctl's exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;        // bad usage, or a local mistake found before sending
inline constexpr int kExitClientError = 2;  // the server answered 4xx
inline constexpr int kExitServerError = 3;  // the server answered 5xx (or nonsense)
inline constexpr int kExitUnreachable = 4;  // no answer: refused, unresolvable, timed out

class AdminCommands {
 public:
  // Adds to `app` the global options (--endpoint, --access-key, --secret-key, --region, --json)
  // and the admin subcommands. `app` keeps pointers into this object: it must not outlive it.
  explicit AdminCommands(CLI::App& app);
  AdminCommands(const AdminCommands&) = delete;
  AdminCommands& operator=(const AdminCommands&) = delete;

  // The global --json (also honoured by `events ...`).
  bool json_requested() const { return json_; }

  // After parsing: whether the command line chose an admin command.
  bool chosen() const { return action_ != nullptr; }

  // Runs the chosen command: its output on stdout, or "vaultctl: <message> (<code>)" on stderr.
  // Returns the exit code (kExit*).
  int run() const;

 private:
  class Session;
  using Action = int (AdminCommands::*)(const Session&) const;

  // Makes `cmd` choose `action` when it is parsed.
  void on(CLI::App* cmd, Action action);

  int tenants_create(const Session& s) const;
  int tenants_list(const Session& s) const;
  int tenants_show(const Session& s) const;
  int tenants_delete(const Session& s) const;
  int quotas_set(const Session& s) const;
  int quotas_show(const Session& s) const;
  int users_create(const Session& s) const;
  int users_list(const Session& s) const;
  int users_delete(const Session& s) const;
  int keys_create(const Session& s) const;
  int keys_list(const Session& s) const;
  int keys_disable(const Session& s) const;
  int keys_enable(const Session& s) const;
  int keys_delete(const Session& s) const;
  int keys_set_rate(const Session& s) const;
  int grants_set(const Session& s) const;
  int grants_list(const Session& s) const;
  int buckets_acl(const Session& s) const;
  int master_key_rotate(const Session& s) const;
  int tiers_explain(const Session& s) const;
  int tiers_report(const Session& s) const;
  int tiers_run(const Session& s) const;
  int billing_usage(const Session& s) const;
  int billing_invoice(const Session& s) const;
  // The billing query string: tenant, from, to.
  std::string billing_query() const;

  // Global options; empty strings: not given (run() applies the environment's defaults).
  std::string endpoint_;
  std::string access_key_;
  std::string secret_key_;
  std::string region_ = "us-east-1";
  bool json_ = false;

  // Command arguments, shared by the subcommands (one runs per process).
  std::string tenant_;
  std::string name_;  // tenant or user
  std::string user_;
  std::string bucket_;
  std::string key_;
  std::string object_;  // BUCKET/KEY
  std::string role_ = "member";
  std::string acl_;
  std::string max_bytes_;  // checked by the option's validator; empty: not given
  std::string max_objects_;
  std::string max_buckets_;
  std::string rate_;
  std::string burst_;
  bool read_ = false;
  std::string from_;
  std::string to_;
  std::string format_ = "table";
  std::string granularity_ = "hour";
  bool write_ = false;

  Action action_ = nullptr;
};

}  // namespace vaultaire::vaultctl
