// The audit ledger on both stores: history written by the engine is ledgered, proofs verify
// against signed checkpoints, and tampering with the database directly is found and named.
#include "tramite/ledger/ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "pg_server.h"
#include "test_files.h"
#include "tramite/audit/entry.h"
#include "tramite/runtime/engine.h"

namespace tramite::audit {
namespace {

class LedgerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    uri_ = testing::freshStoreUri(GetParam(), "ledger");
    if (uri_.empty()) GTEST_SKIP() << "PostgreSQL is not available on this machine";
    auto store = storage::openStore(uri_);
    ASSERT_TRUE(store) << store.status().toString();
    store_ = std::shared_ptr<storage::Store>(std::move(store).value());
    engine_ = std::make_unique<runtime::Engine>(store_, clock_);
    ASSERT_TRUE(engine_->deploy(
        "approval-chain", testing::readSourceFile("workflows/approval-chain-lua.scxml"), "admin"));
    auto pem = Signer::generatePem();
    ASSERT_TRUE(pem);
    signer_ = std::make_unique<Signer>(*Signer::fromPem(*pem));
    verifier_ =
        std::make_unique<CheckpointVerifier>(*CheckpointVerifier::fromPem(signer_->publicKeyPem()));
    // 4 cases, a checkpoint, 16 more (past 256 entries: a stored subtree), a checkpoint.
    runCases(4);
    first_ = checkpoint();
    runCases(16);
    second_ = checkpoint();
    ASSERT_GT(second_.size, 256u);
  }

  void runCases(int n) {
    for (int i = 0; i < n; ++i) {
      runtime::StartRequest req;
      req.definition = "approval-chain";
      req.business_key = "EXP-" + std::to_string(i);
      req.data = json::Value(json::Object{{"amount", 25000}});
      req.actor = "ana";
      auto v = engine_->start(req);
      ASSERT_TRUE(v) << v.status().toString();
      for (const char* e : {"submit", "approve", "approve", "approve", "sign"}) {
        ASSERT_TRUE(engine_->send(v->id, scxml::Event::external(e), "luis"));
      }
      clock_.advance(60'000);
    }
  }

  Checkpoint checkpoint() {
    auto cp = checkpointLedger(*store_, *signer_, clock_.nowMs());
    EXPECT_TRUE(cp && *cp) << (cp ? "empty ledger" : cp.status().toString());
    return cp && *cp ? **cp : Checkpoint{};
  }

  VerifyReport verify() {
    auto report = verifyLedger(*store_, verifier_.get());
    EXPECT_TRUE(report) << report.status().toString();
    return report ? *report : VerifyReport{};
  }

  std::vector<storage::LedgerRow> rows() {
    auto tx = store_->begin(storage::TxMode::kRead);
    auto r = (*tx)->ledgerRows(0, 100'000);
    EXPECT_TRUE(r);
    return *r;
  }

  // Changes the database behind the store's back, as someone with access to it could.
  void tamper(const std::string& sql) {
    if (GetParam() == "sqlite") {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open(uri_.substr(7).c_str(), &db), SQLITE_OK);
      char* error = nullptr;
      const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
      const std::string message = error ? error : "";
      sqlite3_free(error);
      sqlite3_close(db);
      ASSERT_EQ(rc, SQLITE_OK) << message;
    } else {
      ASSERT_TRUE(testing::PostgresServer::shared()->psql(uri_.substr(uri_.rfind('/') + 1), sql))
          << sql;
    }
  }

  static std::string seqOf(const storage::LedgerRow& r) { return std::to_string(r.row.seq); }

  ManualClock clock_{1'717'200'000'000};
  std::string uri_;
  std::shared_ptr<storage::Store> store_;
  std::unique_ptr<runtime::Engine> engine_;
  std::unique_ptr<Signer> signer_;
  std::unique_ptr<CheckpointVerifier> verifier_;
  Checkpoint first_;
  Checkpoint second_;
};

// Issue 26, item 10: a checkpoint's TSA token is kept in either store, byte for byte, and
// checked by the verifier; one whose checkpoint claims a time well after the TSA's is named
// as backdated. A checkpoint stored by another process while the TSA answered wins: the
// chain stays one line.
TEST_P(LedgerTest, CheckpointsKeepTheirTimestampTokens) {
  runCases(1);
  const std::string token("\x30\x82\x00\x01tst\x00\xff", 10);  // any bytes, zeros too
  std::string stamped_text;
  auto cp = checkpointLedger(*store_, *signer_, clock_.nowMs(),
                             [&](const std::string& text) -> Result<std::string> {
                               stamped_text = text;
                               return token;
                             });
  ASSERT_TRUE(cp && *cp) << cp.status().toString();
  EXPECT_EQ(stamped_text, signedText(**cp));
  {
    auto tx = store_->begin(storage::TxMode::kRead);
    ASSERT_TRUE(tx);
    auto latest = (*tx)->latestCheckpoint();
    ASSERT_TRUE(latest && *latest);
    EXPECT_EQ((*latest)->timestamp, token);
    EXPECT_EQ(signedText(**latest), stamped_text);  // the token is not part of what is signed
  }
  TimePoint tsa_time = (*cp)->signed_at;
  std::vector<std::string> asked;
  const TimestampCheck check = [&](const std::string& t,
                                   const std::string& text) -> Result<TimePoint> {
    asked.push_back(text);
    if (t != token) return Status(ErrorCode::kFailedPrecondition, "not the token");
    return tsa_time;
  };
  auto report = verifyLedger(*store_, verifier_.get(), nullptr, &check);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok()) << report->findings.front().message;
  EXPECT_EQ(report->checkpoints, 3u);
  EXPECT_EQ(report->stamped, 1u);
  EXPECT_EQ(report->timestamped, 1u);
  EXPECT_EQ(asked, std::vector<std::string>{stamped_text});
  // Four minutes of clock difference pass; six do not.
  tsa_time = (*cp)->signed_at - 4 * 60'000;
  EXPECT_TRUE(verifyLedger(*store_, verifier_.get(), nullptr, &check)->ok());
  tsa_time = (*cp)->signed_at - 6 * 60'000;
  report = verifyLedger(*store_, verifier_.get(), nullptr, &check);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].kind, "timestamp");
  EXPECT_NE(report->findings[0].message.find("backdated"), std::string::npos)
      << report->findings[0].message;

  // Another process checkpoints while this one waits for its TSA: that checkpoint stands.
  runCases(1);
  Checkpoint other;
  auto raced = checkpointLedger(*store_, *signer_, clock_.nowMs(),
                                [&](const std::string&) -> Result<std::string> {
                                  other = checkpoint();
                                  return token;
                                });
  ASSERT_TRUE(raced && *raced);
  EXPECT_EQ(signedText(**raced), signedText(other));
  EXPECT_TRUE((*raced)->timestamp.empty());
  report = verifyLedger(*store_, verifier_.get());
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok()) << report->findings.front().message;
  EXPECT_EQ(report->checkpoints, 4u);
}

TEST_P(LedgerTest, EveryHistoryRowIsLedgeredAndProvable) {
  const auto all = rows();
  ASSERT_EQ(all.size(), second_.size);
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].index, static_cast<std::int64_t>(i));
    const storage::HistoryRecord& r = all[i].row;
    EXPECT_EQ(all[i].leaf_hash,
              toHex(entryLeafHash(LedgerEntry{r.instance_id, r.at, r.actor, r.kind, r.detail})));
  }
  VerifyReport report = verify();
  EXPECT_TRUE(report.ok()) << report.findings.front().message;
  EXPECT_EQ(report.entries, all.size());
  EXPECT_EQ(report.checkpoints, 2u);

  // Asking again without new entries signs nothing new.
  auto same = checkpointLedger(*store_, *signer_, clock_.nowMs() + 1);
  ASSERT_TRUE(same && *same);
  EXPECT_EQ((*same)->signed_at, second_.signed_at);

  auto tx = store_->begin(storage::TxMode::kRead);
  ASSERT_TRUE(tx);
  for (std::uint64_t index : {std::uint64_t{0}, std::uint64_t{37}, first_.size - 1,
                              std::uint64_t{255}, std::uint64_t{256}, second_.size - 1}) {
    auto proof = proveInclusion(**tx, index, second_.size);
    ASSERT_TRUE(proof) << proof.status().toString();
    EXPECT_EQ(proof->root, second_.root);
    EXPECT_EQ(toHex(proof->leaf), all[index].leaf_hash);
    EXPECT_TRUE(verifyInclusion(proof->leaf, index, second_.size, proof->path, second_.root))
        << index;
  }
  auto in_first = proveInclusion(**tx, 3, first_.size);
  ASSERT_TRUE(in_first);
  EXPECT_TRUE(verifyInclusion(in_first->leaf, 3, first_.size, in_first->path, first_.root));
  auto consistent = proveConsistency(**tx, first_.size, second_.size);
  ASSERT_TRUE(consistent);
  EXPECT_TRUE(verifyConsistency(first_.size, second_.size, first_.root, second_.root, *consistent));
  EXPECT_FALSE(proveInclusion(**tx, second_.size, second_.size));
  EXPECT_FALSE(proveConsistency(**tx, first_.size, second_.size + 1));
}

TEST_P(LedgerTest, AnAlteredRowIsNamed) {
  const auto target = rows()[40];
  tamper("UPDATE history SET detail = '{\"name\":\"reject\"}' WHERE seq = " + seqOf(target));
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.findings.front().kind, "altered");
  EXPECT_EQ(report.findings.front().index, 40);
  EXPECT_EQ(report.findings.front().seq, target.row.seq);
  EXPECT_NE(report.findings.front().message.find("entry 40 was altered"), std::string::npos);
}

TEST_P(LedgerTest, AnAlterationWithItsLeafRecomputedIsCaughtByTheSignedCheckpoint) {
  auto target = rows()[first_.size + 5];
  target.row.detail = R"({"name":"reject"})";
  const std::string leaf =
      toHex(entryLeafHash(LedgerEntry{target.row.instance_id, target.row.at, target.row.actor,
                                      target.row.kind, target.row.detail}));
  tamper("UPDATE history SET detail = '" + target.row.detail + "', leaf_hash = '" + leaf +
         "' WHERE seq = " + seqOf(target));
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  // No row is out of place, so no entry is named; the stored subtree over it and the second
  // signed checkpoint no longer match, which locates it between the two checkpoints.
  for (const Finding& f : report.findings) {
    EXPECT_TRUE(f.kind == "checkpoint" || f.kind == "node" || f.kind == "head") << f.message;
  }
  auto f = *std::find_if(report.findings.begin(), report.findings.end(),
                         [](const Finding& x) { return x.kind == "checkpoint"; });
  EXPECT_EQ(f.index, static_cast<std::int64_t>(second_.size) - 1);
  EXPECT_NE(f.message.find("after the " + std::to_string(first_.size) + " entries"),
            std::string::npos)
      << f.message;
}

// Issue 26, item 10: someone with the database and the signing key rewrites a row and
// recomputes its leaf, every stored subtree and the head, deletes the checkpoints after it
// and signs a new one: the store verifies, but an auditor's witness record does not let it
// pass, and neither does a truncation.
TEST_P(LedgerTest, AWitnessCatchesARewriteReSignedWithTheKey) {
  const std::string record = testing::processTempDir().file("witness-" + GetParam() + ".txt");
  std::remove(record.c_str());
  auto seen = witnessCheckpoint(*store_, *verifier_, record);
  ASSERT_TRUE(seen) << seen.status().toString();
  EXPECT_EQ(seen->checkpoint.size, second_.size);

  // The rewrite, done as thoroughly as the database allows.
  std::vector<storage::LedgerRow> all = rows();
  storage::LedgerRow& target = all[first_.size + 5];
  target.row.detail = R"({"name":"reject"})";
  const Hash leaf = entryLeafHash(LedgerEntry{
      target.row.instance_id, target.row.at, target.row.actor, target.row.kind, target.row.detail});
  target.leaf_hash = toHex(leaf);
  std::string sql = "UPDATE history SET detail = '" + target.row.detail + "', leaf_hash = '" +
                    target.leaf_hash + "' WHERE seq = " + seqOf(target) + ";";
  CompactRange tree;
  for (const storage::LedgerRow& r : all) {
    tree.append(*hashFromHex(r.leaf_hash), [&](int level, std::uint64_t index, const Hash& h) {
      if (level >= 8) {
        sql += "UPDATE ledger_nodes SET hash = '" + toHex(h) +
               "' WHERE level = " + std::to_string(level) + " AND idx = " + std::to_string(index) +
               ";";
      }
    });
  }
  sql += "UPDATE ledger_head SET frontier = '" + tree.toText() + "' WHERE id = 1;";
  sql += "DELETE FROM ledger_checkpoints WHERE size > " + std::to_string(first_.size) + ";";
  tamper(sql);
  clock_.advance(1'000);
  checkpoint();  // re-signed with the key
  const VerifyReport store_alone = verify();
  EXPECT_TRUE(store_alone.ok()) << store_alone.findings.front().message;  // the weakness

  auto trusted = lastWitnessed(record);
  ASSERT_TRUE(trusted) << trusted.status().toString();
  auto caught = verifyLedger(*store_, verifier_.get(), &*trusted);
  ASSERT_TRUE(caught);
  ASSERT_FALSE(caught->ok());
  EXPECT_EQ(caught->findings.front().kind, "rewritten") << caught->findings.front().message;
  runCases(1);  // the server goes on; its next checkpoint does not extend what was witnessed
  checkpoint();
  auto refused = witnessCheckpoint(*store_, *verifier_, record);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("rewritten"), std::string::npos)
      << refused.status().message();

  // Truncation: the newest entries removed.
  tamper("DELETE FROM history WHERE ledger_idx >= " + std::to_string(second_.size - 3));
  auto truncated = verifyLedger(*store_, verifier_.get(), &*trusted);
  ASSERT_TRUE(truncated);
  EXPECT_TRUE(std::any_of(truncated->findings.begin(), truncated->findings.end(),
                          [](const Finding& f) { return f.kind == "truncated"; }));
}

// Issue 26, item 10: checkpoints are chained; one removed from the middle breaks the chain.
TEST_P(LedgerTest, CheckpointsAreChainedSoOneRemovedIsNamed) {
  EXPECT_TRUE(first_.previous.empty());
  EXPECT_EQ(second_.previous, sha256Hex(signedText(first_)));
  EXPECT_EQ(signedText(second_).rfind("tramite ledger checkpoint v2\n", 0), 0u);
  EXPECT_TRUE(verifier_->verify(second_));
  Checkpoint unchained = second_;
  unchained.previous.clear();  // the link is signed: it cannot be dropped
  EXPECT_FALSE(verifier_->verify(unchained));
  tamper("DELETE FROM ledger_checkpoints WHERE size = " + std::to_string(first_.size));
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.findings.front().message.find("does not chain"), std::string::npos)
      << report.findings.front().message;
}

TEST_P(LedgerTest, ADeletedRowIsNamed) {
  const auto target = rows()[21];
  tamper("DELETE FROM history WHERE seq = " + seqOf(target));
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.findings.front().kind, "deleted");
  EXPECT_EQ(report.findings.front().index, 21);
}

TEST_P(LedgerTest, AnInsertedRowIsNamed) {
  const auto last = rows().back();
  tamper("INSERT INTO history (seq, instance_id, at, actor, kind, detail) VALUES (" +
         std::to_string(last.row.seq + 100) + ", '" + last.row.instance_id +
         "', 1717200000000, 'mallory', 'event', '{\"name\":\"approve\"}')");
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.findings.front().kind, "inserted");
  EXPECT_EQ(report.findings.front().seq, last.row.seq + 100);
  EXPECT_NE(report.findings.front().message.find("mallory"), std::string::npos);
}

TEST_P(LedgerTest, ReorderedRowsAreNamed) {
  // Swapping two rows' places in the history (their seq numbers).
  const auto all = rows();
  const std::string a = seqOf(all[10]);
  const std::string b = seqOf(all[11]);
  tamper("UPDATE history SET seq = -1 WHERE seq = " + a + "; UPDATE history SET seq = " + a +
         " WHERE seq = " + b + "; UPDATE history SET seq = " + b + " WHERE seq = -1");
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.findings.front().kind, "reordered");
  EXPECT_EQ(report.findings.front().index, 11);
}

TEST_P(LedgerTest, ContentMovedBetweenRowsIsNamedAsReordered) {
  // The event and transition rows of one step share instance, time and actor: swap kind and
  // detail.
  const auto all = rows();
  std::size_t i = 0;
  while (!(all[i].row.kind == "event" && all[i + 1].row.kind == "transition" &&
           all[i].row.actor == all[i + 1].row.actor)) {
    ++i;
  }
  const auto& x = all[i];
  const auto& y = all[i + 1];
  tamper("UPDATE history SET kind = '" + y.row.kind + "', detail = '" + y.row.detail +
         "' WHERE seq = " + seqOf(x) + "; UPDATE history SET kind = '" + x.row.kind +
         "', detail = '" + x.row.detail + "' WHERE seq = " + seqOf(y));
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  const Finding& f = report.findings.front();
  EXPECT_EQ(f.kind, "reordered");
  EXPECT_EQ(f.index, x.index);
  EXPECT_NE(f.message.find("recorded as entry " + std::to_string(y.index)), std::string::npos)
      << f.message;
}

TEST_P(LedgerTest, AForgedCheckpointIsRefused) {
  tamper("UPDATE ledger_checkpoints SET signed_at = signed_at + 1 WHERE size = " +
         std::to_string(first_.size));
  VerifyReport report = verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.findings.front().kind, "checkpoint");
  EXPECT_NE(report.findings.front().message.find("signature does not verify"), std::string::npos);
}

TEST_P(LedgerTest, TheCommandLineVerifiesSignsAndReportsTampering) {
  const std::string key_file =
      (std::filesystem::temp_directory_path() / ("tramite-" + std::to_string(::getpid()) + "-" +
                                                 uri_.substr(uri_.rfind('/') + 1) + ".pub.pem"))
          .string();
  std::ofstream(key_file) << signer_->publicKeyPem();
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(cli::auditCommand({"verify", "--store", uri_, "--key", key_file}, out, err), 0)
      << err.str();
  EXPECT_NE(out.str().find("ok: " + std::to_string(second_.size) + " entries and 2 checkpoints"),
            std::string::npos)
      << out.str();

  runCases(1);
  const std::string private_file = key_file + ".private.pem";
  std::filesystem::remove(private_file);
  std::ostringstream keygen_out;
  ASSERT_EQ(cli::auditCommand({"keygen", "--out", private_file}, keygen_out, err), 0) << err.str();
  EXPECT_EQ(std::filesystem::status(private_file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(cli::auditCommand({"keygen", "--out", private_file}, keygen_out, err), 2)
      << "never over an existing key";
  std::ostringstream signed_out;
  ASSERT_EQ(
      cli::auditCommand({"checkpoint", "--store", uri_, "--key", private_file}, signed_out, err), 0)
      << err.str();
  // One case is 14 entries: start, lifecycle, the initial entry, 5 events with their
  // transitions, and the lifecycle row of its end.
  EXPECT_NE(signed_out.str().find("checkpoint: " + std::to_string(second_.size + 14) + " entries"),
            std::string::npos)
      << signed_out.str();

  tamper("UPDATE history SET actor = 'mallory' WHERE seq = " + seqOf(rows()[40]));
  std::ostringstream bad;
  EXPECT_EQ(cli::auditCommand({"verify", "--store", uri_}, bad, err), 1);
  EXPECT_NE(bad.str().find("TAMPERED"), std::string::npos);
  EXPECT_NE(bad.str().find("entry 40 was altered"), std::string::npos) << bad.str();
  EXPECT_EQ(cli::auditCommand({"verify"}, bad, err), 2);
  std::filesystem::remove(key_file);
  std::filesystem::remove(private_file);
}

INSTANTIATE_TEST_SUITE_P(Dialects, LedgerTest, ::testing::Values("sqlite", "postgresql"),
                         testing::DialectName());

}  // namespace
}  // namespace tramite::audit
