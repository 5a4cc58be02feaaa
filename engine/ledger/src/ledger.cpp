#include "tramite/ledger/ledger.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "tramite/audit/entry.h"

namespace tramite::audit {

namespace {

constexpr int kPage = 10'000;  // history rows read per round trip when verifying
constexpr std::size_t kMaxFindings = 1'000;
// How much later than its TSA time a checkpoint may say it was signed (the two clocks differ).
constexpr TimePoint kClockSkewMs = 5 * 60 * 1000;

// Complete subtrees read from the store: stored nodes from kStoredLevel up, leaf hashes below.
class StoreSubtrees {
 public:
  explicit StoreSubtrees(storage::Transaction& tx) : tx_(tx) {}

  Result<Hash> operator()(int level, std::uint64_t index) const {
    if (level >= kStoredLevel) {
      auto node = tx_.ledgerNode(level, index);
      if (!node) return node.status();
      if (*node) return **node;
    }
    const std::uint64_t begin = index << level;
    const std::uint64_t end = (index + 1) << level;
    if (level > kStoredLevel) {  // not stored: made of its halves
      auto left = (*this)(level - 1, 2 * index);
      if (!left) return left;
      auto right = (*this)(level - 1, 2 * index + 1);
      if (!right) return right;
      return nodeHash(*left, *right);
    }
    auto leaves = tx_.ledgerLeaves(begin, end);
    if (!leaves) return leaves.status();
    std::vector<Hash> v = std::move(leaves).value();
    if (v.size() != end - begin) {
      return Status(ErrorCode::kInternal, "ledger entries " + std::to_string(begin) + " to " +
                                              std::to_string(end - 1) + " are not all stored");
    }
    for (std::size_t n = v.size(); n > 1; n /= 2) {
      for (std::size_t i = 0; i < n / 2; ++i) v[i] = nodeHash(v[2 * i], v[2 * i + 1]);
    }
    return v.front();
  }

 private:
  storage::Transaction& tx_;
};

std::string describe(const storage::HistoryRecord& r) {
  return "history seq " + std::to_string(r.seq) + " (instance " + r.instance_id + ", " + r.kind +
         " by " + r.actor + ")";
}

// The state of one verification pass over the ledger, in index order.
class Verification {
 public:
  Verification(const CompactRange& head, std::vector<Checkpoint> checkpoints,
               std::map<std::pair<int, std::uint64_t>, Hash> nodes, const CheckpointVerifier* key,
               const TrustedCheckpoint* trusted, const TimestampCheck* timestamps)
      : head_size_(head.size()),
        head_root_(head.root()),
        checkpoints_(std::move(checkpoints)),
        nodes_(std::move(nodes)),
        key_(key),
        trusted_(trusted),
        timestamps_(timestamps) {}

  void row(const storage::LedgerRow& r) {
    ++report_.entries;
    if (r.index < 0) {
      add(-1, r.row.seq, "inserted", describe(r.row) + " is not in the ledger");
      return;
    }
    const auto index = static_cast<std::uint64_t>(r.index);
    if (index < expected_) {
      add(r.index, r.row.seq, "inserted",
          "entry " + std::to_string(r.index) + " appears twice: " + describe(r.row));
      return;
    }
    for (; expected_ < index; ++expected_) missing(expected_);
    const Hash leaf = entryLeafHash(
        LedgerEntry{r.row.instance_id, r.row.at, r.row.actor, r.row.kind, r.row.detail});
    auto stored = hashFromHex(r.leaf_hash);
    if (!stored || *stored != leaf) {
      mismatches_.push_back(Mismatch{r.index, r.row.seq, leaf, stored ? *stored : Hash{}, r.row});
    }
    if (r.row.seq <= last_seq_) {
      add(r.index, r.row.seq, "reordered",
          "entry " + std::to_string(r.index) + " is " + describe(r.row) +
              ", which comes before the previous entry's seq " + std::to_string(last_seq_));
    }
    last_seq_ = r.row.seq;
    append(leaf);
    ++expected_;
  }

  VerifyReport finish() {
    for (; expected_ < head_size_; ++expected_) missing(expected_);
    if (expected_ > head_size_) {
      add(static_cast<std::int64_t>(head_size_), 0, "inserted",
          "the ledger holds " + std::to_string(expected_) + " entries but its head records " +
              std::to_string(head_size_));
    } else if (intact_ && range_.root() != head_root_) {
      add(static_cast<std::int64_t>(head_size_), 0, "head",
          "the ledger head's tree does not match its entries");
    }
    if (trusted_ && range_.size() < trusted_->size) {
      add(static_cast<std::int64_t>(range_.size()), 0, "truncated",
          "the ledger has " + std::to_string(range_.size()) +
              " entries, but the trusted checkpoint covers " + std::to_string(trusted_->size) +
              ": entries were removed from its end");
    }
    for (; next_checkpoint_ < checkpoints_.size(); ++next_checkpoint_) {
      const Checkpoint& c = checkpoints_[next_checkpoint_];
      add(static_cast<std::int64_t>(c.size), 0, "deleted",
          "checkpoint of " + std::to_string(c.size) + " entries, but the ledger has only " +
              std::to_string(range_.size()));
    }
    resolveMismatches();
    std::stable_sort(report_.findings.begin(), report_.findings.end(),
                     [](const Finding& a, const Finding& b) {
                       // Rows outside the ledger first, then by entry.
                       return a.index < b.index;
                     });
    if (report_.findings.size() > kMaxFindings) report_.findings.resize(kMaxFindings);
    return std::move(report_);
  }

 private:
  struct Mismatch {
    std::int64_t index;
    std::int64_t seq;
    Hash computed;
    Hash stored;
    storage::HistoryRecord row;
  };

  void add(std::int64_t index, std::int64_t seq, std::string kind, std::string message) {
    report_.findings.push_back(Finding{index, seq, std::move(kind), std::move(message)});
  }

  void missing(std::uint64_t index) {
    add(static_cast<std::int64_t>(index), 0, "deleted",
        "entry " + std::to_string(index) + " is missing: its history row was deleted");
    // The tree can no longer be recomputed; the roots after this point are not compared.
    intact_ = false;
  }

  void append(const Hash& leaf) {
    range_.append(leaf, [&](int level, std::uint64_t index, const Hash& h) {
      if (level < kStoredLevel || !intact_) return;
      auto it = nodes_.find({level, index});
      if (it == nodes_.end() || it->second != h) {
        add(static_cast<std::int64_t>(((index + 1) << level) - 1), 0, "node",
            "the stored subtree of entries " + std::to_string(index << level) + " to " +
                std::to_string(((index + 1) << level) - 1) + " does not match them");
      }
    });
    while (next_checkpoint_ < checkpoints_.size() &&
           checkpoints_[next_checkpoint_].size == range_.size()) {
      check(checkpoints_[next_checkpoint_++]);
    }
    if (trusted_ && trusted_->size == range_.size() && range_.root() != trusted_->root) {
      // What the database holds may be re-signed; a root kept elsewhere cannot be rewritten.
      add(static_cast<std::int64_t>(trusted_->size) - 1, 0, "rewritten",
          "the first " + std::to_string(trusted_->size) +
              " entries no longer have the root of the trusted checkpoint (" +
              toHex(trusted_->root) +
              "): one of them was rewritten, whatever the stored checkpoints say");
    }
  }

  void check(const Checkpoint& c) {
    ++report_.checkpoints;
    const std::string name = "checkpoint of " + std::to_string(c.size) + " entries";
    if (!c.previous.empty() && c.previous != previous_text_hash_) {
      add(static_cast<std::int64_t>(c.size) - 1, 0, "checkpoint",
          name +
              ": it does not chain to the checkpoint stored before it; a checkpoint between "
              "them was removed or replaced");
    }
    const std::string text = signedText(c);
    previous_text_hash_ = sha256Hex(text);
    if (!c.timestamp.empty()) checkTimestamp(c, text, name);
    if (key_ && !key_->verify(c)) {
      add(static_cast<std::int64_t>(c.size) - 1, 0, "checkpoint",
          name + ": the signature does not verify with key " + key_->keyId());
    }
    if (intact_ && range_.root() != c.root) {
      add(static_cast<std::int64_t>(c.size) - 1, 0, "checkpoint",
          name + ": its signed root does not match the entries; an entry after the " +
              std::to_string(last_good_) +
              " entries of the previous good checkpoint was "
              "altered, inserted, deleted or reordered");
    } else if (intact_) {
      last_good_ = c.size;
    }
  }

  void checkTimestamp(const Checkpoint& c, const std::string& text, const std::string& name) {
    ++report_.stamped;
    if (!timestamps_) return;
    auto time = (*timestamps_)(c.timestamp, text);
    if (!time) {
      add(static_cast<std::int64_t>(c.size) - 1, 0, "timestamp",
          name + ": its TSA timestamp does not verify: " + time.status().message());
      return;
    }
    ++report_.timestamped;
    if (c.signed_at > *time + kClockSkewMs) {
      add(static_cast<std::int64_t>(c.size) - 1, 0, "timestamp",
          name + ": it says it was signed at " + std::to_string(c.signed_at) +
              " ms, but the TSA saw it at " + std::to_string(*time) +
              " ms: it was backdated, or the server's clock is wrong");
    }
  }

  // An entry whose content hashes to another entry's recorded leaf was moved there.
  void resolveMismatches() {
    std::map<Hash, std::int64_t> by_stored;
    for (const Mismatch& m : mismatches_) by_stored.emplace(m.stored, m.index);
    for (const Mismatch& m : mismatches_) {
      auto it = by_stored.find(m.computed);
      if (it != by_stored.end() && it->second != m.index) {
        add(m.index, m.seq, "reordered",
            "entry " + std::to_string(m.index) + " holds what was recorded as entry " +
                std::to_string(it->second) + ": " + describe(m.row));
      } else {
        add(m.index, m.seq, "altered",
            "entry " + std::to_string(m.index) + " was altered: " + describe(m.row) +
                " no longer hashes to its recorded leaf");
      }
    }
  }

  std::uint64_t head_size_;
  Hash head_root_;
  std::vector<Checkpoint> checkpoints_;
  std::map<std::pair<int, std::uint64_t>, Hash> nodes_;
  const CheckpointVerifier* key_;
  const TrustedCheckpoint* trusted_;
  const TimestampCheck* timestamps_;
  VerifyReport report_;
  CompactRange range_;
  std::vector<Mismatch> mismatches_;
  std::uint64_t expected_ = 0;
  std::int64_t last_seq_ = 0;
  std::size_t next_checkpoint_ = 0;
  std::uint64_t last_good_ = 0;
  std::string previous_text_hash_;  // of the last checkpoint checked
  bool intact_ = true;
};

}  // namespace

Result<std::optional<Checkpoint>> checkpointLedger(storage::Store& store, const Signer& signer,
                                                   TimePoint now, const CheckpointStamp& stamp) {
  std::optional<Checkpoint> latest;
  Checkpoint made;
  {
    auto tx = store.begin(storage::TxMode::kRead);
    if (!tx) return tx.status();
    auto head = (*tx)->ledgerHead();
    if (!head) return head.status();
    if (head->size() == 0) return std::optional<Checkpoint>();
    auto stored = (*tx)->latestCheckpoint();
    if (!stored) return stored.status();
    latest = std::move(*stored);
    if (latest && latest->size == head->size()) return latest;
    // Chained: the new checkpoint carries the hash of the signed text of the one before it.
    const std::string previous = latest ? sha256Hex(signedText(*latest)) : std::string();
    auto signed_head = signer.sign(head->size(), head->root(), now, previous);
    if (!signed_head) return signed_head.status();
    made = std::move(signed_head).value();
  }
  if (stamp) {
    auto token = stamp(signedText(made));
    if (token) made.timestamp = std::move(token).value();
  }
  auto tx = store.begin(storage::TxMode::kWrite);
  if (!tx) return tx.status();
  auto now_latest = (*tx)->latestCheckpoint();
  if (!now_latest) return now_latest.status();
  if (now_latest->has_value() && (!latest || (*now_latest)->size != latest->size)) {
    return *now_latest;  // another process checkpointed meanwhile
  }
  if (Status st = (*tx)->addCheckpoint(made); !st) return st;
  if (Status st = (*tx)->commit(); !st) return st;
  return std::optional<Checkpoint>(std::move(made));
}

Result<InclusionProof> proveInclusion(storage::Transaction& tx, std::uint64_t index,
                                      std::uint64_t size) {
  auto head = tx.ledgerHead();
  if (!head) return head.status();
  if (size == 0) size = head->size();
  if (size > head->size() || index >= size) {
    return Status(ErrorCode::kInvalidArgument,
                  "entry " + std::to_string(index) + " in a tree of " + std::to_string(size) +
                      " entries: the ledger has " + std::to_string(head->size()));
  }
  const StoreSubtrees subtrees(tx);
  InclusionProof proof;
  proof.index = index;
  proof.size = size;
  auto leaf = subtrees(0, index);
  if (!leaf) return leaf.status();
  proof.leaf = *leaf;
  auto path = inclusionProof(index, size, subtrees);
  if (!path) return path.status();
  proof.path = std::move(path).value();
  // The head's root is at hand; an older tree's is made of stored subtrees and leaves.
  auto root = size == head->size() ? Result<Hash>(head->root()) : rangeRoot(0, size, subtrees);
  if (!root) return root.status();
  proof.root = *root;
  return proof;
}

Result<std::vector<Hash>> proveConsistency(storage::Transaction& tx, std::uint64_t first,
                                           std::uint64_t second) {
  auto head = tx.ledgerHead();
  if (!head) return head.status();
  if (first == 0 || first > second || second > head->size()) {
    return Status(ErrorCode::kInvalidArgument, "a consistency proof needs 0 < first <= second <= " +
                                                   std::to_string(head->size()) +
                                                   " (the ledger's size)");
  }
  return consistencyProof(first, second, StoreSubtrees(tx));
}

TimestampCheck timestampsCheckedBy(signing::TrustStore tsa_ca) {
  return [tsa_ca = std::move(tsa_ca)](const std::string& token,
                                      const std::string& text) -> Result<TimePoint> {
    auto stamp = tsa_ca.verifyTimestamp(token, text);
    if (!stamp) return stamp.status();
    return stamp->time;
  };
}

Result<VerifyReport> verifyLedger(storage::Store& store, const CheckpointVerifier* key,
                                  const TrustedCheckpoint* trusted,
                                  const TimestampCheck* timestamps) {
  auto tx = store.begin(storage::TxMode::kRead);
  if (!tx) return tx.status();
  storage::Transaction& t = **tx;
  auto head = t.ledgerHead();
  if (!head) return head.status();
  std::vector<Checkpoint> checkpoints;
  for (std::uint64_t from = 0;;) {
    auto page = t.checkpoints(from, kPage);
    if (!page) return page.status();
    if (page->empty()) break;
    from = page->back().size + 1;
    checkpoints.insert(checkpoints.end(), page->begin(), page->end());
  }
  auto stored_nodes = t.ledgerNodes();
  if (!stored_nodes) return stored_nodes.status();
  std::map<std::pair<int, std::uint64_t>, Hash> nodes;
  for (const storage::LedgerNode& n : *stored_nodes) nodes[{n.level, n.index}] = n.hash;
  Verification v(*head, std::move(checkpoints), std::move(nodes), key, trusted, timestamps);
  std::int64_t from = -1;  // the first page also brings the rows without a ledger index
  for (;;) {
    auto rows = t.ledgerRows(from, kPage);
    if (!rows) return rows.status();
    if (rows->empty()) break;
    for (const storage::LedgerRow& r : *rows) v.row(r);
    from = rows->back().index + 1;
  }
  return v.finish();
}

namespace {

// A witness record line: "SIZE ROOT SIGNED_AT SIGNATURE".
Result<Checkpoint> parseWitnessed(const std::string& line, const std::string& where) {
  std::istringstream in(line);
  std::string size, root, at, signature;
  in >> size >> root >> at >> signature;
  auto hash = hashFromHex(root);
  const bool digits = !size.empty() && size.size() < 20 &&
                      std::all_of(size.begin(), size.end(), ::isdigit) && !at.empty() &&
                      at.size() < 20 && std::all_of(at.begin(), at.end(), ::isdigit);
  if (!digits || !hash || signature.empty()) {
    return Status(ErrorCode::kInvalidArgument, where + ": not a witnessed checkpoint: " + line);
  }
  Checkpoint c;
  c.size = std::stoull(size);
  c.root = *hash;
  c.signed_at = std::stoll(at);
  c.signature = signature;
  return c;
}

// The last line of the record, with its line number; nullopt for a missing or empty record.
Result<std::optional<Checkpoint>> lastRecorded(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::optional<Checkpoint>();
  std::string line, last;
  int number = 0, last_number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    last = line;
    last_number = number;
  }
  if (last.empty()) return std::optional<Checkpoint>();
  auto c = parseWitnessed(last, path + ":" + std::to_string(last_number));
  if (!c) return c.status();
  return std::optional<Checkpoint>(*c);
}

}  // namespace

Result<TrustedCheckpoint> lastWitnessed(const std::string& record_path) {
  auto last = lastRecorded(record_path);
  if (!last) return last.status();
  if (!last->has_value()) {
    return Status(ErrorCode::kNotFound, record_path + ": no witnessed checkpoint yet");
  }
  return TrustedCheckpoint{(*last)->size, (*last)->root};
}

Result<Witnessed> witnessCheckpoint(storage::Store& store, const CheckpointVerifier& key,
                                    const std::string& record_path) {
  auto last = lastRecorded(record_path);
  if (!last) return last.status();
  auto tx = store.begin(storage::TxMode::kRead);
  if (!tx) return tx.status();
  auto newest = (*tx)->latestCheckpoint();
  if (!newest) return newest.status();
  if (!newest->has_value()) return Status(ErrorCode::kNotFound, "the ledger has no checkpoint yet");
  const Checkpoint& now = **newest;
  if (!key.verify(now)) {
    return Status(ErrorCode::kFailedPrecondition,
                  "the newest checkpoint (" + std::to_string(now.size) +
                      " entries) is not signed by key " + key.keyId());
  }
  Witnessed out{now, last->has_value() ? (*last)->size : 0};
  if (last->has_value()) {
    const Checkpoint& seen = **last;
    if (now.size < seen.size) {
      return Status(ErrorCode::kFailedPrecondition,
                    "truncated: the newest checkpoint covers " + std::to_string(now.size) +
                        " entries, but this witness saw " + std::to_string(seen.size));
    }
    bool consistent = now.root == seen.root;
    if (now.size > seen.size && seen.size > 0) {
      auto proof = proveConsistency(**tx, seen.size, now.size);
      consistent = proof && verifyConsistency(seen.size, now.size, seen.root, now.root, *proof);
    }
    if (!consistent) {
      return Status(ErrorCode::kFailedPrecondition,
                    "rewritten: the checkpoint of " + std::to_string(now.size) +
                        " entries does not extend the witnessed one of " +
                        std::to_string(seen.size) + " entries (root " + toHex(seen.root) +
                        "): an entry among the first " + std::to_string(seen.size) +
                        " was changed");
    }
    if (now.size == seen.size) return out;  // nothing new to record
  }
  std::ofstream record(record_path, std::ios::app);
  record << now.size << ' ' << toHex(now.root) << ' ' << now.signed_at << ' ' << now.signature
         << '\n';
  record.flush();
  if (!record) {
    return Status(ErrorCode::kUnavailable, "cannot append to the witness record " + record_path);
  }
  return out;
}

}  // namespace tramite::audit
