#pragma once

// The pure parts of `vaultctl events export` (docs/event-log.md, "Exporting the log"): which
// events a --type list selects, and each event as a CSV row or as an AWS S3 event-notification
// record. No I/O here, so all of it is unit-tested.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vaultaire/events.pb.h"

namespace vaultaire::vaultctl {

// The events a `--type` list selects: type names as event_type_name() spells them
// ("artifact_committed", ...) and these aliases, in any case, separated by commas:
//   PUT      artifact_committed (a put, a completed multipart upload or a copy)
//   GET      artifact_read that is not a HEAD
//   HEAD     artifact_read of a HEAD
//   DELETE   artifact_deleted
//   LIST     container_listed
//   COPY     artifact_committed of a CopyObject (copy_source set)
//   MIGRATE  artifact_migrated
//   RESTORE  restore_requested, artifact_restored, restore_expired
// An empty list selects every event.
class TypeFilter {
 public:
  // nullopt when a name is neither a type nor an alias; `unknown` (optional) gets that name.
  static std::optional<TypeFilter> parse(std::string_view list, std::string* unknown = nullptr);

  bool matches(const proto::Event& event) const;
  bool all() const { return names_.empty() && aliases_ == 0; }

 private:
  std::set<std::string, std::less<>> names_;
  unsigned aliases_ = 0;  // bits of the Alias enum in event_formats.cc
};

// Every event type name, sorted (from the schema: the names of Event's payload fields).
std::set<std::string> event_type_names();

// One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF, or starts or ends
// with a space; quotes inside are doubled.
std::string csv_field(std::string_view value);

// The header line and one row per event, each ending with "\n". The columns:
//   seq,time,tenant,container,path,type,principal,source,request_id,user_agent,size,etag,tier,
//   bytes_sent
// `size`, `etag`, `tier` and `bytes_sent` are empty where the event has none (docs/event-log.md).
std::string csv_header();
std::string csv_row(const proto::Event& event);

// The eventName of an S3 event notification for `event` ("ObjectCreated:Put", ...), or empty
// when S3 sends no notification for what it records (reads, listings, buckets, uploads in
// progress, identity and access events).
std::string_view s3_event_name(const proto::Event& event);

// An object key as S3 event notifications carry it: URL-encoded, spaces as '+', '/' kept.
std::string s3_event_key(std::string_view path);

// Tier name -> the storage class S3 clients see for it (the first of the tier's
// storage_classes in the server's configuration).
using StorageClasses = std::map<std::string, std::string, std::less<>>;

// `classes`' storage class of `tier`, or the tier's name when it has none there.
std::string storage_class_of(const StorageClasses& classes, const std::string& tier);

// The notification record (one element of "Records") for `event`, or nullopt when
// s3_event_name() is empty. `region` is the awsRegion; a LifecycleTransition carries the
// destination tier's storage class from `classes`.
std::optional<nlohmann::json> s3_event_record(const proto::Event& event, std::string_view region,
                                              const StorageClasses& classes);

}  // namespace vaultaire::vaultctl
