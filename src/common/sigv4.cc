#include "common/sigv4.h"

#include <algorithm>

#include "common/crypto.h"

namespace vaultaire::sigv4 {
namespace {

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t i = 0;
  while (i <= path.size()) {
    const size_t slash = path.find('/', i);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view seg = path.substr(i, end - i);
    if (seg == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    i = slash + 1;
  }
  std::string out = "/";
  for (size_t k = 0; k < segments.size(); ++k) {
    out.append(segments[k]);
    if (k + 1 < segments.size()) {
      out.push_back('/');
    }
  }
  // A trailing slash survives normalisation ("/a/b/" stays a folder).
  if (!segments.empty() && path.size() > 1 && path.back() == '/') {
    out.push_back('/');
  }
  return out;
}

std::string trim_and_collapse(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool space = false;
  for (const char c : v) {
    const bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space) {
      out.push_back(' ');
      space = false;
    }
    out.push_back(c);
  }
  return out;
}

// The lines every streaming string to sign starts with.
std::string streaming_string_to_sign(std::string_view algorithm, std::string_view amz_date,
                                     std::string_view scope, std::string_view previous_signature) {
  std::string out;
  out.append(algorithm).push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(scope).push_back('\n');
  out.append(previous_signature).push_back('\n');
  return out;
}

}  // namespace

std::string canonical_uri(std::string_view decoded_path, bool normalize) {
  if (decoded_path.empty()) {
    return "/";
  }
  if (normalize) {
    return uri_encode(normalize_path(decoded_path), true);
  }
  return uri_encode(decoded_path, true);
}

std::string canonical_query(const std::vector<QueryParam>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& p : query) {
    encoded.emplace_back(uri_encode(p.name, false), uri_encode(p.value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out.append(name).push_back('=');
    out.append(value);
  }
  return out;
}

std::string canonical_headers(const std::vector<Header>& headers,
                              const std::vector<std::string>& signed_headers) {
  std::string out;
  for (const auto& name : signed_headers) {
    out.append(name).push_back(':');
    bool first = true;
    for (const auto& h : headers) {
      if (h.name != name) {
        continue;
      }
      if (!first) {
        out.push_back(',');
      }
      out.append(trim_and_collapse(h.value));
      first = false;
    }
    out.push_back('\n');
  }
  return out;
}

std::string canonical_request(const CanonicalInput& in) {
  std::string out;
  out.append(in.method).push_back('\n');
  out.append(in.canonical_uri).push_back('\n');
  out.append(canonical_query(in.query)).push_back('\n');
  out.append(canonical_headers(in.headers, in.signed_headers)).push_back('\n');
  for (size_t i = 0; i < in.signed_headers.size(); ++i) {
    if (i > 0) {
      out.push_back(';');
    }
    out.append(in.signed_headers[i]);
  }
  out.push_back('\n');
  out.append(in.payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out;
  out.append(kAlgorithm).push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(scope).push_back('\n');
  out.append(to_hex(sha256(canonical_request)));
  return out;
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  const std::string k_date = hmac_sha256("AWS4" + std::string(secret), date);
  const std::string k_region = hmac_sha256(k_date, region);
  const std::string k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

std::string signature(std::string_view signing_key, std::string_view string_to_sign) {
  return to_hex(hmac_sha256(signing_key, string_to_sign));
}

std::string scope(std::string_view date, std::string_view region, std::string_view service) {
  std::string out;
  out.append(date).push_back('/');
  out.append(region).push_back('/');
  out.append(service).append("/aws4_request");
  return out;
}

std::string chunk_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex) {
  std::string out = streaming_string_to_sign(kChunkAlgorithm, amz_date, scope, previous_signature);
  out.append(kEmptySha256).push_back('\n');
  out.append(chunk_sha256_hex);
  return out;
}

std::string trailer_string_to_sign(std::string_view amz_date, std::string_view scope,
                                   std::string_view previous_signature,
                                   std::string_view trailer_sha256_hex) {
  std::string out =
      streaming_string_to_sign(kTrailerAlgorithm, amz_date, scope, previous_signature);
  out.append(trailer_sha256_hex);
  return out;
}

}  // namespace vaultaire::sigv4
