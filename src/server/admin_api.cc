#include "server/admin_api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/logging.h"
#include "common/secrets.h"
#include "common/time_format.h"
#include "s3/s3_service.h"

namespace vaultaire::server {
namespace {

using json = nlohmann::json;

// An answer: status and JSON body.
struct Answer {
  http::status status = http::status::ok;
  json body = json::object();
};

Answer error(http::status status, std::string_view code, std::string message) {
  return {status, json{{"error", {{"code", code}, {"message", std::move(message)}}}}};
}

// The JSON types a request body's fields may have.
enum class Field { kString, kBool, kNumber, kObject };

// What is wrong with `body` as an object of `fields` (each optional, none other allowed), as
// a 400 answer; nullopt when nothing is.
std::optional<Answer> body_problem(
    const json& body, std::initializer_list<std::pair<std::string_view, Field>> fields) {
  if (!body.is_object()) {
    return error(http::status::bad_request, "InvalidArgument", "the body must be a JSON object");
  }
  for (const auto& [name, value] : body.items()) {
    const auto* f = std::find_if(fields.begin(), fields.end(),
                                 [&name = name](const auto& f) { return f.first == name; });
    if (f == fields.end()) {
      return error(http::status::bad_request, "InvalidArgument", "unknown field \"" + name + "\"");
    }
    const bool ok = f->second == Field::kString   ? value.is_string()
                    : f->second == Field::kBool   ? value.is_boolean()
                    : f->second == Field::kNumber ? value.is_number()
                                                  : value.is_object();
    if (!ok) {
      static constexpr std::string_view kNames[] = {"a string", "true or false", "a number",
                                                    "an object"};
      return error(
          http::status::bad_request, "InvalidArgument",
          "field \"" + name + "\" must be " + std::string(kNames[static_cast<int>(f->second)]));
    }
  }
  return std::nullopt;
}

// Our error codes as admin API errors.
Answer from_error(const boost::system::error_code& ec, std::string_view what) {
  const std::string w(what);
  if (ec.category() == vaultaire_category()) {
    switch (static_cast<Errc>(ec.value())) {
      case Errc::kInvalidName:
      case Errc::kInvalidContainerName:
        return error(http::status::bad_request, "InvalidName", "not a valid name: " + w);
      case Errc::kInvalidArgument:
        return error(http::status::bad_request, "InvalidArgument", "invalid request: " + w);
      case Errc::kAccessDenied:
        return error(http::status::forbidden, "AccessDenied", "not allowed: " + w);
      case Errc::kNotFound:
      case Errc::kNoSuchContainer:
      case Errc::kNoSuchArtifact:
        return error(http::status::not_found, "NotFound", "no such " + w);
      case Errc::kAlreadyExists:
      case Errc::kContainerExists:
        return error(http::status::conflict, "AlreadyExists", w + " already exists");
      case Errc::kNotEmpty:
        return error(http::status::conflict, "NotEmpty", w + " is not empty");
      case Errc::kConflict:
        return error(http::status::conflict, "Conflict",
                     "a concurrent change of " + w + " is in progress; retry");
      default:
        break;
    }
  }
  logger("server")->error("admin request failed what={} error={}", w, ec.message());
  return error(http::status::internal_server_error, "InternalError", ec.message());
}

json quotas_json(const proto::Quotas& q) {
  return {{"max_bytes", q.max_bytes()},
          {"max_objects", q.max_objects()},
          {"max_buckets", q.max_buckets()}};
}

json usage_json(const proto::TenantRecord& t) {
  return {{"bytes", t.bytes()}, {"objects", t.objects()}, {"buckets", t.buckets()}};
}

json tenant_json(const std::string& name, const proto::TenantRecord& t) {
  json j = {{"name", name}, {"quotas", quotas_json(t.quotas())}, {"usage", usage_json(t)}};
  if (t.created_unix_nanos() != 0) {
    j["created"] = format_iso8601(t.created_unix_nanos());
  }
  return j;
}

json rate_json(const proto::RateLimit& r) {
  return {{"requests_per_second", r.requests_per_second()}, {"burst", r.burst()}};
}

json key_json(const std::string& id, const proto::KeyRecord& k) {
  return {{"access_key", id},
          {"tenant", k.tenant()},
          {"user", k.user()},
          {"enabled", k.enabled()},
          {"rate_limit", rate_json(k.rate_limit())},
          {"created", format_iso8601(k.created_unix_nanos())}};
}

// An instant of a billing period: an RFC 3339 time ("2026-11-01T00:00:00Z") or a date
// ("2026-11-01", midnight UTC), in unix nanoseconds.
std::optional<int64_t> parse_period_time(const std::string& text) {
  const std::optional<int64_t> seconds =
      parse_iso8601(text.size() == 10 ? text + "T00:00:00Z" : text);
  if (!seconds) {
    return std::nullopt;
  }
  return *seconds * kNanosPerSecond;
}

// Midnight UTC of the first day of the month of `unix_nanos`.
int64_t month_start(int64_t unix_nanos) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<nanoseconds>(nanoseconds(unix_nanos)));
  const year_month_day ymd(day);
  const sys_days first(ymd.year() / ymd.month() / 1);
  return duration_cast<nanoseconds>(first.time_since_epoch()).count();
}

// A JSON number as an unsigned count; false when it is not one.
bool read_count(const json& j, const char* name, uint64_t* out) {
  if (!j.contains(name)) {
    return true;
  }
  if (!j[name].is_number_unsigned() &&
      !(j[name].is_number_integer() && j[name].get<int64_t>() >= 0)) {
    return false;
  }
  *out = j[name].get<uint64_t>();
  return true;
}

// Reads {"max_bytes": N, "max_objects": N, "max_buckets": N} (each optional) into *q; the
// problem, if any.
std::optional<Answer> read_quotas(const json& j, proto::Quotas* q) {
  if (auto bad = body_problem(j, {{"max_bytes", Field::kNumber},
                                  {"max_objects", Field::kNumber},
                                  {"max_buckets", Field::kNumber}})) {
    return bad;
  }
  uint64_t bytes = 0;
  uint64_t objects = 0;
  uint64_t buckets = 0;
  if (!read_count(j, "max_bytes", &bytes) || !read_count(j, "max_objects", &objects) ||
      !read_count(j, "max_buckets", &buckets)) {
    return error(http::status::bad_request, "InvalidArgument",
                 "quotas are whole numbers, 0 or more (0: no limit)");
  }
  q->set_max_bytes(bytes);
  q->set_max_objects(objects);
  q->set_max_buckets(buckets);
  return std::nullopt;
}

// Reads {"requests_per_second": X, "burst": X} (each optional) into *r; the problem, if any.
std::optional<Answer> read_rate(const json& j, proto::RateLimit* r) {
  if (auto bad =
          body_problem(j, {{"requests_per_second", Field::kNumber}, {"burst", Field::kNumber}})) {
    return bad;
  }
  const double rate = j.value("requests_per_second", 0.0);
  const double burst = j.value("burst", 0.0);
  if (rate < 0 || burst < 0) {
    return error(http::status::bad_request, "InvalidArgument",
                 "requests_per_second and burst are 0 or more (0: no limit)");
  }
  r->set_requests_per_second(rate);
  r->set_burst(burst);
  return std::nullopt;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    if (slash != 0) {
      out.emplace_back(path.substr(0, slash));
    }
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

// One admin request being answered.
struct AdminApi::Call {
  s3::HttpExchange& ex;
  std::string request_id = new_request_id();
  http::verb method = http::verb::unknown;
  std::vector<std::string> path;  // after /admin/v1
  std::vector<QueryParam> query;
  json body = json::object();  // the request's, when it has one
  s3::Identity caller;
  Answer answer;

  bool root() const { return caller.role == "root"; }
  std::string param(std::string_view name) const {
    for (const auto& q : query) {
      if (q.name == name) {
        return q.value;
      }
    }
    return {};
  }
  // Root, or an admin of `tenant`.
  bool manages(const std::string& tenant) const {
    return root() || (caller.role == "admin" && caller.tenant == tenant);
  }
  proto::RequestContext context(const std::string& tenant) const {
    proto::RequestContext ctx;
    ctx.set_tenant(tenant);
    ctx.set_request_id(request_id);
    ctx.set_principal(caller.principal);
    ctx.set_source_address(ex.remote());
    ctx.set_spoke_id("admin");
    return ctx;
  }
};

asio::awaitable<Result<proto::TenantRecord>> AdminApi::tenant_record(Call& call,
                                                                     std::string tenant) {
  proto::Query q;
  *q.mutable_context() = call.context(tenant);
  q.mutable_get_tenant();
  auto r = co_await hub_.query(std::move(q));
  if (!r) {
    if (is(r.error(), Errc::kNotFound) && tenant == "default") {
      co_return proto::TenantRecord();  // the default tenant exists before anything happens
    }
    co_return r.error();
  }
  if (!r->tenant().created() && tenant != "default") {
    co_return Errc::kNotFound;  // only usage was ever recorded: not a tenant of the admin API
  }
  co_return r->tenant();
}

AdminApi::AdminApi(actors::Hub& hub, HubCredentialStore& credentials, s3::AuthOptions auth,
                   const Clock& clock)
    : hub_(hub), credentials_(credentials), auth_(std::move(auth)), clock_(clock) {}

asio::awaitable<void> AdminApi::handle(s3::HttpExchange& exchange) {
  Call call{exchange};
  call.method = exchange.request().method();
  auto facts = s3::request_facts(exchange);
  if (!facts) {
    call.answer = error(http::status::bad_request, "InvalidArgument", "malformed request target");
  } else {
    call.path = split_path(std::string_view(facts->decoded_path).substr(9));  // after /admin/v1
    call.query = facts->query;
    auto auth =
        s3::authenticate(*facts, credentials_, auth_, clock_.now_unix_nanos() / kNanosPerSecond);
    if (!auth) {
      call.answer = error(s3::info(auth.error().code).status, s3::info(auth.error().code).code,
                          std::string(auth.error().text()));
    } else if (auth->identity.anonymous) {
      call.answer = error(http::status::forbidden, "AccessDenied", "sign the request");
    } else if (call.caller = auth->identity;
               auth->identity.role != "root" && auth->identity.role != "admin") {
      call.answer = error(http::status::forbidden, "AccessDenied",
                          "only root and tenant admins use the admin API");
    } else {
      std::string text;
      bool body_ok = true;
      for (;;) {
        auto n = co_await exchange.read_body(&text, 64 * 1024);
        if (!n || text.size() > (1 << 20)) {
          body_ok = false;
          break;
        }
        if (*n == 0) {
          break;
        }
      }
      if (!body_ok) {
        call.answer = error(http::status::bad_request, "InvalidArgument", "unreadable body");
      } else if (!text.empty()) {
        call.body = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (call.body.is_discarded()) {
          call.answer = error(http::status::bad_request, "InvalidArgument", "the body is not JSON");
        } else if (!call.body.is_object()) {
          call.answer =
              error(http::status::bad_request, "InvalidArgument", "the body must be a JSON object");
        }
      }
      if (call.answer.status == http::status::ok && event_stream_ != nullptr &&
          call.method == http::verb::get && call.path == std::vector<std::string>{"events"}) {
        const bool streamed = co_await stream_events(call);
        if (streamed) {
          co_return;  // the answer was the stream, already sent and logged
        }
      }
      if (call.answer.status == http::status::ok) {
        // A handler that throws is a bug: answer InternalError and keep serving.
        auto routed = route(call);
        const std::optional<std::string> failure = co_await exception_of(std::move(routed));
        if (failure) {
          logger("admin")->error("admin handler threw req={} path=/admin/v1/{} error={}",
                                 call.request_id, fmt::join(call.path, "/"), *failure);
          call.answer = error(http::status::internal_server_error, "InternalError",
                              "the server failed to answer; the log has the details");
        }
      }
    }
  }
  if (call.answer.status == http::status::forbidden && !call.caller.principal.empty()) {
    co_await record_denial(call);
  }
  http::response<http::string_body> res{call.answer.status, 11};
  res.set(http::field::server, "Vaultaire");
  res.set("x-amz-request-id", call.request_id);
  if (call.answer.status != http::status::no_content) {
    res.set(http::field::content_type, "application/json");
    if (call.answer.body.contains("error")) {
      call.answer.body["error"]["request_id"] = call.request_id;
    }
    // Names from the request's path are echoed in errors; bytes that are not UTF-8 become U+FFFD
    // (the default would throw).
    res.body() = call.answer.body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  if (!exchange.body_done()) {
    exchange.close_after();
  }
  logger("access")->info("admin request req={} method={} path=/admin/v1/{} status={} principal={}",
                         call.request_id, std::string(http::to_string(call.method)),
                         fmt::join(call.path, "/"), res.result_int(),
                         call.caller.principal.empty() ? "-" : call.caller.principal);
  (void)co_await exchange.send(std::move(res));
}

asio::awaitable<bool> AdminApi::stream_events(Call& call) {
  EventStreamRequest request;
  const std::string from = call.param("from");
  if (!from.empty()) {
    const auto [end, ec] = std::from_chars(from.data(), from.data() + from.size(), request.from);
    if (ec != std::errc() || end != from.data() + from.size()) {
      call.answer =
          error(http::status::bad_request, "InvalidArgument", "from must be a sequence number");
      co_return false;
    }
  }
  const std::string follow = call.param("follow");
  if (follow == "true" || follow == "1") {
    request.follow = true;
  } else if (!follow.empty() && follow != "false" && follow != "0") {
    call.answer = error(http::status::bad_request, "InvalidArgument", "follow is true or false");
    co_return false;
  }
  // Root sees every tenant (or the one it names); a tenant admin its own only.
  request.tenant = call.param("tenant");
  if (!call.root()) {
    if (request.tenant.empty()) {
      request.tenant = call.caller.tenant;
    }
    if (!call.manages(request.tenant)) {
      call.answer = error(http::status::forbidden, "AccessDenied", "not allowed");
      co_return false;
    }
  }
  if (!call.ex.body_done()) {
    call.ex.close_after();
  }
  logger("access")->info(
      "admin request req={} method=GET path=/admin/v1/events status=200 principal={} from={} "
      "follow={} tenant={} streaming",
      call.request_id, call.caller.principal, request.from, request.follow,
      request.tenant.empty() ? "*" : request.tenant);
  const uint64_t sent = co_await event_stream_->serve(call.ex, std::move(request), call.request_id);
  logger("server")->debug("event stream done req={} events={}", call.request_id, sent);
  co_return true;
}

asio::awaitable<void> AdminApi::record_denial(Call& call) {
  // A refused admin call is an AccessDenied event like a refused S3 request, so audit sees it.
  const std::string resource = fmt::format("/admin/v1/{}", fmt::join(call.path, "/"));
  proto::Command c;
  *c.mutable_context() = call.context(call.caller.tenant);
  proto::AccessDenied& d = *c.mutable_record_denial()->mutable_denial();
  d.set_action(fmt::format("Admin:{} {}", std::string(http::to_string(call.method)), resource));
  d.set_resource(resource);
  d.set_reason(call.answer.body["error"].value("message", "not allowed"));
  (void)co_await hub_.execute(std::move(c));
}

asio::awaitable<void> AdminApi::route(Call& call) {
  const auto& p = call.path;
  const http::verb m = call.method;
  const Answer forbidden = error(http::status::forbidden, "AccessDenied", "not allowed");

  // /tenants
  if (p.size() == 1 && p[0] == "tenants") {
    if (!call.root()) {
      call.answer = forbidden;
      co_return;
    }
    if (m == http::verb::get) {
      proto::Query q;
      *q.mutable_context() = call.context("");
      q.mutable_list_tenants();
      auto r = co_await hub_.query(std::move(q));
      if (!r) {
        call.answer = from_error(r.error(), "tenants");
        co_return;
      }
      json list = json::array();
      bool has_default = false;
      for (const auto& t : r->tenants().tenants()) {
        if (t.record().created() || t.name() == "default") {
          list.push_back(tenant_json(t.name(), t.record()));
          has_default = has_default || t.name() == "default";
        }
      }
      if (!has_default) {
        list.insert(list.begin(), tenant_json("default", proto::TenantRecord()));
      }
      call.answer.body = {{"tenants", list}};
      co_return;
    }
    if (m == http::verb::post) {
      if (auto bad =
              body_problem(call.body, {{"name", Field::kString}, {"quotas", Field::kObject}})) {
        call.answer = std::move(*bad);
        co_return;
      }
      proto::Command c;
      const std::string name = call.body.value("name", "");
      *c.mutable_context() = call.context(name);
      if (call.body.contains("quotas")) {
        if (auto bad =
                read_quotas(call.body["quotas"], c.mutable_create_tenant()->mutable_quotas())) {
          call.answer = std::move(*bad);
          co_return;
        }
      }
      c.mutable_create_tenant();
      auto r = co_await hub_.execute(std::move(c));
      if (!r) {
        call.answer = from_error(r.error(), "tenant '" + name + "'");
        co_return;
      }
      proto::Query q;
      *q.mutable_context() = call.context(name);
      q.mutable_get_tenant();
      auto t = co_await hub_.query(std::move(q));
      call.answer = {http::status::created,
                     tenant_json(name, t ? t->tenant() : proto::TenantRecord())};
      co_return;
    }
  }

  // /tenants/{t}/...
  if (p.size() >= 2 && p[0] == "tenants") {
    const std::string tenant = p[1];
    if (!call.manages(tenant)) {
      call.answer = forbidden;
      co_return;
    }
    if (p.size() == 2 && m == http::verb::get) {
      auto t = co_await tenant_record(call, tenant);
      call.answer = t ? Answer{http::status::ok, tenant_json(tenant, *t)}
                      : from_error(t.error(), "tenant '" + tenant + "'");
      co_return;
    }
    if (p.size() == 2 && m == http::verb::delete_) {
      if (!call.root()) {
        call.answer = forbidden;
        co_return;
      }
      proto::Command c;
      *c.mutable_context() = call.context(tenant);
      c.mutable_delete_tenant();
      auto r = co_await hub_.execute(std::move(c));
      call.answer = r ? Answer{http::status::no_content, {}}
                      : from_error(r.error(), "tenant '" + tenant + "'");
      co_return;
    }
    if (p.size() == 3 && p[2] == "quotas" && m == http::verb::put) {
      if (!call.root()) {
        call.answer = forbidden;
        co_return;
      }
      proto::Command c;
      *c.mutable_context() = call.context(tenant);
      if (auto bad = read_quotas(call.body, c.mutable_set_quotas()->mutable_quotas())) {
        call.answer = std::move(*bad);
        co_return;
      }
      auto r = co_await hub_.execute(std::move(c));
      if (!r) {
        call.answer = from_error(r.error(), "tenant '" + tenant + "'");
        co_return;
      }
      auto t = co_await tenant_record(call, tenant);
      call.answer = t ? Answer{http::status::ok, tenant_json(tenant, *t)}
                      : from_error(t.error(), "tenant '" + tenant + "'");
      co_return;
    }
    if (p.size() == 3 && p[2] == "usage" && m == http::verb::get) {
      auto t = co_await tenant_record(call, tenant);
      call.answer = t ? Answer{http::status::ok,
                               {{"tenant", tenant},
                                {"usage", usage_json(*t)},
                                {"quotas", quotas_json(t->quotas())}}}
                      : from_error(t.error(), "tenant '" + tenant + "'");
      co_return;
    }
    if (p.size() == 3 && p[2] == "users") {
      if (m == http::verb::get) {
        proto::Query q;
        *q.mutable_context() = call.context(tenant);
        q.mutable_list_users();
        auto r = co_await hub_.query(std::move(q));
        if (!r) {
          call.answer = from_error(r.error(), "users");
          co_return;
        }
        json list = json::array();
        for (const auto& u : r->users().users()) {
          list.push_back({{"tenant", tenant},
                          {"name", u.name()},
                          {"role", u.record().role()},
                          {"created", format_iso8601(u.record().created_unix_nanos())}});
        }
        call.answer.body = {{"users", list}};
        co_return;
      }
      if (m == http::verb::post) {
        if (auto bad =
                body_problem(call.body, {{"name", Field::kString}, {"role", Field::kString}})) {
          call.answer = std::move(*bad);
          co_return;
        }
        const std::string name = call.body.value("name", "");
        proto::Command c;
        *c.mutable_context() = call.context(tenant);
        c.mutable_create_user()->set_user(name);
        c.mutable_create_user()->set_role(call.body.value("role", "member"));
        auto r = co_await hub_.execute(std::move(c));
        if (!r) {
          call.answer =
              from_error(r.error(), is(r.error(), Errc::kNotFound) ? "tenant '" + tenant + "'"
                                                                   : "user '" + name + "'");
          co_return;
        }
        call.answer = {http::status::created,
                       {{"tenant", tenant},
                        {"name", name},
                        {"role", call.body.value("role", "member")},
                        {"created", format_iso8601(r->time_unix_nanos())}}};
        co_return;
      }
    }
    if (p.size() == 4 && p[2] == "users" && m == http::verb::delete_) {
      proto::Command c;
      *c.mutable_context() = call.context(tenant);
      c.mutable_delete_user()->set_user(p[3]);
      auto r = co_await hub_.execute(std::move(c));
      call.answer =
          r ? Answer{http::status::no_content, {}} : from_error(r.error(), "user '" + p[3] + "'");
      co_return;
    }
    if (p.size() == 5 && p[2] == "users" && p[4] == "keys" && m == http::verb::post) {
      if (auto bad = body_problem(call.body, {{"rate_limit", Field::kObject}})) {
        call.answer = std::move(*bad);
        co_return;
      }
      const std::string access_key = new_access_key_id();
      const std::string secret = new_secret_key();
      proto::Command c;
      *c.mutable_context() = call.context(tenant);
      proto::AccessKeyCreated& k = *c.mutable_create_access_key()->mutable_key();
      k.set_access_key(access_key);
      k.set_user(p[3]);
      if (call.body.contains("rate_limit")) {
        if (auto bad = read_rate(call.body["rate_limit"], k.mutable_rate_limit())) {
          call.answer = std::move(*bad);
          co_return;
        }
      }
      auto sealed = credentials_.seal(secret, access_key);
      if (!sealed) {
        call.answer = from_error(sealed.error(), "key");
        co_return;
      }
      *k.mutable_secret() = std::move(*sealed);
      const proto::RateLimit rate = k.rate_limit();
      auto r = co_await hub_.execute(std::move(c));
      if (!r) {
        call.answer = from_error(r.error(), "user '" + p[3] + "'");
        co_return;
      }
      call.answer = {http::status::created,
                     {{"access_key", access_key},
                      {"secret_key", secret},
                      {"tenant", tenant},
                      {"user", p[3]},
                      {"enabled", true},
                      {"rate_limit", rate_json(rate)},
                      {"created", format_iso8601(r->time_unix_nanos())}}};
      co_return;
    }
    if (p.size() == 3 && p[2] == "keys" && m == http::verb::get) {
      proto::Query q;
      *q.mutable_context() = call.context(tenant);
      q.mutable_list_access_keys();
      auto r = co_await hub_.query(std::move(q));
      if (!r) {
        call.answer = from_error(r.error(), "keys");
        co_return;
      }
      json list = json::array();
      for (const auto& k : r->keys().keys()) {
        list.push_back(key_json(k.access_key(), k.record()));
      }
      call.answer.body = {{"keys", list}};
      co_return;
    }
    if (p.size() == 3 && p[2] == "grants") {
      if (m == http::verb::get) {
        proto::Query q;
        *q.mutable_context() = call.context(tenant);
        q.mutable_list_grants();
        auto r = co_await hub_.query(std::move(q));
        if (!r) {
          call.answer = from_error(r.error(), "grants");
          co_return;
        }
        json list = json::array();
        for (const auto& g : r->grants().grants()) {
          list.push_back({{"user", g.user()},
                          {"bucket", g.container()},
                          {"read", g.record().read()},
                          {"write", g.record().write()}});
        }
        call.answer.body = {{"grants", list}};
        co_return;
      }
      if (m == http::verb::put) {
        if (auto bad = body_problem(call.body, {{"user", Field::kString},
                                                {"bucket", Field::kString},
                                                {"read", Field::kBool},
                                                {"write", Field::kBool}})) {
          call.answer = std::move(*bad);
          co_return;
        }
        if (!call.body.contains("user") || !call.body.contains("bucket")) {
          call.answer =
              error(http::status::bad_request, "InvalidArgument", "a grant names user and bucket");
          co_return;
        }
        const std::string user = call.body.value("user", "");
        const std::string bucket = call.body.value("bucket", "");
        proto::Command c;
        *c.mutable_context() = call.context(tenant);
        c.set_container(bucket);
        proto::GrantChanged& g = *c.mutable_set_grant()->mutable_grant();
        g.set_user(user);
        g.set_read(call.body.value("read", false));
        g.set_write(call.body.value("write", false));
        auto r = co_await hub_.execute(std::move(c));
        call.answer = r ? Answer{http::status::ok,
                                 {{"user", user},
                                  {"bucket", bucket},
                                  {"read", call.body.value("read", false)},
                                  {"write", call.body.value("write", false)}}}
                        : from_error(r.error(), "user '" + user + "' or bucket '" + bucket + "'");
        co_return;
      }
    }
    if (p.size() == 5 && p[2] == "buckets" && p[4] == "acl" && m == http::verb::put) {
      if (auto bad = body_problem(call.body, {{"acl", Field::kString}})) {
        call.answer = std::move(*bad);
        co_return;
      }
      const std::string acl = call.body.value("acl", "");
      if (acl != "private" && acl != "public-read") {
        call.answer = error(http::status::bad_request, "InvalidArgument",
                            "acl is \"private\" or \"public-read\"");
        co_return;
      }
      proto::Command c;
      *c.mutable_context() = call.context(tenant);
      c.set_container(p[3]);
      c.mutable_set_container_acl()->set_acl(acl == "private" ? "" : acl);
      auto r = co_await hub_.execute(std::move(c));
      call.answer = r ? Answer{http::status::ok, {{"bucket", p[3]}, {"acl", acl}}}
                      : from_error(r.error(), "bucket '" + p[3] + "'");
      co_return;
    }
  }

  // /keys/{access key}
  if (p.size() == 2 && p[0] == "keys" && (m == http::verb::patch || m == http::verb::delete_)) {
    proto::Query q;
    *q.mutable_context() = call.context(call.caller.tenant);
    q.mutable_get_access_key()->set_access_key(p[1]);
    auto key = co_await hub_.query(std::move(q));
    if (!key || !call.manages(key->key().tenant())) {
      // Another tenant's key is as good as absent to a tenant admin.
      call.answer = key ? error(http::status::not_found, "NotFound", "no such key '" + p[1] + "'")
                        : from_error(key.error(), "key '" + p[1] + "'");
      co_return;
    }
    proto::Command c;
    *c.mutable_context() = call.context(key->key().tenant());
    if (m == http::verb::delete_) {
      c.mutable_delete_access_key()->set_access_key(p[1]);
    } else {
      proto::AccessKeyChanged& change = *c.mutable_change_access_key()->mutable_change();
      change.set_access_key(p[1]);
      if (auto bad = body_problem(call.body,
                                  {{"enabled", Field::kBool}, {"rate_limit", Field::kObject}})) {
        call.answer = std::move(*bad);
        co_return;
      }
      if (call.body.contains("enabled")) {
        change.set_enabled(call.body["enabled"].get<bool>());
      }
      if (call.body.contains("rate_limit")) {
        if (auto bad = read_rate(call.body["rate_limit"], change.mutable_rate_limit())) {
          call.answer = std::move(*bad);
          co_return;
        }
        change.set_rate_limit_changed(true);
      }
    }
    auto r = co_await hub_.execute(std::move(c));
    if (!r) {
      call.answer = from_error(r.error(), "key '" + p[1] + "'");
      co_return;
    }
    if (m == http::verb::delete_) {
      call.answer = {http::status::no_content, {}};
      co_return;
    }
    proto::Query again;
    *again.mutable_context() = call.context(key->key().tenant());
    again.mutable_get_access_key()->set_access_key(p[1]);
    auto now = co_await hub_.query(std::move(again));
    call.answer = now ? Answer{http::status::ok, key_json(p[1], now->key())}
                      : from_error(now.error(), "key '" + p[1] + "'");
    co_return;
  }

  // /master-key/rotate
  if (p.size() == 2 && p[0] == "master-key" && p[1] == "rotate" && m == http::verb::post) {
    if (!call.root()) {
      call.answer = forbidden;
      co_return;
    }
    auto rotated = co_await credentials_.rotate(hub_);
    call.answer = rotated ? Answer{http::status::ok,
                                   {{"key_id", rotated->first}, {"reencrypted", rotated->second}}}
                  : is(rotated.error(), Errc::kInvalidArgument)
                      ? error(http::status::bad_request, "InvalidArgument",
                              "the master key came from the environment: set "
                              "--master-key-file to rotate it")
                      : from_error(rotated.error(), "master key");
    co_return;
  }

  if (co_await route_tiering(call)) {
    co_return;
  }
  if (co_await route_billing(call)) {
    co_return;
  }

  call.answer = error(http::status::not_found, "NotFound", "no such admin resource");
}

asio::awaitable<bool> AdminApi::route_tiering(Call& call) {
  const auto& p = call.path;
  const http::verb m = call.method;
  // /test/clock: let time pass (a server started with --test-clock only).
  if (p.size() == 2 && p[0] == "test" && p[1] == "clock" && test_clock_ != nullptr) {
    if (!call.root()) {
      call.answer = error(http::status::forbidden, "AccessDenied", "not allowed");
      co_return true;
    }
    if (m == http::verb::post) {
      if (auto bad = body_problem(call.body, {{"advance_seconds", Field::kNumber}})) {
        call.answer = std::move(*bad);
        co_return true;
      }
      const double seconds = call.body.value("advance_seconds", 0.0);
      if (seconds < 0) {
        call.answer = error(http::status::bad_request, "InvalidArgument",
                            "advance_seconds must be >= 0: the clock only moves forward");
        co_return true;
      }
      test_clock_->advance(std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9)));
    }
    call.answer.body = {{"now", format_iso8601(test_clock_->now_unix_nanos())},
                        {"offset_seconds", test_clock_->offset_nanos() / kNanosPerSecond}};
    co_return true;
  }
  if (p.empty() || p[0] != "tiering" || tiering_ == nullptr) {
    co_return false;
  }
  // Tenant admins see their own tenant; root any (or, for the report, all).
  std::string tenant = call.param("tenant");
  if (!call.root()) {
    if (tenant.empty()) {
      tenant = call.caller.tenant;
    }
    if (!call.manages(tenant)) {
      call.answer = error(http::status::forbidden, "AccessDenied", "not allowed");
      co_return true;
    }
  }
  if (p.size() == 2 && p[1] == "run" && m == http::verb::post) {
    if (!call.root()) {
      call.answer = error(http::status::forbidden, "AccessDenied", "not allowed");
      co_return true;
    }
    auto r = co_await tiering_->run_pass();
    call.answer = r ? Answer{http::status::ok,
                             {{"examined", r->examined},
                              {"planned", r->planned},
                              {"moved", r->moved},
                              {"abandoned", r->abandoned},
                              {"failed", r->failed},
                              {"restored", r->restored},
                              {"expired", r->expired}}}
                    : from_error(r.error(), "tiering pass");
    co_return true;
  }
  if (p.size() == 2 && p[1] == "explain" && m == http::verb::get) {
    const std::string bucket = call.param("bucket");
    const std::string key = call.param("key");
    if (bucket.empty() || key.empty()) {
      call.answer =
          error(http::status::bad_request, "InvalidArgument", "give bucket and key parameters");
      co_return true;
    }
    if (tenant.empty()) {
      tenant = call.caller.tenant;
    }
    auto r = co_await tiering_->explain(tenant, bucket, key);
    call.answer = r ? Answer{http::status::ok, std::move(*r)}
                    : from_error(r.error(), "object '" + bucket + "/" + key + "'");
    co_return true;
  }
  if (p.size() == 2 && p[1] == "report" && m == http::verb::get) {
    const std::string bucket = call.param("bucket");
    if (!bucket.empty() && tenant.empty()) {
      tenant = call.caller.tenant;
    }
    auto r = co_await tiering_->report(tenant, bucket);
    call.answer = r ? Answer{http::status::ok, std::move(*r)} : from_error(r.error(), "report");
    co_return true;
  }
  co_return false;
}

asio::awaitable<bool> AdminApi::route_billing(Call& call) {
  const auto& p = call.path;
  if (p.size() != 2 || p[0] != "billing" || billing_ == nullptr) {
    co_return false;
  }
  if (call.method != http::verb::get || (p[1] != "usage" && p[1] != "invoice")) {
    call.answer = error(http::status::not_found, "NotFound", "no such admin resource");
    co_return true;
  }
  // Tenant admins see their own tenant; root any, or (usage only) all of them.
  std::string tenant = call.param("tenant");
  if (!call.root()) {
    if (tenant.empty()) {
      tenant = call.caller.tenant;
    }
    if (!call.manages(tenant)) {
      call.answer = error(http::status::forbidden, "AccessDenied", "not allowed");
      co_return true;
    }
  }
  if (tenant.empty() && p[1] == "invoice") {
    call.answer = error(http::status::bad_request, "InvalidArgument",
                        "an invoice is for one tenant: give the tenant parameter");
    co_return true;
  }
  // The period [from, to), whole hours: from rounds down, to up. Default: this month so far,
  // by the clock of events (the test clock when there is one).
  const int64_t now =
      test_clock_ != nullptr ? test_clock_->now_unix_nanos() : clock_.now_unix_nanos();
  std::optional<int64_t> to = now;
  std::optional<int64_t> from;
  if (const std::string t = call.param("to"); !t.empty()) {
    to = parse_period_time(t);
  }
  if (const std::string f = call.param("from"); !f.empty()) {
    from = parse_period_time(f);
  } else if (to) {
    from = month_start(*to - 1);
  }
  if (!from || !to || *from < 0 || *to <= *from) {
    call.answer = error(http::status::bad_request, "InvalidArgument",
                        "from and to must be times (2026-11-01 or 2026-11-01T10:00:00Z) with "
                        "from before to");
    co_return true;
  }
  const int64_t from_hour = *from / billing::kNanosPerHour;
  const int64_t to_hour = (*to + billing::kNanosPerHour - 1) / billing::kNanosPerHour;
  const std::string granularity = call.param("granularity");
  if (!granularity.empty() && granularity != "hour" && granularity != "total") {
    call.answer =
        error(http::status::bad_request, "InvalidArgument", "granularity is hour or total");
    co_return true;
  }
  auto rows = co_await billing_->usage(tenant, from_hour, to_hour);
  if (!rows) {
    call.answer = from_error(rows.error(), "billing usage");
    co_return true;
  }
  json body = {{"from", format_iso8601(from_hour * billing::kNanosPerHour)},
               {"to", format_iso8601(to_hour * billing::kNanosPerHour)},
               {"checkpoint", billing_->checkpoint()}};
  if (!tenant.empty()) {
    body["tenant"] = tenant;
  }
  if (p[1] == "usage") {
    json out = json::array();
    const std::vector<billing::UsageRow> totals =
        granularity == "total" ? billing::totals(*rows) : std::vector<billing::UsageRow>{};
    for (const billing::UsageRow& r : granularity == "total" ? totals : *rows) {
      json row = billing::to_json(r);
      if (granularity == "total") {
        row.erase("hour");
      }
      out.push_back(std::move(row));
    }
    body["granularity"] = granularity.empty() ? "hour" : granularity;
    body["rows"] = std::move(out);
  } else {
    json lines = json::array();
    double total = 0;
    for (const billing::InvoiceLine& l : billing::invoice(*rows, prices_)) {
      lines.push_back({{"item", l.item},
                       {"quantity", l.quantity},
                       {"unit", l.unit},
                       {"unit_price", l.unit_price},
                       {"amount", l.amount}});
      total += l.amount;
    }
    body["currency"] = prices_.currency;
    body["lines"] = std::move(lines);
    body["total"] = total;
  }
  call.answer.body = std::move(body);
  co_return true;
}

}  // namespace vaultaire::server
