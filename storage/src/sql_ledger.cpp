// History and the audit ledger: appends with the Merkle tree's right edge, reads, checkpoints.
#include "sql_transaction.h"
#include "tramite/audit/entry.h"

namespace tramite::storage::sql {

using Poco::Int64;

Status SqlTransaction::appendHistory(const std::vector<HistoryRecord>& rows) {
  return guarded("append history", [&]() -> Status {
    if (rows.empty()) return Status::ok();
    // Leaf hashes do not depend on the head: computed before it is locked.
    std::vector<audit::Hash> leaves;
    leaves.reserve(rows.size());
    for (const HistoryRecord& r : rows) {
      leaves.push_back(
          audit::entryLeafHash(audit::LedgerEntry{r.instance_id, r.at, r.actor, r.kind, r.detail}));
    }
    // The head row is read for update: appends take turns, so ledger order is commit order
    // and every row gets the next seq and the next leaf index.
    std::int64_t last_seq = 0;
    auto range = readLedgerHead(/*for_update=*/true, &last_seq);
    if (!range) return range.status();
    json::Array values;
    json::Array nodes;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const HistoryRecord& r = rows[i];
      values.emplace_back(json::Array{++last_seq, r.instance_id, r.at, r.actor, r.kind, r.detail,
                                      static_cast<std::int64_t>(range->size()),
                                      audit::toHex(leaves[i])});
      appendLeaf(*range, leaves[i], nodes);
    }
    writeBatch(
        "INSERT INTO history (seq, instance_id, at, actor, kind, detail, ledger_idx, leaf_hash) "
        "SELECT CAST(j.value ->> 0 AS {INT}), j.value ->> 1, CAST(j.value ->> 2 AS {INT}), "
        "j.value ->> 3, j.value ->> 4, j.value ->> 5, CAST(j.value ->> 6 AS {INT}), "
        "j.value ->> 7 FROM {ROWS} ORDER BY j.key",
        std::move(values));
    saveLedger(*range, std::move(nodes), last_seq);
    return Status::ok();
  });
}

Result<std::vector<HistoryRecord>> SqlTransaction::history(const std::string& instance_id,
                                                           std::int64_t after_seq, int limit) {
  return selectAll<HistoryRecord>(
      "read history",
      "SELECT seq, instance_id, at, actor, kind, detail FROM history WHERE instance_id = ? AND "
      "seq > ? ORDER BY seq LIMIT ?",
      {instance_id, Int64{after_seq}, Int64{limit}}, [](const Row& c) {
        return HistoryRecord{c.integer(0), c.text(1), c.integer(2),
                             c.text(3),    c.text(4), c.text(5)};
      });
}

// Migration 4: appends the rows written before the ledger existed, in seq order.
void SqlTransaction::ledgerExistingHistory() {
  audit::CompactRange range;
  json::Array nodes;
  std::int64_t last_seq = 0;
  for (;;) {
    json::Array updates;
    runSql(
        "SELECT seq, instance_id, at, actor, kind, detail FROM history WHERE seq > ? ORDER BY "
        "seq LIMIT 10000",
        {Int64{last_seq}}, [&](const Row& c) {
          last_seq = c.integer(0);
          const audit::Hash leaf = audit::entryLeafHash(
              audit::LedgerEntry{c.text(1), c.integer(2), c.text(3), c.text(4), c.text(5)});
          updates.emplace_back(
              json::Array{last_seq, static_cast<std::int64_t>(range.size()), audit::toHex(leaf)});
          appendLeaf(range, leaf, nodes);
        });
    if (updates.empty()) break;
    runBatch(
        "UPDATE history SET ledger_idx = CAST(j.value ->> 1 AS {INT}), leaf_hash = j.value "
        "->> 2 FROM {ROWS} WHERE history.seq = CAST(j.value ->> 0 AS {INT})",
        std::move(updates));
  }
  saveLedger(range, std::move(nodes), last_seq);
}

// Appends a leaf to the tree's right edge, keeping the subtrees it completes that are
// stored (as rows for ledger_nodes).
void SqlTransaction::appendLeaf(audit::CompactRange& range, const audit::Hash& leaf,
                                json::Array& nodes) {
  range.append(leaf, [&](int level, std::uint64_t index, const audit::Hash& h) {
    if (level >= audit::kStoredLevel) {
      nodes.emplace_back(json::Array{level, static_cast<std::int64_t>(index), audit::toHex(h)});
    }
  });
}

// Stores the completed subtrees and the new head.
void SqlTransaction::saveLedger(const audit::CompactRange& range, json::Array nodes,
                                std::int64_t last_seq) {
  if (!nodes.empty()) {
    writeBatch(
        "INSERT INTO ledger_nodes (level, idx, hash) SELECT CAST(j.value ->> 0 AS {INT}), "
        "CAST(j.value ->> 1 AS {INT}), j.value ->> 2 FROM {ROWS}",
        std::move(nodes));
  }
  writeSql("UPDATE ledger_head SET size = ?, last_seq = ?, frontier = ? WHERE id = 1",
           {Int64{static_cast<std::int64_t>(range.size())}, Int64{last_seq}, range.toText()});
}

Result<audit::CompactRange> SqlTransaction::ledgerHead() {
  return guarded("read the ledger head", [&] { return readLedgerHead(false, nullptr); });
}

// The head row: the tree's right edge, and the last history seq when last_seq is given.
// for_update locks the row until the transaction ends (PostgreSQL; SQLite has one writer).
Result<audit::CompactRange> SqlTransaction::readLedgerHead(bool for_update,
                                                           std::int64_t* last_seq) {
  std::uint64_t size = 0;
  std::string frontier;
  runSql(std::string("SELECT size, last_seq, frontier FROM ledger_head WHERE id = 1") +
             (for_update && d_ == Dialect::kPostgreSQL ? " FOR UPDATE" : ""),
         {}, [&](const Row& c) {
           size = static_cast<std::uint64_t>(c.integer(0));
           if (last_seq) *last_seq = c.integer(1);
           frontier = c.text(2);
         });
  auto range = audit::CompactRange::fromText(size, frontier);
  if (!range) return Status(ErrorCode::kInternal, "ledger head: " + range.status().message());
  return range;
}

Result<std::vector<LedgerRow>> SqlTransaction::ledgerRowsOf(const std::string& instance_id) {
  return selectAll<LedgerRow>("read an instance's ledger entries",
                              std::string(kLedgerColumns) + "WHERE instance_id = ? ORDER BY seq",
                              {instance_id}, readLedgerRow);
}

Result<std::vector<LedgerRow>> SqlTransaction::ledgerRows(std::int64_t from, int limit) {
  return guarded("read the ledger", [&]() -> Result<std::vector<LedgerRow>> {
    std::vector<LedgerRow> out;
    auto read = [&](const Row& c) { out.push_back(readLedgerRow(c)); };
    const char* columns = kLedgerColumns;
    if (from < 0) {
      runSql(std::string(columns) + "WHERE ledger_idx IS NULL ORDER BY seq LIMIT ?", {Int64{limit}},
             read);
    }
    const int left = limit - static_cast<int>(out.size());
    if (left > 0) {
      runSql(std::string(columns) + "WHERE ledger_idx >= ? ORDER BY ledger_idx LIMIT ?",
             {Int64{std::max<std::int64_t>(from, 0)}, Int64{left}}, read);
    }
    return out;
  });
}

Result<std::vector<audit::Hash>> SqlTransaction::ledgerLeaves(std::uint64_t begin,
                                                              std::uint64_t end) {
  return guarded("read ledger leaves", [&]() -> Result<std::vector<audit::Hash>> {
    std::vector<audit::Hash> out;
    Status bad;
    runSql(
        "SELECT leaf_hash FROM history WHERE ledger_idx >= ? AND ledger_idx < ? ORDER BY "
        "ledger_idx",
        {Int64{static_cast<std::int64_t>(begin)}, Int64{static_cast<std::int64_t>(end)}},
        [&](const Row& c) {
          auto h = audit::hashFromHex(c.text(0));
          if (h) {
            out.push_back(*h);
          } else {
            bad = h.status();
          }
        });
    if (!bad) return Status(ErrorCode::kInternal, "ledger leaf: " + bad.message());
    return out;
  });
}

Result<std::optional<audit::Hash>> SqlTransaction::ledgerNode(int level, std::uint64_t index) {
  auto text = selectOne<std::string>("read a ledger node",
                                     "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?",
                                     {Int64{level}, Int64{static_cast<std::int64_t>(index)}},
                                     [](const Row& c) { return c.text(0); });
  if (!text) return text.status();
  if (!*text) return std::optional<audit::Hash>();
  auto h = audit::hashFromHex(**text);
  if (!h) return Status(ErrorCode::kInternal, "ledger node: " + h.status().message());
  return std::optional<audit::Hash>(*h);
}

Result<std::vector<LedgerNode>> SqlTransaction::ledgerNodes() {
  return selectAll<LedgerNode>(
      "read ledger nodes", "SELECT level, idx, hash FROM ledger_nodes ORDER BY level, idx", {},
      [](const Row& c) {
        auto h = audit::hashFromHex(c.text(2));  // unreadable: zeros, which never match
        return LedgerNode{static_cast<int>(c.integer(0)), static_cast<std::uint64_t>(c.integer(1)),
                          h ? *h : audit::Hash{}};
      });
}

Status SqlTransaction::addCheckpoint(const audit::Checkpoint& cp) {
  return guarded("add a checkpoint", [&]() -> Status {
    runSql(
        "INSERT INTO ledger_checkpoints (size, root, signed_at, key_id, signature, previous, "
        "tsa_token) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {Int64{static_cast<std::int64_t>(cp.size)}, audit::toHex(cp.root), Int64{cp.signed_at},
         cp.key_id, cp.signature, cp.previous, base64Encode(cp.timestamp)},
        {});
    return Status::ok();
  });
}

// An unreadable stored hash reads as zeros, which no recomputed hash matches.
audit::Checkpoint SqlTransaction::readCheckpoint(const NativeStatements::Row& c) {
  auto root = audit::hashFromHex(c.text(1));
  return audit::Checkpoint{static_cast<std::uint64_t>(c.integer(0)),
                           root ? *root : audit::Hash{},
                           c.integer(2),
                           c.text(3),
                           c.text(4),
                           c.text(5),
                           base64Decode(c.text(6)).value_or("unreadable base64")};
}

Result<std::vector<audit::Checkpoint>> SqlTransaction::checkpoints(std::uint64_t from_size,
                                                                   int limit) {
  return selectAll<audit::Checkpoint>(
      "read checkpoints",
      "SELECT size, root, signed_at, key_id, signature, previous, tsa_token FROM "
      "ledger_checkpoints WHERE "
      "size >= ? "
      "ORDER BY size LIMIT ?",
      {Int64{static_cast<std::int64_t>(from_size)}, Int64{limit}}, readCheckpoint);
}

Result<std::optional<audit::Checkpoint>> SqlTransaction::latestCheckpoint() {
  return selectOne<audit::Checkpoint>(
      "read the latest checkpoint",
      "SELECT size, root, signed_at, key_id, signature, previous, tsa_token FROM "
      "ledger_checkpoints ORDER "
      "BY size DESC LIMIT 1",
      {}, readCheckpoint);
}

LedgerRow SqlTransaction::readLedgerRow(const Row& c) {
  return LedgerRow{
      c.integer(0),
      HistoryRecord{c.integer(1), c.text(2), c.integer(3), c.text(4), c.text(5), c.text(6)},
      c.text(7)};
}

}  // namespace tramite::storage::sql
