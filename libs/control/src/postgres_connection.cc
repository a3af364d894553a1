// The PostgreSQL backend of store_sql.h: not written yet.
#include "store_sql.h"

namespace meshvpn::control::internal {

absl::StatusOr<std::unique_ptr<SqlConnection>> OpenPostgresConnection(const std::string&,
                                                                      const StoreOptions&) {
  return absl::UnimplementedError("postgres: the PostgreSQL store backend is not built yet");
}

}  // namespace meshvpn::control::internal
