#include "actors/runtime.h"

#include "common/logging.h"

namespace vaultaire::actors {
namespace {

std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

void Actor::on_failure(std::exception_ptr e) {
  auto log = logger("actors");
  log->error("actor handler threw actor={} error={}", name_, describe(e));
  try {
    restart();
    log->warn("actor restarted actor={}", name_);
  } catch (...) {
    log->error("actor restart threw actor={} error={}", name_, describe(std::current_exception()));
  }
}

}  // namespace vaultaire::actors
