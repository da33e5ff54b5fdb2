#include "s3/sigv2.h"

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

#include "common/crypto.h"

namespace vaultaire::s3::sigv2 {
namespace {

// Sorted, for binary search.
constexpr std::array<std::string_view, 25> kSubresources = {
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};
static_assert(std::ranges::is_sorted(kSubresources));

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trimmed, and every run of blanks that holds a line break (a fold) made a single space. Other
// runs of spaces stay: Signature Version 2 signs them as sent.
std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  size_t i = 0;
  while (i < value.size()) {
    if (!is_blank(value[i])) {
      out.push_back(value[i++]);
      continue;
    }
    size_t end = i;
    bool fold = false;
    while (end < value.size() && is_blank(value[end])) {
      fold = fold || value[end] == '\r' || value[end] == '\n';
      ++end;
    }
    if (i != 0 && end != value.size()) {
      if (fold) {
        out.push_back(' ');
      } else {
        out.append(value.substr(i, end - i));
      }
    }
    i = end;
  }
  return out;
}

// The first header called `name`, any case, trimmed; "" when absent.
std::string positional(const std::vector<sigv4::Header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name.size() == name.size() && lowercase(h.name) == name) {
      return unfold(h.value);
    }
  }
  return {};
}

}  // namespace

std::optional<Authorization> parse_authorization(std::string_view header) {
  if (header.substr(0, kScheme.size()) != kScheme) {
    return std::nullopt;
  }
  const std::string_view credentials = header.substr(kScheme.size());
  const size_t colon = credentials.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == credentials.size() ||
      credentials.find(':', colon + 1) != std::string_view::npos ||
      credentials.find_first_of(" \t") != std::string_view::npos) {
    return std::nullopt;
  }
  return Authorization{std::string(credentials.substr(0, colon)),
                       std::string(credentials.substr(colon + 1))};
}

bool is_signed_subresource(std::string_view name) {
  return std::binary_search(kSubresources.begin(), kSubresources.end(), name);
}

std::string canonical_resource(std::string_view raw_path, const std::vector<QueryParam>& query) {
  std::vector<const QueryParam*> signed_params;
  for (const auto& p : query) {
    if (is_signed_subresource(p.name)) {
      signed_params.push_back(&p);
    }
  }
  std::sort(signed_params.begin(), signed_params.end(),
            [](const QueryParam* a, const QueryParam* b) {
              return std::tie(a->name, a->value) < std::tie(b->name, b->value);
            });
  std::string out(raw_path);
  char sep = '?';
  for (const QueryParam* p : signed_params) {
    out.push_back(sep);
    sep = '&';
    out.append(p->name);
    if (!p->no_value) {
      out.push_back('=');
      out.append(p->value);
    }
  }
  return out;
}

std::string canonical_amz_headers(const std::vector<sigv4::Header>& headers) {
  std::vector<std::pair<std::string, std::string>> amz;
  for (const auto& h : headers) {
    std::string name = lowercase(h.name);
    if (name.starts_with("x-amz-")) {
      amz.emplace_back(std::move(name), unfold(h.value));
    }
  }
  // Stable: the values of a repeated header keep their arrival order.
  std::stable_sort(amz.begin(), amz.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (size_t i = 0; i < amz.size(); ++i) {
    if (i > 0 && amz[i].first == amz[i - 1].first) {
      out.back() = ',';  // replaces the previous value's '\n'
    } else {
      out.append(amz[i].first).push_back(':');
    }
    out.append(amz[i].second).push_back('\n');
  }
  return out;
}

std::string string_to_sign(std::string_view method, const std::vector<sigv4::Header>& headers,
                           std::string_view date, std::string_view canonical_resource) {
  std::string out(method);
  out.push_back('\n');
  out.append(positional(headers, "content-md5")).push_back('\n');
  out.append(positional(headers, "content-type")).push_back('\n');
  out.append(date).push_back('\n');
  out.append(canonical_amz_headers(headers));
  out.append(canonical_resource);
  return out;
}

std::string signature(std::string_view secret, std::string_view string_to_sign) {
  return base64_encode(hmac_sha1(secret, string_to_sign));
}

}  // namespace vaultaire::s3::sigv2
