// The ledger's Merkle tree (RFC 6962 / RFC 9162), entry encoding and signed checkpoints.
#include "tramite/audit/merkle.h"

#include <gtest/gtest.h>

#include "tramite/audit/checkpoint.h"
#include "tramite/audit/entry.h"

namespace tramite::audit {
namespace {

// Straight from the definition: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
Hash definitionRoot(const std::vector<Hash>& leaves, std::size_t begin, std::size_t end) {
  if (end == begin) return emptyRoot();
  if (end - begin == 1) return leaves[begin];
  std::size_t k = 1;
  while (2 * k < end - begin) k *= 2;
  return nodeHash(definitionRoot(leaves, begin, begin + k), definitionRoot(leaves, begin + k, end));
}

std::vector<Hash> leavesOf(std::size_t n) {
  std::vector<Hash> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(leafHash("entry " + std::to_string(i)));
  return out;
}

SubtreeSource inMemory(const std::vector<Hash>& leaves) {
  return [&leaves](int level, std::uint64_t index) -> Result<Hash> {
    const std::size_t begin = index << level;
    return definitionRoot(leaves, begin, begin + (std::size_t{1} << level));
  };
}

TEST(Merkle, CertificateTransparencyTestVectors) {
  // The leaves and roots of the RFC 6962 reference implementation's tests.
  const std::vector<std::string> data = {"",
                                         std::string("\x00", 1),
                                         "\x10",
                                         "\x20\x21",
                                         "\x30\x31",
                                         "\x40\x41\x42\x43",
                                         "\x50\x51\x52\x53\x54\x55\x56\x57",
                                         "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d"
                                         "\x6e\x6f"};
  const char* const roots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                               "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                               "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                               "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                               "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                               "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                               "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  CompactRange range;
  EXPECT_EQ(toHex(range.root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (std::size_t i = 0; i < data.size(); ++i) {
    range.append(leafHash(data[i]));
    EXPECT_EQ(toHex(range.root()), roots[i]) << "size " << i + 1;
  }
}

TEST(Merkle, CompactRangeMatchesTheDefinitionAndReportsCompletedSubtrees) {
  const auto leaves = leavesOf(70);
  CompactRange range;
  for (std::size_t n = 0; n < leaves.size(); ++n) {
    range.append(leaves[n], [&](int level, std::uint64_t index, const Hash& h) {
      const std::size_t begin = index << level;
      EXPECT_EQ(begin + (std::size_t{1} << level), n + 1) << "a subtree ends at the new leaf";
      EXPECT_EQ(h, definitionRoot(leaves, begin, n + 1));
    });
    ASSERT_EQ(range.root(), definitionRoot(leaves, 0, n + 1)) << "size " << n + 1;
    auto again = CompactRange::fromText(range.size(), range.toText());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->root(), range.root());
  }
  EXPECT_FALSE(CompactRange::fromText(3, range.toText()));  // 70 has 3 bits set, 3 has 2
  EXPECT_FALSE(hashFromHex("zz" + std::string(62, '0')));
}

TEST(Merkle, InclusionProofsVerifyAndAnyChangeBreaksThem) {
  const auto leaves = leavesOf(40);
  for (std::uint64_t size = 1; size <= leaves.size(); ++size) {
    const Hash root = definitionRoot(leaves, 0, size);
    for (std::uint64_t i = 0; i < size; ++i) {
      auto proof = inclusionProof(i, size, inMemory(leaves));
      ASSERT_TRUE(proof);
      ASSERT_TRUE(verifyInclusion(leaves[i], i, size, *proof, root)) << i << " of " << size;
      if (size > 1) {
        EXPECT_FALSE(verifyInclusion(leaves[(i + 1) % size], i, size, *proof, root));
        EXPECT_FALSE(verifyInclusion(leaves[i], (i + 1) % size, size, *proof, root));
      }
      for (std::size_t p = 0; p < proof->size(); ++p) {
        auto bad = *proof;
        bad[p][0] ^= 1;
        EXPECT_FALSE(verifyInclusion(leaves[i], i, size, bad, root));
      }
      auto longer = *proof;
      longer.push_back(root);
      EXPECT_FALSE(verifyInclusion(leaves[i], i, size, longer, root));
    }
  }
  EXPECT_FALSE(inclusionProof(5, 5, inMemory(leaves)));
}

TEST(Merkle, ConsistencyProofsVerifyAndAnyChangeBreaksThem) {
  const auto leaves = leavesOf(40);
  for (std::uint64_t second = 1; second <= leaves.size(); ++second) {
    const Hash second_root = definitionRoot(leaves, 0, second);
    for (std::uint64_t first = 1; first <= second; ++first) {
      const Hash first_root = definitionRoot(leaves, 0, first);
      auto proof = consistencyProof(first, second, inMemory(leaves));
      ASSERT_TRUE(proof);
      ASSERT_TRUE(verifyConsistency(first, second, first_root, second_root, *proof))
          << first << " -> " << second;
      Hash bad_first = first_root;
      bad_first[31] ^= 1;
      Hash bad_second = second_root;
      bad_second[0] ^= 1;
      EXPECT_FALSE(verifyConsistency(first, second, bad_first, second_root, *proof));
      EXPECT_FALSE(verifyConsistency(first, second, first_root, bad_second, *proof));
      for (std::size_t p = 0; p < proof->size(); ++p) {
        auto bad = *proof;
        bad[p][5] ^= 1;
        EXPECT_FALSE(verifyConsistency(first, second, first_root, second_root, bad));
      }
    }
  }
  EXPECT_FALSE(consistencyProof(0, 3, inMemory(leaves)));
  EXPECT_FALSE(consistencyProof(4, 3, inMemory(leaves)));
}

TEST(Ledger, EntryBytesFollowTheFormat) {
  const std::string bytes = entryBytes(LedgerEntry{"i-1", 258, "ana", "event", "{}"});
  const std::string expected = std::string("\x01", 1) + std::string(6, '\0') + "\x01\x02" +
                               std::string("\0\0\0\x03", 4) + "i-1" + std::string("\0\0\0\x03", 4) +
                               "ana" + std::string("\0\0\0\x05", 4) + "event" +
                               std::string("\0\0\0\x02", 4) + "{}";
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(entryLeafHash(LedgerEntry{"i-1", 258, "ana", "event", "{}"}), leafHash(expected));
  // Moving a byte from one field to the next changes the bytes.
  EXPECT_NE(entryBytes(LedgerEntry{"i-1", 258, "an", "aevent", "{}"}), expected);
}

TEST(Checkpoints, SignedWithEd25519AndCheckedWithThePublicKey) {
  auto pem = Signer::generatePem();
  ASSERT_TRUE(pem) << pem.status().toString();
  auto signer = Signer::fromPem(*pem);
  ASSERT_TRUE(signer) << signer.status().toString();
  EXPECT_EQ(signer->keyId().size(), 16u);
  auto verifier = CheckpointVerifier::fromPem(signer->publicKeyPem());
  ASSERT_TRUE(verifier);
  EXPECT_EQ(verifier->keyId(), signer->keyId());
  const Hash root = leafHash("root");
  auto cp = signer->sign(12, root, 1'700'000'000'000);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->signature.size(), 128u);
  EXPECT_TRUE(verifier->verify(*cp));
  EXPECT_EQ(checkpointText(12, root, 1'700'000'000'000),
            "tramite ledger checkpoint v1\n12\n" + toHex(root) + "\n1700000000000\n");

  auto changed = *cp;
  changed.size = 13;
  EXPECT_FALSE(verifier->verify(changed));
  changed = *cp;
  changed.root[0] ^= 1;
  EXPECT_FALSE(verifier->verify(changed));
  changed = *cp;
  changed.signed_at += 1;
  EXPECT_FALSE(verifier->verify(changed));
  changed = *cp;
  changed.signature[10] = changed.signature[10] == '0' ? '1' : '0';
  EXPECT_FALSE(verifier->verify(changed));

  auto other = Signer::fromPem(*Signer::generatePem());
  ASSERT_TRUE(other);
  auto by_other = other->sign(12, root, 1'700'000'000'000);
  EXPECT_FALSE(verifier->verify(*by_other));
  by_other->key_id = verifier->keyId();  // claiming the right key does not help
  EXPECT_FALSE(verifier->verify(*by_other));

  EXPECT_FALSE(Signer::fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
  EXPECT_FALSE(CheckpointVerifier::fromPem("not a key"));
  EXPECT_FALSE(Signer::fromPem(signer->publicKeyPem()));  // a public key cannot sign
}

}  // namespace
}  // namespace tramite::audit
