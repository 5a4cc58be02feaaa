// LeakSanitizer suppressions for third-party code only, compiled into every test binary
// that talks to PostgreSQL (so they behave the same inside and outside CTest).
//
// Poco 1.11's PostgreSQL connector:
// - SessionHandle::connect does not PQfinish() a connection that failed to open, leaking
//   libpq's PGconn (seen in OpenStore.RejectsUnknownUris);
// - StatementExecutor::execute does not PQclear() the result of a statement that failed
//   (e.g. a duplicate key when two engines race), leaking the PGresult.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:Poco::Data::PostgreSQL::SessionHandle::connect\n"
         "leak:Poco::Data::PostgreSQL::StatementExecutor::execute\n";
}
