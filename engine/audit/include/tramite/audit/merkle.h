// The ledger's Merkle tree: RFC 6962 (and RFC 9162 section 2.1) over SHA-256, with distinct
// prefixes for leaves (0x00) and interior nodes (0x01). Pure functions and values; no I/O.
// Thread safety: everything here is safe to use from any thread on distinct objects.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tramite/status.h"

namespace tramite::audit {

using Hash = std::array<std::uint8_t, 32>;

// SHA-256 of the bytes.
Hash sha256(std::string_view bytes);
// The same as 64 lowercase hex digits (how documents, blobs and tokens are named).
std::string sha256Hex(std::string_view bytes);
// SHA-256(0x00 || leaf): the hash of one entry's bytes.
Hash leafHash(std::string_view leaf);
// SHA-256(0x01 || left || right).
Hash nodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of no bytes.
Hash emptyRoot();

// Bytes as lowercase hex digits, and back (either case). Errors: kInvalidArgument for an odd
// length or a character that is not a hex digit.
std::string toHex(std::string_view bytes);
Result<std::string> bytesFromHex(std::string_view text);

std::string toHex(const Hash& h);
// Errors: kInvalidArgument unless text is 64 hexadecimal digits.
Result<Hash> hashFromHex(std::string_view text);

// The right edge of a tree: the roots of its complete subtrees, largest (leftmost) first, one
// per bit set in size(). Enough to append leaves and compute the root without the leaves.
class CompactRange {
 public:
  // A complete subtree of 2^level leaves, the index-th of that size from the left.
  using Completed = std::function<void(int level, std::uint64_t index, const Hash& hash)>;

  std::uint64_t size() const { return size_; }
  const std::vector<Hash>& hashes() const { return hashes_; }

  // Adds a leaf hash at index size(); reports every subtree of 2 or more leaves it completes.
  void append(const Hash& leaf, const Completed& completed = nullptr);
  // The tree head (Merkle tree hash) of the size() leaves so far.
  Hash root() const;

  // Text form for storage: the hashes in hex, concatenated.
  std::string toText() const;
  // Errors: kInvalidArgument when the text does not hold one hash per bit set in size.
  static Result<CompactRange> fromText(std::uint64_t size, std::string_view text);

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

// Where proofs read complete subtrees: the hash of the 2^level leaves starting at
// index << level. Errors from the source are passed through.
using SubtreeSource = std::function<Result<Hash>(int level, std::uint64_t index)>;

// The Merkle tree hash of leaves [begin, end) built from complete subtrees (RFC 6962 MTH).
Result<Hash> rangeRoot(std::uint64_t begin, std::uint64_t end, const SubtreeSource& subtree);

// RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves.
// Errors: kInvalidArgument when index >= size.
Result<std::vector<Hash>> inclusionProof(std::uint64_t index, std::uint64_t size,
                                         const SubtreeSource& subtree);
// RFC 9162 2.1.4.1: the proof that the tree of `first` leaves is a prefix of the tree of
// `second` leaves. Errors: kInvalidArgument unless 0 < first <= second.
Result<std::vector<Hash>> consistencyProof(std::uint64_t first, std::uint64_t second,
                                           const SubtreeSource& subtree);

// RFC 9162 2.1.3.2: true when `proof` shows leaf `leaf` at `index` in the tree `root`.
bool verifyInclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size,
                     const std::vector<Hash>& proof, const Hash& root);
// RFC 9162 2.1.4.2: true when `proof` shows first_root (of `first` leaves) is a prefix of
// second_root (of `second` leaves).
bool verifyConsistency(std::uint64_t first, std::uint64_t second, const Hash& first_root,
                       const Hash& second_root, const std::vector<Hash>& proof);

}  // namespace tramite::audit
