#pragma once

// Events as JSON objects with stable snake_case field names, for vaultctl and exports:
//   {"sequence": 12, "time": "2026-11-21T10:00:00.123Z", "time_unix_nanos": ...,
//    "type": "artifact_committed", "tenant": ..., "container": ..., "path": ...,
//    "request_id": ..., "principal": ..., "source_address": ..., "user_agent": ...,
//    "spoke_id": ..., "payload": {...type-specific fields...}}

#include <nlohmann/json.hpp>

#include "vaultaire/events.pb.h"

namespace vaultaire::events {

nlohmann::json event_to_json(const proto::Event& event);

}  // namespace vaultaire::events
