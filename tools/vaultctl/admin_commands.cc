#include "vaultctl/admin_commands.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/beast/core/error.hpp>
#include <nlohmann/json.hpp>

#include "common/uri.h"
#include "vaultctl/admin_client.h"
#include "vaultctl/event_formats.h"

namespace vaultaire::vaultctl {
namespace {

using json = nlohmann::json;

constexpr std::chrono::seconds kTimeout{30};
constexpr std::string_view kDefaultEndpoint = "http://127.0.0.1:8081";

// "12", or with a unit for bytes: "10GiB" (powers of 1024: Ki, Mi, Gi, Ti, Pi, with or without
// a trailing B) or "10GB" (powers of 1000: K, M, G, T, P, with or without B). Case-insensitive.
std::optional<uint64_t> parse_count(std::string_view text, bool units) {
  uint64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || text.empty() || text[0] == '-' || text[0] == '+') {
    return std::nullopt;
  }
  std::string unit(rest, end);
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (unit.empty()) {
    return value;
  }
  if (!units) {
    return std::nullopt;
  }
  if (unit.size() > 1 && unit.back() == 'b') {
    unit.pop_back();
  } else if (unit == "b") {
    return value;
  }
  uint64_t base = 1000;
  if (unit.size() == 2 && unit[1] == 'i') {
    base = 1024;
    unit.pop_back();
  }
  const size_t power = std::string_view("kmgtp").find(unit);
  if (unit.size() != 1 || power == std::string_view::npos) {
    return std::nullopt;
  }
  for (size_t i = 0; i <= power; ++i) {
    if (value > std::numeric_limits<uint64_t>::max() / base) {
      return std::nullopt;
    }
    value *= base;
  }
  return value;
}

// A non-negative finite decimal ("100", "0.5").
std::optional<double> parse_rate(std::string_view text) {
  double value = 0;
  const char* const end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || rest != end || text.empty() || !(value >= 0) ||
      value > std::numeric_limits<double>::max()) {
    return std::nullopt;
  }
  return value;
}

CLI::Validator count_validator(bool units) {
  return CLI::Validator(
      [units](std::string& text) -> std::string {
        if (parse_count(text, units)) {
          return {};
        }
        return "'" + text + "' is not " +
               (units ? "a size in bytes (a whole number >= 0, optionally with a unit: 10GiB, "
                        "500MB; 0 means unlimited)"
                      : "a count (a whole number >= 0; 0 means unlimited)");
      },
      units ? "BYTES" : "COUNT");
}

CLI::Validator rate_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (parse_rate(text)) {
          return {};
        }
        return "'" + text + "' is not a number >= 0 (0 means unlimited)";
      },
      "N");
}

std::string number_text(double value) {
  char out[32];
  const auto [end, ec] = std::to_chars(out, out + sizeof out, value);
  return ec == std::errc() ? std::string(out, end) : std::to_string(value);
}

std::string quota_text(const json& quotas, const char* name) {
  const uint64_t value = quotas.value(name, uint64_t{0});
  return value == 0 ? "unlimited" : std::to_string(value);
}

std::string rate_limit_text(const json& rate) {
  const double per_second = rate.value("requests_per_second", 0.0);
  const double burst = rate.value("burst", 0.0);
  if (per_second <= 0) {
    return "unlimited";
  }
  std::string out = number_text(per_second) + "/s";
  if (burst > 0) {
    out += ", burst " + number_text(burst);
  }
  return out;
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

// One path segment, percent-encoded.
std::string seg(std::string_view s) { return "/" + uri_encode(s, /*keep_slash=*/false); }

// Left-aligned columns two spaces apart; the first row is the header.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print() const {
    std::vector<size_t> widths(rows_.front().size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) {
        widths[i] = std::max(widths[i], row[i].size());
      }
    }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) {
          line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
      }
      std::cout << line << '\n';
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Usage against quotas, from a tenant or a usage answer.
void print_usage(const json& answer) {
  const json usage = answer.value("usage", json::object());
  const json quotas = answer.value("quotas", json::object());
  Table t({"RESOURCE", "USED", "QUOTA"});
  t.add({"buckets", std::to_string(usage.value("buckets", uint64_t{0})),
         quota_text(quotas, "max_buckets")});
  t.add({"objects", std::to_string(usage.value("objects", uint64_t{0})),
         quota_text(quotas, "max_objects")});
  t.add({"bytes", std::to_string(usage.value("bytes", uint64_t{0})),
         quota_text(quotas, "max_bytes")});
  t.print();
}

std::string first_env(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') {
      return value;
    }
  }
  return {};
}

// Between <tag> and </tag> in an S3 XML error; empty when absent.
std::string xml_field(std::string_view body, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const size_t from = body.find(open);
  if (from == std::string_view::npos) {
    return {};
  }
  const size_t to = body.find(close, from);
  if (to == std::string_view::npos) {
    return {};
  }
  return std::string(body.substr(from + open.size(), to - from - open.size()));
}

}  // namespace

// One run of an admin command: the client, and how to print.
class AdminCommands::Session {
 public:
  Session(AdminClient client, bool json) : client_(std::move(client)), json_(json) {}

  bool json_output() const { return json_; }

  // The outcome of one call.
  struct Reply {
    int exit_code = kExitOk;  // not kExitOk: the error is already printed on stderr
    json body;                // the answer's JSON on success; null when it has none (204)
  };

  // Sends `body` (unless null) as JSON; on failure prints why and sets the exit code.
  Reply call(http::verb method, const std::string& path, const json& body = nullptr) const {
    auto answer = client_.call(method, path, body.is_null() ? std::string() : body.dump());
    if (!answer) {
      const std::string& url = client_.endpoint().url;
      if (answer.error() == beast::error::timeout) {
        std::cerr << "vaultctl: no answer from the admin API at " << url << " within "
                  << client_.timeout().count() << " s\n";
      } else {
        std::cerr << "vaultctl: cannot reach the admin API at " << url << ": "
                  << answer.error().message()
                  << " (is the server running, and is this its --admin-listen address?)\n";
      }
      return {kExitUnreachable, nullptr};
    }
    const unsigned status = answer->status;
    const json parsed = answer->body.empty()
                            ? json()
                            : json::parse(answer->body, nullptr, /*allow_exceptions=*/false);
    if (status >= 200 && status < 300) {
      if (parsed.is_discarded()) {
        std::cerr << "vaultctl: the answer of " << client_.endpoint().url << " is not JSON (HTTP "
                  << status << "): is it the admin listener?\n";
        return {kExitServerError, nullptr};
      }
      return {kExitOk, parsed};
    }
    const int code = status >= 400 && status < 500 ? kExitClientError : kExitServerError;
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
      const json& e = parsed["error"];
      const std::string message = e.value("message", "");
      std::cerr << "vaultctl: " << (message.empty() ? "HTTP " + std::to_string(status) : message)
                << " (" << e.value("code", "HTTP " + std::to_string(status)) << ")\n";
      return {code, nullptr};
    }
    // Not the admin API's error: most likely --endpoint names the S3 listener (XML errors).
    const std::string xml_code = xml_field(answer->body, "Code");
    const std::string xml_message = xml_field(answer->body, "Message");
    std::cerr << "vaultctl: "
              << (xml_message.empty() ? "HTTP " + std::to_string(status) : xml_message)
              << (xml_code.empty() ? "" : " (" + xml_code + ")") << " from "
              << client_.endpoint().url << ", which does not answer like the admin API: is it "
              << "the admin listener (--admin-listen)?\n";
    return {code, nullptr};
  }

  // With --json: the server's JSON, indented; nothing for an answer without a body.
  void print_json(const json& body) const {
    if (!body.is_null()) {
      std::cout << body.dump(2) << '\n';
    }
  }

 private:
  AdminClient client_;
  bool json_;
};

AdminCommands::AdminCommands(CLI::App& app) {
  app.add_option("--endpoint", endpoint_,
                 "The admin listener (default: $VAULTAIRE_ADMIN_ENDPOINT, else "
                 "http://127.0.0.1:8081)");
  app.add_option("--access-key", access_key_,
                 "Access key of root or a tenant admin (default: $VAULTAIRE_ACCESS_KEY, "
                 "$VAULTAIRE_ROOT_ACCESS_KEY or $AWS_ACCESS_KEY_ID)");
  app.add_option("--secret-key", secret_key_,
                 "Its secret (default: $VAULTAIRE_SECRET_KEY, $VAULTAIRE_ROOT_SECRET_KEY or "
                 "$AWS_SECRET_ACCESS_KEY)");
  app.add_option("--region", region_, "The region to sign for (the server's --region)")
      ->capture_default_str();
  app.add_flag("--json", json_, "JSON output: the server's answer as is");
  app.footer(
      "Exit codes: 0 success, 1 bad usage, 2 the server refused the request (4xx), "
      "3 server error (5xx), 4 the server cannot be reached.");

  const auto add_quota_options = [this](CLI::App* cmd) {
    cmd->add_option("--max-bytes", max_bytes_, "Stored bytes (10GiB, 500MB, ...; 0: unlimited)")
        ->check(count_validator(true));
    cmd->add_option("--max-objects", max_objects_, "Objects (0: unlimited)")
        ->check(count_validator(false));
    cmd->add_option("--max-buckets", max_buckets_, "Buckets (0: unlimited)")
        ->check(count_validator(false));
  };

  CLI::App* tenants = app.add_subcommand("tenants", "Create, list, show and delete tenants");
  tenants->require_subcommand(1);
  CLI::App* cmd = tenants->add_subcommand("create", "Create a tenant (root)");
  cmd->add_option("name", name_, "Tenant name")->required();
  add_quota_options(cmd);
  on(cmd, &AdminCommands::tenants_create);
  cmd = tenants->add_subcommand("list", "List tenants with their usage and quotas (root)");
  on(cmd, &AdminCommands::tenants_list);
  cmd = tenants->add_subcommand("show", "Show one tenant");
  cmd->add_option("name", name_, "Tenant name")->required();
  on(cmd, &AdminCommands::tenants_show);
  cmd = tenants->add_subcommand("delete", "Delete a tenant that has no buckets (root)");
  cmd->add_option("name", name_, "Tenant name")->required();
  on(cmd, &AdminCommands::tenants_delete);

  CLI::App* quotas = app.add_subcommand("quotas", "Set and show a tenant's quotas");
  quotas->require_subcommand(1);
  cmd = quotas->add_subcommand("set", "Change the given quotas, keep the others (root)");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  add_quota_options(cmd);
  on(cmd, &AdminCommands::quotas_set);
  cmd = quotas->add_subcommand("show", "Show a tenant's usage and quotas");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  on(cmd, &AdminCommands::quotas_show);

  CLI::App* users = app.add_subcommand("users", "Create, list and delete a tenant's users");
  users->require_subcommand(1);
  cmd = users->add_subcommand("create", "Create a user");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  cmd->add_option("name", name_, "User name")->required();
  cmd->add_option("--role", role_, "admin (manages the tenant) or member")
      ->check(CLI::IsMember({"admin", "member"}))
      ->capture_default_str();
  on(cmd, &AdminCommands::users_create);
  cmd = users->add_subcommand("list", "List a tenant's users");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  on(cmd, &AdminCommands::users_list);
  cmd = users->add_subcommand("delete", "Delete a user, its keys and its grants");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  cmd->add_option("name", name_, "User name")->required();
  on(cmd, &AdminCommands::users_delete);

  CLI::App* keys = app.add_subcommand("keys", "Manage access keys");
  keys->require_subcommand(1);
  cmd = keys->add_subcommand("create", "Create an access key for a user; prints its secret once");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  cmd->add_option("user", user_, "User name")->required();
  cmd->add_option("--rate", rate_, "Requests per second (0: unlimited)")->check(rate_validator());
  cmd->add_option("--burst", burst_, "Burst size in requests (0: the rate)")
      ->check(rate_validator());
  on(cmd, &AdminCommands::keys_create);
  cmd = keys->add_subcommand("list", "List a tenant's keys (no secrets)");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  on(cmd, &AdminCommands::keys_list);
  cmd = keys->add_subcommand("disable", "Refuse requests signed with a key from now on");
  cmd->add_option("key", key_, "Access key")->required();
  on(cmd, &AdminCommands::keys_disable);
  cmd = keys->add_subcommand("enable", "Accept a disabled key again");
  cmd->add_option("key", key_, "Access key")->required();
  on(cmd, &AdminCommands::keys_enable);
  cmd = keys->add_subcommand("delete", "Delete a key");
  cmd->add_option("key", key_, "Access key")->required();
  on(cmd, &AdminCommands::keys_delete);
  cmd = keys->add_subcommand("set-rate", "Change a key's rate limit");
  cmd->add_option("key", key_, "Access key")->required();
  cmd->add_option("--rate", rate_, "Requests per second (0: unlimited)")
      ->check(rate_validator())
      ->required();
  cmd->add_option("--burst", burst_, "Burst size in requests (0: the rate)")
      ->check(rate_validator());
  on(cmd, &AdminCommands::keys_set_rate);

  CLI::App* grants = app.add_subcommand("grants", "What members may do with which bucket");
  grants->require_subcommand(1);
  cmd = grants->add_subcommand("set",
                               "Grant a user read and/or write on a bucket; neither removes "
                               "the grant");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  cmd->add_option("user", user_, "User name")->required();
  cmd->add_option("bucket", bucket_, "Bucket name")->required();
  cmd->add_flag("--read", read_, "May read (GET, HEAD, list)");
  cmd->add_flag("--write", write_, "May write (PUT, DELETE, uploads)");
  on(cmd, &AdminCommands::grants_set);
  cmd = grants->add_subcommand("list", "List a tenant's grants");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  on(cmd, &AdminCommands::grants_list);

  CLI::App* buckets = app.add_subcommand("buckets", "Bucket settings");
  buckets->require_subcommand(1);
  cmd = buckets->add_subcommand("acl", "Make a bucket private or readable by anyone");
  cmd->add_option("tenant", tenant_, "Tenant name")->required();
  cmd->add_option("bucket", bucket_, "Bucket name")->required();
  cmd->add_option("acl", acl_, "private or public-read")
      ->required()
      ->check(CLI::IsMember({"private", "public-read"}));
  on(cmd, &AdminCommands::buckets_acl);

  CLI::App* master_key = app.add_subcommand("master-key", "The key that encrypts stored secrets");
  master_key->require_subcommand(1);
  cmd = master_key->add_subcommand(
      "rotate", "Generate a new master key and re-encrypt every secret under it (root)");
  on(cmd, &AdminCommands::master_key_rotate);

  CLI::App* tiers = app.add_subcommand("tiers", "Where objects are stored, and why");
  tiers->require_subcommand(1);
  cmd = tiers->add_subcommand("explain",
                              "Why an object is on its tier: its reads, each tier's expected "
                              "cost, the policy's decision");
  cmd->add_option("object", object_, "BUCKET/KEY")->required();
  cmd->add_option("--tenant", tenant_, "The bucket's tenant (default: the caller's)");
  on(cmd, &AdminCommands::tiers_explain);
  cmd = tiers->add_subcommand("report",
                              "Bytes and objects per tier, the monthly storage cost now and "
                              "if everything were on the hottest tier");
  cmd->add_option("--tenant", tenant_, "Only this tenant (tenant admins: their own)");
  cmd->add_option("--bucket", bucket_, "Only this bucket");
  on(cmd, &AdminCommands::tiers_report);
  cmd = tiers->add_subcommand("run",
                              "Run a tiering pass now and wait for its moves and restores (root)");
  on(cmd, &AdminCommands::tiers_run);

  CLI::App* billing = app.add_subcommand("billing", "What tenants used and owe, from the log");
  billing->require_subcommand(1);
  const auto period = [this](CLI::App* c) {
    c->add_option("--tenant", tenant_, "The tenant (tenant admins: their own)");
    c->add_option("--from", from_,
                  "Start of the period, a date or time (2026-11-01, 2026-11-01T10:00:00Z); "
                  "default: the start of the month of --to");
    c->add_option("--to", to_, "End of the period (exclusive); default: now");
    c->add_option("--format", format_, "table, csv or jsonl")
        ->check(CLI::IsMember({"table", "csv", "jsonl"}))
        ->capture_default_str();
  };
  cmd = billing->add_subcommand("usage",
                                "Usage per tenant, hour and tier: byte-hours, objects, requests "
                                "by class, bytes in, out and retrieved");
  period(cmd);
  cmd->add_option("--granularity", granularity_, "hour, or total for the whole period")
      ->check(CLI::IsMember({"hour", "total"}))
      ->capture_default_str();
  on(cmd, &AdminCommands::billing_usage);
  cmd = billing->add_subcommand("invoice",
                                "Invoice lines of a tenant for a period, priced by the tiers' "
                                "prices and [billing]");
  period(cmd);
  on(cmd, &AdminCommands::billing_invoice);
}

void AdminCommands::on(CLI::App* cmd, Action action) {
  cmd->callback([this, action] { action_ = action; });
}

int AdminCommands::run() const {
  const std::string endpoint_url =
      !endpoint_.empty() ? endpoint_ : first_env({"VAULTAIRE_ADMIN_ENDPOINT"});
  auto endpoint = parse_endpoint(endpoint_url.empty() ? kDefaultEndpoint : endpoint_url);
  if (!endpoint) {
    std::cerr << "vaultctl: --endpoint " << (endpoint_url.empty() ? kDefaultEndpoint : endpoint_url)
              << " is not a URL like http://127.0.0.1:8081 (plain http, no path)\n";
    return kExitUsage;
  }
  // From the environment, a pair at a time, so an access key never meets another pair's secret.
  Credentials credentials{access_key_, secret_key_, region_};
  for (const auto& [id, secret] :
       {std::pair{"VAULTAIRE_ACCESS_KEY", "VAULTAIRE_SECRET_KEY"},
        std::pair{"VAULTAIRE_ROOT_ACCESS_KEY", "VAULTAIRE_ROOT_SECRET_KEY"},
        std::pair{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}}) {
    if (!first_env({id}).empty()) {
      if (credentials.access_key.empty()) {
        credentials.access_key = first_env({id});
      }
      if (credentials.secret_key.empty()) {
        credentials.secret_key = first_env({secret});
      }
      break;
    }
  }
  if (credentials.access_key.empty() || credentials.secret_key.empty()) {
    std::cerr << "vaultctl: no credentials: pass --access-key and --secret-key, or set "
                 "VAULTAIRE_ACCESS_KEY and VAULTAIRE_SECRET_KEY (or VAULTAIRE_ROOT_ACCESS_KEY "
                 "and VAULTAIRE_ROOT_SECRET_KEY, or AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY)\n";
    return kExitUsage;
  }
  const Session session(AdminClient(std::move(*endpoint), std::move(credentials), kTimeout), json_);
  return (this->*action_)(session);
}

int AdminCommands::tenants_create(const Session& s) const {
  json body = {{"name", name_}};
  json quotas = json::object();
  if (!max_bytes_.empty()) {
    quotas["max_bytes"] = *parse_count(max_bytes_, true);
  }
  if (!max_objects_.empty()) {
    quotas["max_objects"] = *parse_count(max_objects_, false);
  }
  if (!max_buckets_.empty()) {
    quotas["max_buckets"] = *parse_count(max_buckets_, false);
  }
  if (!quotas.empty()) {
    body["quotas"] = quotas;
  }
  const auto r = s.call(http::verb::post, "/tenants", body);
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "created tenant " << r.body.value("name", name_) << '\n';
  }
  return kExitOk;
}

int AdminCommands::tenants_list(const Session& s) const {
  const auto r = s.call(http::verb::get, "/tenants");
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  Table t({"NAME", "CREATED", "BUCKETS", "OBJECTS", "BYTES", "MAX_BUCKETS", "MAX_OBJECTS",
           "MAX_BYTES"});
  for (const json& tenant : r.body.value("tenants", json::array())) {
    const json usage = tenant.value("usage", json::object());
    const json quotas = tenant.value("quotas", json::object());
    t.add({tenant.value("name", ""), tenant.value("created", "-"),
           std::to_string(usage.value("buckets", uint64_t{0})),
           std::to_string(usage.value("objects", uint64_t{0})),
           std::to_string(usage.value("bytes", uint64_t{0})), quota_text(quotas, "max_buckets"),
           quota_text(quotas, "max_objects"), quota_text(quotas, "max_bytes")});
  }
  t.print();
  return kExitOk;
}

int AdminCommands::tenants_show(const Session& s) const {
  const auto r = s.call(http::verb::get, "/tenants" + seg(name_));
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  std::cout << "tenant " << r.body.value("name", name_) << '\n'
            << "created " << r.body.value("created", "-") << '\n';
  print_usage(r.body);
  return kExitOk;
}

int AdminCommands::tenants_delete(const Session& s) const {
  const auto r = s.call(http::verb::delete_, "/tenants" + seg(name_));
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "deleted tenant " << name_ << '\n';
  }
  return kExitOk;
}

int AdminCommands::quotas_set(const Session& s) const {
  if (max_bytes_.empty() && max_objects_.empty() && max_buckets_.empty()) {
    std::cerr << "vaultctl: nothing to set: give --max-bytes, --max-objects and/or "
                 "--max-buckets (0 means unlimited)\n";
    return kExitUsage;
  }
  // The API replaces all three quotas: start from the current ones so that only those given
  // change.
  const auto current = s.call(http::verb::get, "/tenants" + seg(tenant_));
  if (current.exit_code != kExitOk) {
    return current.exit_code;
  }
  json quotas = current.body.value("quotas", json::object());
  if (!max_bytes_.empty()) {
    quotas["max_bytes"] = *parse_count(max_bytes_, true);
  }
  if (!max_objects_.empty()) {
    quotas["max_objects"] = *parse_count(max_objects_, false);
  }
  if (!max_buckets_.empty()) {
    quotas["max_buckets"] = *parse_count(max_buckets_, false);
  }
  const auto r = s.call(http::verb::put, "/tenants" + seg(tenant_) + "/quotas", quotas);
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  const json now = r.body.value("quotas", json::object());
  std::cout << "quotas of tenant " << tenant_ << ": buckets " << quota_text(now, "max_buckets")
            << ", objects " << quota_text(now, "max_objects") << ", bytes "
            << quota_text(now, "max_bytes") << '\n';
  return kExitOk;
}

int AdminCommands::quotas_show(const Session& s) const {
  const auto r = s.call(http::verb::get, "/tenants" + seg(tenant_) + "/usage");
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  std::cout << "tenant " << r.body.value("tenant", tenant_) << '\n';
  print_usage(r.body);
  return kExitOk;
}

int AdminCommands::users_create(const Session& s) const {
  const auto r = s.call(http::verb::post, "/tenants" + seg(tenant_) + "/users",
                        {{"name", name_}, {"role", role_}});
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "created user " << name_ << " (" << r.body.value("role", role_) << ") in tenant "
              << tenant_ << '\n';
  }
  return kExitOk;
}

int AdminCommands::users_list(const Session& s) const {
  const auto r = s.call(http::verb::get, "/tenants" + seg(tenant_) + "/users");
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  Table t({"NAME", "ROLE", "CREATED"});
  for (const json& user : r.body.value("users", json::array())) {
    t.add({user.value("name", ""), user.value("role", ""), user.value("created", "-")});
  }
  t.print();
  return kExitOk;
}

int AdminCommands::users_delete(const Session& s) const {
  const auto r = s.call(http::verb::delete_, "/tenants" + seg(tenant_) + "/users" + seg(name_));
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "deleted user " << name_ << " of tenant " << tenant_ << '\n';
  }
  return kExitOk;
}

int AdminCommands::keys_create(const Session& s) const {
  json body = json::object();
  if (!rate_.empty() || !burst_.empty()) {
    body["rate_limit"] = {{"requests_per_second", rate_.empty() ? 0.0 : *parse_rate(rate_)},
                          {"burst", burst_.empty() ? 0.0 : *parse_rate(burst_)}};
  }
  const auto r =
      s.call(http::verb::post, "/tenants" + seg(tenant_) + "/users" + seg(user_) + "/keys", body);
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "key " << r.body.value("access_key", "") << " secret "
              << r.body.value("secret_key", "") << " (shown once: store it now)\n";
  }
  return kExitOk;
}

int AdminCommands::keys_list(const Session& s) const {
  const auto r = s.call(http::verb::get, "/tenants" + seg(tenant_) + "/keys");
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  Table t({"ACCESS_KEY", "USER", "ENABLED", "RATE_LIMIT", "CREATED"});
  for (const json& key : r.body.value("keys", json::array())) {
    t.add({key.value("access_key", ""), key.value("user", ""), yes_no(key.value("enabled", false)),
           rate_limit_text(key.value("rate_limit", json::object())), key.value("created", "-")});
  }
  t.print();
  return kExitOk;
}

int AdminCommands::keys_disable(const Session& s) const {
  const auto r = s.call(http::verb::patch, "/keys" + seg(key_), {{"enabled", false}});
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "disabled key " << key_ << '\n';
  }
  return kExitOk;
}

int AdminCommands::keys_enable(const Session& s) const {
  const auto r = s.call(http::verb::patch, "/keys" + seg(key_), {{"enabled", true}});
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "enabled key " << key_ << '\n';
  }
  return kExitOk;
}

int AdminCommands::keys_delete(const Session& s) const {
  const auto r = s.call(http::verb::delete_, "/keys" + seg(key_));
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "deleted key " << key_ << '\n';
  }
  return kExitOk;
}

int AdminCommands::keys_set_rate(const Session& s) const {
  const json rate = {{"requests_per_second", *parse_rate(rate_)},
                     {"burst", burst_.empty() ? 0.0 : *parse_rate(burst_)}};
  const auto r = s.call(http::verb::patch, "/keys" + seg(key_), {{"rate_limit", rate}});
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "key " << key_ << ": rate limit "
              << rate_limit_text(r.body.value("rate_limit", rate)) << '\n';
  }
  return kExitOk;
}

int AdminCommands::grants_set(const Session& s) const {
  const auto r = s.call(http::verb::put, "/tenants" + seg(tenant_) + "/grants",
                        {{"user", user_}, {"bucket", bucket_}, {"read", read_}, {"write", write_}});
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  if (!read_ && !write_) {
    std::cout << "removed the grant of " << user_ << " on bucket " << bucket_ << " of tenant "
              << tenant_ << '\n';
    return kExitOk;
  }
  const std::string what = read_ && write_ ? "read and write" : read_ ? "read" : "write";
  std::cout << user_ << " may " << what << " bucket " << bucket_ << " of tenant " << tenant_
            << '\n';
  return kExitOk;
}

int AdminCommands::grants_list(const Session& s) const {
  const auto r = s.call(http::verb::get, "/tenants" + seg(tenant_) + "/grants");
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  Table t({"USER", "BUCKET", "READ", "WRITE"});
  for (const json& grant : r.body.value("grants", json::array())) {
    t.add({grant.value("user", ""), grant.value("bucket", ""), yes_no(grant.value("read", false)),
           yes_no(grant.value("write", false))});
  }
  t.print();
  return kExitOk;
}

int AdminCommands::buckets_acl(const Session& s) const {
  const auto r =
      s.call(http::verb::put, "/tenants" + seg(tenant_) + "/buckets" + seg(bucket_) + "/acl",
             {{"acl", acl_}});
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "bucket " << bucket_ << " of tenant " << tenant_ << " is "
              << r.body.value("acl", acl_) << '\n';
  }
  return kExitOk;
}

int AdminCommands::master_key_rotate(const Session& s) const {
  const auto r = s.call(http::verb::post, "/master-key/rotate");
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
  } else {
    std::cout << "rotated the master key: new key " << r.body.value("key_id", "") << ", "
              << r.body.value("reencrypted", uint64_t{0}) << " secrets re-encrypted\n";
  }
  return kExitOk;
}

namespace {

std::string money(double dollars) {
  char out[32];
  std::snprintf(out, sizeof out, "$%.4f", dollars);
  return out;
}

std::string query_param(std::string_view name, std::string_view value) {
  return std::string(name) + "=" + uri_encode(value, /*keep_slash=*/false);
}

}  // namespace

int AdminCommands::tiers_explain(const Session& s) const {
  const size_t slash = object_.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == object_.size()) {
    std::cerr << "vaultctl: '" << object_ << "' is not BUCKET/KEY\n";
    return kExitUsage;
  }
  std::string path = "/tiering/explain?" + query_param("bucket", object_.substr(0, slash)) + "&" +
                     query_param("key", object_.substr(slash + 1));
  if (!tenant_.empty()) {
    path += "&" + query_param("tenant", tenant_);
  }
  const auto r = s.call(http::verb::get, path);
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  const json& b = r.body;
  std::cout << b.value("bucket", "") << '/' << b.value("key", "") << " (tenant "
            << b.value("tenant", "") << ")\n"
            << "  size          " << b.value("size", uint64_t{0}) << " bytes\n"
            << "  tier          " << b.value("tier", "") << " (" << b.value("storage_class", "")
            << ") since " << b.value("tier_since", "") << '\n';
  if (b.contains("history") && b["history"].is_object()) {
    const json& h = b["history"];
    auto day = [](const json& v) { return v.is_string() ? v.get<std::string>() : "never"; };
    std::cout << "  written       " << day(h.value("created", json())) << '\n'
              << "  last read     " << day(h.value("last_read", json())) << '\n'
              << "  reads         " << h.value("reads", uint64_t{0}) << " on "
              << h.value("read_days", uint64_t{0}) << " days\n";
    std::string days;
    for (const json& d : h.value("recent_read_days", json::array())) {
      days += (days.empty() ? "" : " ") + d.get<std::string>();
    }
    if (!days.empty()) {
      std::cout << "  read on       " << days << '\n';
    }
  }
  if (b.contains("restore")) {
    const json& rs = b["restore"];
    std::cout << "  restore       "
              << (rs.value("ongoing", false)
                      ? std::string("in progress")
                      : "copy until " + rs.value("expires", json()).get<std::string>())
              << '\n';
  }
  std::cout << "  policy        " << b.value("policy", "") << " (today " << b.value("today", "")
            << ")\n";
  if (b.contains("costs") && !b["costs"].empty()) {
    Table t({"  TIER", "EXPECTED COST", "PLAN"});
    for (const json& c : b["costs"]) {
      char cost[32];
      std::snprintf(cost, sizeof cost, "$%.8f", c.value("expected_cost", 0.0));
      t.add({"  " + c.value("tier", ""), cost, c.value("note", "")});
    }
    t.print();
  }
  const json d = b.value("decision", json::object());
  std::cout << "  decision      " << d.value("tier", "") << ": " << d.value("reason", "") << '\n';
  if (b.contains("planned")) {
    std::cout << "  planned       " << b["planned"].value("kind", "") << " to "
              << b["planned"].value("to_tier", "") << '\n';
  }
  return kExitOk;
}

int AdminCommands::tiers_report(const Session& s) const {
  std::string path = "/tiering/report";
  std::string sep = "?";
  if (!tenant_.empty()) {
    path += sep + query_param("tenant", tenant_);
    sep = "&";
  }
  if (!bucket_.empty()) {
    path += sep + query_param("bucket", bucket_);
  }
  const auto r = s.call(http::verb::get, path);
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  Table t({"TIER", "STORAGE CLASS", "OBJECTS", "BYTES", "MONTHLY COST"});
  for (const json& row : r.body.value("tiers", json::array())) {
    const json sc = row.value("storage_class", json());
    t.add({row.value("tier", ""), sc.is_string() ? sc.get<std::string>() : "-",
           std::to_string(row.value("objects", uint64_t{0})),
           std::to_string(row.value("bytes", uint64_t{0})), money(row.value("monthly_cost", 0.0))});
  }
  const json total = r.body.value("total", json::object());
  t.add({"total", "", std::to_string(total.value("objects", uint64_t{0})),
         std::to_string(total.value("bytes", uint64_t{0})),
         money(total.value("monthly_cost", 0.0))});
  t.print();
  char percent[32];
  std::snprintf(percent, sizeof percent, "%.1f%%", total.value("savings_percent", 0.0));
  std::cout << "\nall on the hottest tier: " << money(total.value("all_hot_monthly_cost", 0.0))
            << " a month; saved " << money(total.value("savings", 0.0)) << " (" << percent << ")\n";
  return kExitOk;
}

int AdminCommands::tiers_run(const Session& s) const {
  const auto r = s.call(http::verb::post, "/tiering/run");
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  const json& b = r.body;
  std::cout << "examined " << b.value("examined", uint64_t{0}) << ", planned "
            << b.value("planned", uint64_t{0}) << ", moved " << b.value("moved", uint64_t{0})
            << ", abandoned " << b.value("abandoned", uint64_t{0}) << ", failed "
            << b.value("failed", uint64_t{0}) << ", restored " << b.value("restored", uint64_t{0})
            << ", expired " << b.value("expired", uint64_t{0}) << '\n';
  return b.value("failed", uint64_t{0}) > 0 ? kExitServerError : kExitOk;
}

std::string AdminCommands::billing_query() const {
  std::string q;
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"tenant", tenant_},
                                    {"from", from_},
                                    {"to", to_}}) {
    if (!value.empty()) {
      q += (q.empty() ? "?" : "&") + query_param(name, value);
    }
  }
  return q;
}

namespace {

std::string decimal(double v, int digits) {
  char out[64];
  std::snprintf(out, sizeof out, "%.*f", digits, v);
  return out;
}

// Prints `rows` (JSON objects) with `columns` as a table, CSV (a header, then RFC 4180 rows) or
// JSON lines.
void print_rows(const json& rows, const std::vector<std::string>& columns,
                const std::string& format) {
  const auto text = [](const json& v) -> std::string {
    if (v.is_string()) {
      return v.get<std::string>();
    }
    if (v.is_number_float()) {
      return decimal(v.get<double>(), 6);
    }
    return v.is_null() ? "" : v.dump();
  };
  if (format == "jsonl") {
    for (const json& row : rows) {
      std::cout << row.dump() << '\n';
    }
    return;
  }
  if (format == "csv") {
    for (size_t i = 0; i < columns.size(); ++i) {
      std::cout << (i ? "," : "") << csv_field(columns[i]);
    }
    std::cout << '\n';
    for (const json& row : rows) {
      for (size_t i = 0; i < columns.size(); ++i) {
        std::cout << (i ? "," : "") << csv_field(text(row.value(columns[i], json())));
      }
      std::cout << '\n';
    }
    return;
  }
  std::vector<std::string> headers;
  for (const std::string& c : columns) {
    std::string h = c;
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char ch) {
      return ch == '_' ? ' ' : static_cast<char>(std::toupper(ch));
    });
    headers.push_back(std::move(h));
  }
  Table t(headers);
  for (const json& row : rows) {
    std::vector<std::string> cells;
    for (const std::string& c : columns) {
      cells.push_back(text(row.value(c, json())));
    }
    t.add(std::move(cells));
  }
  t.print();
}

}  // namespace

int AdminCommands::billing_usage(const Session& s) const {
  std::string path = "/billing/usage" + billing_query();
  path +=
      (path.find('?') == std::string::npos ? "?" : "&") + query_param("granularity", granularity_);
  const auto r = s.call(http::verb::get, path);
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  json rows = r.body.value("rows", json::array());
  for (json& row : rows) {
    // GB-hours for people; byte_seconds stays exact for machines.
    row["gb_hours"] = static_cast<double>(row.value("byte_seconds", uint64_t{0})) / 3600.0 /
                      (1024.0 * 1024.0 * 1024.0);
  }
  std::vector<std::string> columns = {
      "tenant",           "hour",     "tier",           "byte_seconds",
      "gb_hours",         "objects",  "bytes",          "requests_a",
      "requests_b",       "bytes_in", "bytes_out",      "bytes_retrieved",
      "restore_requests", "restores", "restored_bytes", "transitions_in",
      "deletes"};
  if (granularity_ == "total") {
    columns.erase(columns.begin() + 1);
  }
  if (format_ == "table") {
    // The table keeps to what fits a terminal; csv and jsonl have every column.
    columns = {"tenant",     "tier",       "gb_hours", "objects",   "bytes",
               "requests_a", "requests_b", "bytes_in", "bytes_out", "bytes_retrieved"};
    if (granularity_ == "hour") {
      columns.insert(columns.begin() + 1, "hour");
    }
  }
  print_rows(rows, columns, format_);
  return kExitOk;
}

int AdminCommands::billing_invoice(const Session& s) const {
  const auto r = s.call(http::verb::get, "/billing/invoice" + billing_query());
  if (r.exit_code != kExitOk) {
    return r.exit_code;
  }
  if (s.json_output()) {
    s.print_json(r.body);
    return kExitOk;
  }
  json lines = r.body.value("lines", json::array());
  if (format_ == "table") {
    for (json& l : lines) {
      l["quantity"] = decimal(l.value("quantity", 0.0), 6);
      l["unit_price"] = decimal(l.value("unit_price", 0.0), 6);
      l["amount"] = decimal(l.value("amount", 0.0), 4);
    }
  }
  print_rows(lines, {"item", "quantity", "unit", "unit_price", "amount"}, format_);
  if (format_ == "table") {
    std::cout << "\ntenant " << r.body.value("tenant", "") << ", " << r.body.value("from", "")
              << " to " << r.body.value("to", "") << ": total "
              << decimal(r.body.value("total", 0.0), 2) << ' ' << r.body.value("currency", "")
              << '\n';
  }
  return kExitOk;
}

}  // namespace vaultaire::vaultctl
