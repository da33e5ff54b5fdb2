#include "support/run.h"

namespace vaultaire::testing {

asio::io_context& test_io() {
  thread_local asio::io_context io;
  return io;
}

}  // namespace vaultaire::testing
